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

from django.db import transaction
from django.db.models import F, Q, QuerySet

from vardkontakt.booking.external_models import (
    AppointmentChange,
    ChangeKind,
    ChangeSequence,
    ExternalAppointment,
    ExternalAppointmentRequest,
)
from vardkontakt.booking.models import Booking


def _next_number() -> int:
    if not transaction.get_connection().in_atomic_block:
        # In autocommit the number would commit before its change row: a follower could pass it.
        raise RuntimeError("a change is numbered inside the transaction that makes it")
    if not ChangeSequence.objects.filter(pk=1).update(value=F("value") + 1):
        # The row is made by the migration; a database made without it gets it here, once.
        ChangeSequence.objects.bulk_create([ChangeSequence(pk=1, value=0)], ignore_conflicts=True)
        ChangeSequence.objects.filter(pk=1).update(value=F("value") + 1)
    return ChangeSequence.objects.values_list("value", flat=True).get(pk=1)


def booking_change_record(*, booking: Booking, kind: ChangeKind, now: dt.datetime) -> AppointmentChange:
    """A change of the platform's own book, as the last statement of the caller's transaction."""
    return AppointmentChange.objects.create(
        seq=_next_number(),
        unit_id=booking.slot.unit_id,
        patient_id=booking.patient_id,
        kind=kind,
        booking=booking,
        at=now,
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
    return AppointmentChange.objects.create(
        seq=_next_number(),
        unit_id=appointment.unit_id,
        source_system=appointment.source_system,
        patient_id=appointment.patient_id,
        kind=kind,
        external=appointment,
        request=request,
        at=now,
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
