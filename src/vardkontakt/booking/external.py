"""The region's other booking systems' appointments: written by their source system (through the
FHIR interface, fhir/appointments), read by residents beside the platform's own bookings, and
asked to be cancelled or moved by residents (a request that goes back to the source system
through the change feed, booking.changes).

Writes here follow the record import's rules: upsert by the source's business identifier, all
of a send or nothing of it, a source system only at its own units, every patient touched logged
with the source system as the actor.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.access.audit import Actor, AuditLine, audit, audit_many
from vardkontakt.booking import changes, notices, policy
from vardkontakt.booking.external_models import (
    FINAL_STATUSES,
    ChangeKind,
    ExternalAppointment,
    ExternalAppointmentRequest,
    ExternalSlot,
    ExternalStatus,
    RequestKind,
    RequestStatus,
)
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit

IMPORT = "booking.external.import"
REQUEST = "booking.external.request"
READ = "booking.external.read"

# What a source sends of an appointment, compared field by field to tell a change from a resend.
_FIELDS = (
    "status",
    "starts_at",
    "ends_at",
    "service_type",
    "practitioner_role",
    "practitioner_hsa_id",
    "patient_instruction",
    "unit_id",
)


@dataclass(frozen=True)
class ExternalSent:
    """One appointment as its source system sent it, already read and checked (fhir/appointments)."""

    identifier: str  # system|value
    patient: Patient
    unit: CareUnit
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    service_type: str = ""
    practitioner_role: str = ""
    practitioner_hsa_id: str = ""
    patient_instruction: str = ""
    # The published slot the appointment takes (Appointment.slot, or $book).
    slot: ExternalSlot | None = None

    def values(self) -> dict[str, object]:
        return {
            "status": self.status,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "service_type": self.service_type[:200],
            "practitioner_role": self.practitioner_role[:200],
            "practitioner_hsa_id": self.practitioner_hsa_id[:32],
            "patient_instruction": self.patient_instruction[:2000],
            "unit_id": self.unit.pk,
        }


@dataclass(frozen=True)
class Problem:
    index: int  # which of the sent appointments
    message: str
    code: str  # FHIR issue type: conflict, business-rule, forbidden


class ExternalRefused(Exception):
    """Nothing was written: each problem names the appointment it is about."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Upserted:
    row: ExternalAppointment
    created: bool
    changed: bool


def _answer_requests(row: ExternalAppointment, *, moved: bool, now: dt.datetime) -> None:
    """The source's update answers the resident's open request: cancelled answers a cancellation,
    a new time a move (done); any other end of the appointment ends the request unanswered."""
    for request in row.requests.filter(status=RequestStatus.OPEN):
        done = (request.kind == RequestKind.CANCEL and row.status == ExternalStatus.CANCELLED) or (
            request.kind == RequestKind.REBOOK and moved and row.is_open
        )
        ended = not row.is_open
        if done or ended:
            request.status = RequestStatus.DONE if done else RequestStatus.ENDED
            request.answered_at = now
            request.save(update_fields=["status", "answered_at"])


