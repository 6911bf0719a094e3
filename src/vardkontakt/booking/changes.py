"""The change feed the region's booking systems follow: every change of an appointment that the
platform makes (a resident books, moves or cancels in the platform's own book, or asks a source
system to cancel or move one of its appointments) gets the next number of one sequence.

Why a number cannot be missed: the number is taken by incrementing the single ChangeSequence row,
which locks it (on PostgreSQL a row lock, on SQLite the database's one writer) until the
transaction ends. A second transaction waits there, so it takes the next number only after the
first has committed (or rolled back, and then reuses its number). Numbers therefore become
visible in order, with no gaps: whoever has read every change up to N and asks for the changes
after N gets, now or later, every change with a greater number. (A sequence or an auto-increment
would not do: two transactions take 7 and 8, 8 commits first, a follower reads 8 and moves on,
then 7 commits behind it.)

The lock is held from the increment to the commit, so every service takes it as its last step.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from vardkontakt.booking.external_models import (
    AppointmentChange,
    ChangeKind,
    ChangeSequence,
    ExternalAppointment,
    ExternalAppointmentRequest,
)
from vardkontakt.booking.models import Booking


def _in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        # In autocommit the number would commit before its change row: a follower could pass it.
        raise RuntimeError("a change is numbered inside the transaction that makes it")


def _increment() -> str:
    table, qn = ChangeSequence._meta.db_table, connection.ops.quote_name
    return f"UPDATE {qn(table)} SET {qn('value')} = {qn('value')} + 1 WHERE {qn('id')} = 1 RETURNING {qn('value')}"  # noqa: S608 (constants only)


def _next_number() -> int:
    """One statement: the increment (which takes the row's lock) gives the number back."""
    _in_transaction()
    with connection.cursor() as cursor:
        cursor.execute(_increment())
        row = cursor.fetchone()
        if row is None:
            # The row is made by the migration; a database made without it gets it here, once.
            ChangeSequence.objects.bulk_create([ChangeSequence(pk=1, value=0)], ignore_conflicts=True)
            cursor.execute(_increment())
            row = cursor.fetchone()
    return int(row[0])


def _record(change: AppointmentChange) -> AppointmentChange:
    """Number ``change`` and insert it. On PostgreSQL one statement: the increment in a CTE and the
    row inserted with its number (none when the sequence's row is missing; then as elsewhere: the
    number first, then the row)."""
    _in_transaction()
    if connection.vendor == "postgresql":
        meta, qn = AppointmentChange._meta, connection.ops.quote_name
        fields = [field for field in meta.concrete_fields if field is not meta.pk]
        seq, columns = qn("seq"), ", ".join(qn(str(field.column)) for field in fields)
        values = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in fields)
        statement = (
            f"WITH n AS ({_increment()}) INSERT INTO {qn(meta.db_table)} ({seq}, {columns}) "  # noqa: S608 (names and types of the model; values are parameters)
            f"SELECT n.{qn('value')}, {values} FROM n RETURNING {seq}"
        )
        params = [field.get_db_prep_save(getattr(change, field.attname), connection) for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
        if row is not None:
            change.seq = int(row[0])
            change._state.adding, change._state.db = False, connection.alias
            return change
    change.seq = _next_number()
    change.save(force_insert=True)
    return change


def booking_change_record(*, booking: Booking, kind: ChangeKind, now: dt.datetime) -> AppointmentChange:
    """A change of the platform's own book, as the last statement of the caller's transaction."""
    return _record(
        AppointmentChange(
            unit_id=booking.slot.unit_id,
            patient_id=booking.patient_id,
            kind=kind,
            booking=booking,
            at=now,
        )
    )


def external_change_record(
    *,
    appointment: ExternalAppointment,
    request: ExternalAppointmentRequest | None,
    kind: ChangeKind,
    now: dt.datetime,
) -> AppointmentChange:
    """A resident's request about an external appointment, or a resident booking or cancelling one
    in a published slot (no request), as the last statement of the transaction."""
    return _record(
        AppointmentChange(
            unit_id=appointment.unit_id,
            source_system=appointment.source_system,
            patient_id=appointment.patient_id,
            kind=kind,
            external=appointment,
            request=request,
            at=now,
        )
    )


def changes_for(*, units: frozenset[uuid.UUID], source_system: str) -> QuerySet[AppointmentChange]:
    """The changes a booking system may follow: the platform's own book at its units, and the
    requests about its own appointments there."""
    mine = Q(external__isnull=True) | Q(source_system=source_system)
    return (
        AppointmentChange.objects.filter(mine, unit__in=units)
        .select_related(
            "unit",
            "patient",
            "booking__slot__unit",
            "booking__slot__visit_type",
            "booking__slot__practitioner",
            "booking__patient",
            "external__unit",
            "external__patient",
            "request",
        )
        .order_by("seq")
    )


def last_number() -> int:
    return ChangeSequence.objects.filter(pk=1).values_list("value", flat=True).first() or 0
