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
import functools
import uuid
from typing import Any

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
from vardkontakt.core.one_statement import OneStatement


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


@functools.cache
def _numbered_insert_text() -> str:
    """The change row inserted with the number its ``change_number`` part took (PostgreSQL)."""
    meta, qn = AppointmentChange._meta, connection.ops.quote_name
    fields = _fields()
    seq, columns = qn("seq"), ", ".join(qn(str(field.column)) for field in fields)
    values = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in fields)
    return (
        f"INSERT INTO {qn(meta.db_table)} ({seq}, {columns}) "  # noqa: S608 (names and types of the model; values are parameters)
        f"SELECT change_number.{qn('value')}, {values} FROM change_number RETURNING {seq}"
    )


@functools.cache
def _fields() -> list[Any]:
    meta = AppointmentChange._meta
    return [field for field in meta.concrete_fields if field is not meta.pk]


def record_parts(statement: OneStatement, change: AppointmentChange) -> OneStatement:
    """Add to ``statement`` (PostgreSQL) the increment of the sequence (``change_number``) and the
    insert of ``change`` with that number (``change_row``, which gives back ``seq``; no row when the
    sequence's row is missing: then numbered as elsewhere, see numbered_after)."""
    _in_transaction()
    params = [field.get_db_prep_save(getattr(change, field.attname), connection) for field in _fields()]
    return statement.add("change_number", _increment()).add("change_row", _numbered_insert_text(), params)


def numbered_after(change: AppointmentChange, seq: int | None) -> AppointmentChange:
    """After record_parts' statement: ``change`` has the number it was given, or (the sequence's
    row missing) is numbered and inserted now."""
    if seq is not None:
        change.seq = int(seq)
        change._state.adding, change._state.db = False, connection.alias
        return change
    change.seq = _next_number()
    change.save(force_insert=True)
    return change


def _record(change: AppointmentChange) -> AppointmentChange:
    """Number ``change`` and insert it. On PostgreSQL one statement: the increment in a CTE and the
    row inserted with its number (none when the sequence's row is missing; then as elsewhere: the
    number first, then the row)."""
    _in_transaction()
    if connection.vendor == "postgresql":
        rows = record_parts(OneStatement(), change).run("SELECT seq FROM change_row")
        return numbered_after(change, rows[0][0] if rows else None)
    return numbered_after(change, None)


def booking_change_record(*, booking: Booking, kind: ChangeKind, now: dt.datetime) -> AppointmentChange:
    """A change of the platform's own book, as the last statement of the caller's transaction."""
    return _record(booking_change(booking=booking, kind=kind, now=now))


def booking_change(*, booking: Booking, kind: ChangeKind, now: dt.datetime) -> AppointmentChange:
    """The change row of a change of the platform's own book, not yet numbered or written."""
    return AppointmentChange(
        unit_id=booking.slot.unit_id, patient_id=booking.patient_id, kind=kind, booking=booking, at=now
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