def external_appointments_upsert(
    *,
    source_system: str,
    source_name: str,
    sent: list[ExternalSent],
    units: frozenset[uuid.UUID] | None,
    actor: Actor,
) -> list[Upserted]:
    """Create or update each appointment by (source system, identifier), all or none.

    Refused (nothing written): an identifier held for another patient (conflict), a cancelled or
    withdrawn appointment brought back (business-rule: a new appointment gets a new identifier),
    an appointment held at a unit the source may not write for (forbidden). Sending the same thing
    again changes nothing and is logged as such."""
    now = timezone.now()
    with transaction.atomic():
        held = {
            row.identifier: row
            for row in ExternalAppointment.objects.select_for_update()
            .filter(source_system=source_system, identifier__in=[item.identifier for item in sent])
            .order_by("identifier")
        }
        problems: list[Problem] = []
        result: list[Upserted] = []
        slots = _locked_slots(sent)
        for index, item in enumerate(sent):
            row = held.get(item.identifier)
            slot = slots.get(item.slot.pk) if item.slot is not None else None
            if row is None:
                if slot is not None and item.status not in FINAL_STATUSES:
                    problem = _slot_problem(slot, item, now)
                    if problem is not None:
                        problems.append(Problem(index, problem.message, problem.code))
                        continue
                row = ExternalAppointment(
                    source_system=source_system,
                    source_name=source_name[:200],
                    identifier=item.identifier,
                    patient=item.patient,
                    created_at=now,
                    updated_at=now,
                    slot=slot,
                    booked_via="source" if slot is not None else "",
                    **item.values(),
                )
                result.append(Upserted(row, created=True, changed=True))
                continue
            if item.slot is not None and item.slot.pk != row.slot_id:
                problems.append(
                    Problem(index, "an appointment keeps its slot: cancel it and book the other slot", "business-rule")
                )
                continue
            if units is not None and row.unit_id not in units:
                problems.append(
                    Problem(index, "the appointment is held at a care unit this client may not write for", "forbidden")
                )
                continue
            if row.patient_id != item.patient.pk:
                problems.append(
                    Problem(index, "the identifier is held for an appointment of another patient", "conflict")
                )
                continue
            if row.status in FINAL_STATUSES and item.status != row.status:
                problems.append(
                    Problem(
                        index,
                        f"the appointment is {row.status} and stays so: a new appointment needs a new identifier",
                        "business-rule",
                    )
                )
                continue
            new = item.values()
            differs = [name for name in _FIELDS if getattr(row, name) != new[name]]
            if differs:
                moved = "starts_at" in differs or "ends_at" in differs
                if "starts_at" in differs or (row.status == ExternalStatus.BOOKED and new["status"] != row.status):
                    # Moved, cancelled or no longer booked: a reminder of the old time not yet sent
                    # does not go (the new time gets its own).
                    notices.withdraw_external_reminder(row)
                for name in differs:
                    setattr(row, name, new[name])
                row.source_name = source_name[:200]
                row.version += 1
                row.updated_at = now
                _answer_requests(row, moved=moved, now=now)
            result.append(Upserted(row, created=False, changed=bool(differs)))
        if problems:
            raise ExternalRefused(problems)
        for index, upserted in enumerate(result):
            if upserted.created:
                try:
                    with transaction.atomic():
                        upserted.row.save(force_insert=True)
                except IntegrityError:
                    # The same new identifier (or slot) sent twice at once: the other request made it first.
                    raise ExternalRefused(
                        [
                            Problem(
                                index, "the appointment was created by another request at the same moment", "conflict"
                            )
                        ]
                    ) from None
                if upserted.row.slot is not None and upserted.row.slot.held_until is not None:
                    ExternalSlot.objects.filter(pk=upserted.row.slot.pk).update(
                        held_for=None, held_by=None, held_until=None
                    )
            elif upserted.changed:
                upserted.row.save(update_fields=[*(n for n in _FIELDS), "source_name", "version", "updated_at"])
        _audit(result, actor=actor)
        return result


def _locked_slots(sent: list[ExternalSent]) -> dict[uuid.UUID, ExternalSlot]:
    """The slots the send names, locked (in one order, so two sends never wait on each other)."""
    wanted = sorted({item.slot.pk for item in sent if item.slot is not None})
    if not wanted:
        return {}
    rows = ExternalSlot.objects.select_for_update(of=("self",)).select_related("schedule").filter(pk__in=wanted)
    return {row.pk: row for row in rows.order_by("pk")}


def _slot_problem(slot: ExternalSlot, item: ExternalSent, now: dt.datetime) -> Problem | None:
    return slot_problem(slot, patient=item.patient, unit=item.unit, start=item.starts_at, end=item.ends_at, now=now)


def active_appointment(slot: ExternalSlot) -> ExternalAppointment | None:
    """The appointment that takes the slot (not cancelled or withdrawn), if any."""
    return slot.appointments.exclude(status__in=FINAL_STATUSES).first()


def held_by_other(slot: ExternalSlot, patient: Patient | None, now: dt.datetime) -> bool:
    """Whether a hold for someone other than the patient is running (one run out counts for nothing)."""
    running = slot.held_until is not None and slot.held_until > now
    return running and (patient is None or slot.held_for_id != patient.pk)


def slot_problem(
    slot: ExternalSlot, *, patient: Patient, unit: CareUnit, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> Problem | None:
    """Why an appointment the source sends may not take this (locked) slot, or None. (The slots'
    other rules: booking.external_slots.)"""
    if slot.schedule.unit_id != unit.pk:
        return Problem(0, "the slot is at another care unit than the appointment's", "business-rule")
    if slot.starts_at != start or slot.ends_at != end:
        return Problem(0, "the appointment's start and end must be the slot's", "business-rule")
    if active_appointment(slot) is not None:
        return Problem(0, "the slot is already booked", "conflict")
    if slot.status != "free":
        return Problem(0, f"the slot is {slot.status}, not free", "conflict")
    if held_by_other(slot, patient, now):
        return Problem(0, "a resident is confirming this slot right now (held until the hold runs out)", "conflict")
    return None


def _audit(result: list[Upserted], *, actor: Actor) -> None:
    """One entry per patient and unit touched, saying what was done, with the source as the actor."""
    touched: dict[tuple[uuid.UUID, uuid.UUID], tuple[ExternalAppointment, Counter[str]]] = {}
    for upserted in result:
        row = upserted.row
        what = "created" if upserted.created else "updated" if upserted.changed else "unchanged"
        key = (row.patient_id, row.unit_id)
        touched.setdefault(key, (row, Counter()))[1][f"Appointment {what}"] += 1
    lines = []
    for row, counted in touched.values():
        detail = "; ".join(f"{what}: {count}" for what, count in sorted(counted.items()))
        only = row if sum(counted.values()) == 1 else None
        lines.append(AuditLine(row.patient, only, row.unit, detail, object_type="" if only else "ExternalAppointment"))
    audit_many(actor=actor, action=IMPORT, lines=lines)


# --- residents ------------------------------------------------------------------------------------


class RequestRefused(Exception):
    """Nothing was asked: the message says why in the resident's words."""

    def __init__(self, message: str, unit: CareUnit | None = None) -> None:
        super().__init__(message)
        self.message, self.unit = message, unit

    def __str__(self) -> str:
        return str(self.message)


NOT_OPEN = _("The appointment is no longer coming, so there is nothing to cancel or move.")
ALREADY_ASKED = _("You have already asked the unit about this appointment. The unit answers by changing it.")


def external_request_create(
    *, appointment_id: uuid.UUID | str, actor: Patient, kind: str, note: str = "", form_key: str | None = None
) -> ExternalAppointmentRequest:
    """``actor`` asks the source system to cancel or move an appointment of someone they may book
    for (anyone else's: 404). One open request per appointment; the same form twice is one request."""
    if kind not in RequestKind.values:
        raise Http404
    now = timezone.now()
    with transaction.atomic():
        row = (
            ExternalAppointment.objects.select_for_update(of=("self",))
            .select_related("patient", "unit")
            .filter(pk=appointment_id)
            .first()
        )
        if row is None or not policy.patient_may_book_for(actor, row.patient):
            raise Http404
        if form_key and (earlier := ExternalAppointmentRequest.objects.filter(form_key=form_key).first()):
            return earlier  # the same form again: it waited for the first one's lock on the appointment
        if not row.is_open or row.starts_at <= now:
            raise RequestRefused(str(NOT_OPEN), row.unit)
        if row.requests.filter(status=RequestStatus.OPEN).exists():
            raise RequestRefused(str(ALREADY_ASKED), row.unit)
        try:
            with transaction.atomic():
                request = ExternalAppointmentRequest.objects.create(
                    appointment=row,
                    kind=kind,
                    note=note.strip()[:300],
                    asked_by=actor,
                    asked_at=now,
                    form_key=form_key or None,
                )
        except IntegrityError:  # another path asked meanwhile; the lock above should prevent it
            raise RequestRefused(str(ALREADY_ASKED), row.unit) from None
        audit(
            actor=Actor.of_patient(actor),
            action=REQUEST,
            patient=row.patient,
            on_behalf_of=row.patient,
            obj=row,
            unit=row.unit,
            detail=kind,
        )
        change = ChangeKind.CANCEL_REQUESTED if kind == RequestKind.CANCEL else ChangeKind.REBOOK_REQUESTED
        changes.external_change_record(appointment=row, request=request, kind=change, now=now)
        return request


def external_for_reader(*, reader: Patient, appointment_id: uuid.UUID | str) -> ExternalAppointment:
    """An external appointment of someone the reader may book for, logged as read; else 404."""
    row = ExternalAppointment.objects.select_related("patient", "unit").filter(pk=appointment_id).first()
    if row is None or not policy.patient_may_book_for(reader, row.patient):
        raise Http404
    audit(
        actor=Actor.of_patient(reader),
        action=READ,
        patient=row.patient,
        on_behalf_of=row.patient,
        obj=row,
        unit=row.unit,
    )
    return row


def open_request_of(row: ExternalAppointment) -> ExternalAppointmentRequest | None:
    return row.requests.filter(status=RequestStatus.OPEN).first()


def externals_of(subject: Patient, *, now: dt.datetime) -> tuple[list[ExternalAppointment], list[ExternalAppointment]]:
    """(coming, earlier and ended newest first) of the subject's external appointments, each with
    ``open_request`` set; for a selector that has asked the policy and logs the read."""
    rows = list(
        ExternalAppointment.objects.filter(patient=subject)
        .exclude(status=ExternalStatus.ENTERED_IN_ERROR)
        .select_related("unit")
        .prefetch_related("requests")
    )
    for row in rows:
        row.open_request = next((r for r in row.requests.all() if r.status == RequestStatus.OPEN), None)  # type: ignore[attr-defined]
    coming = sorted((r for r in rows if r.is_open and r.starts_at >= now), key=lambda r: r.starts_at)
    rest = sorted((r for r in rows if not (r.is_open and r.starts_at >= now)), key=lambda r: r.starts_at, reverse=True)
    return coming, rest[:50]


def held_by(*, source_system: str, units: frozenset[uuid.UUID] | None) -> Q:
    """The external appointments a source system reads back: its own, at its units."""
    mine = Q(source_system=source_system)
    return mine if units is None else mine & Q(unit__in=units)
