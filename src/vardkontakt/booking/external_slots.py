"""Times the region's other booking systems publish for residents to book on the platform
(issue 17 part 2): their schedules (a practitioner role or service at a unit) and slots, the
short hold on a slot while a resident confirms, and the booking and cancelling of such a slot.

The rules, in one place for every way in (a resident's pages, ``$book``, an Appointment that names
the slot):

- A slot can be had when its source sent it ``free``, it lies ahead, its schedule is active, no
  appointment that is not cancelled or withdrawn holds it, and nobody else's hold is running.
- At most one such appointment per slot is the database's guarantee (the partial unique
  constraint ``external_slot_booked_once``); every path also locks the slot's row first, so the
  second of two at once waits, then sees the first one's appointment and is told so in words.
- A hold is ``held_for``, ``held_by`` and ``held_until`` on the slot: it counts while
  ``held_until`` lies ahead. One that has run out is simply ignored; nothing needs to clear it.
  It is the resident's who made it (``held_by``): a guardian who held a time for a child and
  switches to acting for themself (or another child) may have it, the hold moving with them.
- Booking or cancelling makes an appointment the source reads back: ``_lastUpdated`` moves and
  the change feed gets a numbered "booked" or "cancelled" entry (booking.changes).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking import changes, policy
from vardkontakt.booking.external import (
    ExternalRefused,
    Problem,
    RequestRefused,
    active_appointment,
    held_by_other,
)
from vardkontakt.booking.external_models import (
    FINAL_STATUSES,
    ChangeKind,
    ExternalAppointment,
    ExternalSchedule,
    ExternalSlot,
    ExternalStatus,
    RequestKind,
    RequestStatus,
    SlotStatus,
)
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit

BOOK = "booking.external.book"
CANCEL = "booking.external.cancel"
PUBLISH = "booking.external.import"
# The identifier system of appointments made on the platform (a resident booking a slot, or
# $book without an identifier of the source's own).
PLATFORM_SYSTEM = "https://vardkontakt.example/fhir/identifier/external-booking"
VIA_WEB = "web"
VIA_SOURCE = "source"

TAKEN = _("Someone else has just booked this time. Choose another time.")
HELD = _("Someone else is confirming this time right now. Choose another time, or try again in a few minutes.")
GONE = _("This time can no longer be booked. Choose another time.")
NOT_CANCELLABLE = _("This appointment can no longer be cancelled here. Call the unit.")


def hold_length() -> dt.timedelta:
    return dt.timedelta(minutes=settings.EXTERNAL_SLOT_HOLD_MINUTES)


def _taken() -> Exists:
    return Exists(ExternalAppointment.objects.filter(slot=OuterRef("pk")).exclude(status__in=FINAL_STATUSES))


def shown_status(slot: ExternalSlot, now: dt.datetime) -> str:
    """The slot's status as the source reads it back: busy while an appointment or a running hold
    takes it, otherwise what the source sent."""
    if slot.status == SlotStatus.FREE and (
        active_appointment(slot) is not None or (slot.held_until is not None and slot.held_until > now)
    ):
        return SlotStatus.BUSY
    return slot.status


# --- what the source systems publish -------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleSent:
    identifier: str
    unit: CareUnit
    service_type: str = ""
    practitioner_role: str = ""
    practitioner_hsa_id: str = ""
    active: bool = True

    def values(self) -> dict[str, object]:
        return {
            "unit_id": self.unit.pk,
            "service_type": self.service_type[:200],
            "practitioner_role": self.practitioner_role[:200],
            "practitioner_hsa_id": self.practitioner_hsa_id[:32],
            "active": self.active,
        }


@dataclass(frozen=True)
class SlotSent:
    identifier: str
    # The schedule by the platform's id (Schedule/<id>) or by the source's identifier (which may
    # be one sent in the same Bundle).
    schedule_id: uuid.UUID | None
    schedule_key: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    service_type: str = ""
    bookable_online: bool = False

    def values(self) -> dict[str, object]:
        return {
            "status": self.status,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "service_type": self.service_type[:200],
            "bookable_online": self.bookable_online,
        }


@dataclass(frozen=True)
class Published:
    row: ExternalSchedule | ExternalSlot
    created: bool
    changed: bool


def _update(row: ExternalSchedule | ExternalSlot, new: dict[str, object], now: dt.datetime) -> bool:
    differs = [name for name, value in new.items() if getattr(row, name) != value]
    for name in differs:
        setattr(row, name, new[name])
    if differs:
        row.version += 1
        row.updated_at = now
    return bool(differs)


def scheduling_publish(
    *,
    source_system: str,
    source_name: str,
    schedules: list[tuple[int, ScheduleSent]],
    slots: list[tuple[int, SlotSent]],
    units: frozenset[uuid.UUID] | None,
) -> list[tuple[int, Published]]:
    """Create or update schedules and slots by (source system, identifier), all or none; each
    sent item comes with its index in the send (for the refusal's location).

    Refused (nothing written): a schedule or slot held at a unit the client may not write for
    (forbidden), a schedule moved to another unit (business-rule), a slot naming a schedule the
    source does not hold (not-found), a booked slot moved in time, to another schedule or withdrawn
    (business-rule: cancel the appointment first). Schedules and slots name no resident, so
    publishing them is not in the audit log; booking one is."""
    now = timezone.now()
    problems: list[Problem] = []
    done: list[tuple[int, Published]] = []
    with transaction.atomic():
        held = {
            row.identifier: row
            for row in ExternalSchedule.objects.select_for_update()
            .filter(source_system=source_system, identifier__in=[s.identifier for _, s in schedules])
            .order_by("identifier")
        }
        by_key: dict[str, ExternalSchedule] = {}
        for index, item in schedules:
            row = held.get(item.identifier)
            if row is None:
                row = ExternalSchedule(
                    source_system=source_system,
                    source_name=source_name[:200],
                    identifier=item.identifier,
                    created_at=now,
                    updated_at=now,
                    **item.values(),
                )
                by_key[item.identifier] = row
                done.append((index, Published(row, created=True, changed=True)))
                continue
            if units is not None and row.unit_id not in units:
                problems.append(
                    Problem(index, "the schedule is held at a care unit this client may not write for", "forbidden")
                )
                continue
            if row.unit_id != item.unit.pk and row.slots.exists():
                problems.append(
                    Problem(
                        index, "a schedule with slots stays at its care unit: publish a new schedule", "business-rule"
                    )
                )
                continue
            row.source_name = source_name[:200]
            changed = _update(row, item.values(), now)
            by_key[item.identifier] = row
            done.append((index, Published(row, created=False, changed=changed)))
        if problems:
            raise ExternalRefused(problems)
        for _index, published in done:
            if published.created:
                try:
                    with transaction.atomic():
                        published.row.save(force_insert=True)
                except IntegrityError:
                    raise ExternalRefused(
                        [Problem(_index, "the schedule was created by another request at the same moment", "conflict")]
                    ) from None
            elif published.changed:
                published.row.save()
        done += _publish_slots(source_system, slots, by_key, units, now, problems)
        if problems:
            raise ExternalRefused(problems)
    return done


def _publish_slots(
    source_system: str,
    slots: list[tuple[int, SlotSent]],
    by_key: dict[str, ExternalSchedule],
    units: frozenset[uuid.UUID] | None,
    now: dt.datetime,
    problems: list[Problem],
) -> list[tuple[int, Published]]:
    if not slots:
        return []
    held = {
        row.identifier: row
        for row in ExternalSlot.objects.select_for_update()
        .filter(source_system=source_system, identifier__in=[s.identifier for _, s in slots])
        .order_by("identifier")
    }
    wanted_keys = {s.schedule_key for _, s in slots if s.schedule_key and s.schedule_key not in by_key}
    wanted_ids = {s.schedule_id for _, s in slots if s.schedule_id}
    for found in ExternalSchedule.objects.filter(
        Q(identifier__in=wanted_keys) | Q(pk__in=wanted_ids), source_system=source_system
    ):
        by_key.setdefault(found.identifier, found)
    by_id = {schedule.pk: schedule for schedule in by_key.values()}
    done: list[tuple[int, Published]] = []
    for index, item in slots:
        schedule: ExternalSchedule | None = (
            by_id.get(item.schedule_id) if item.schedule_id else by_key.get(item.schedule_key)
        )
        if schedule is None:
            problems.append(Problem(index, "the slot's schedule is not one this source system published", "not-found"))
            continue
        if units is not None and schedule.unit_id not in units:
            problems.append(Problem(index, "the schedule is at a care unit this client may not write for", "forbidden"))
            continue
        row = held.get(item.identifier)
        if row is None:
            row = ExternalSlot(
                source_system=source_system,
                identifier=item.identifier,
                schedule=schedule,
                created_at=now,
                updated_at=now,
                **item.values(),
            )
            done.append((index, Published(row, created=True, changed=True)))
            continue
        new = {**item.values(), "schedule_id": schedule.pk}
        booked = active_appointment(row)
        if booked is not None and (
            new["starts_at"] != row.starts_at
            or new["ends_at"] != row.ends_at
            or schedule.pk != row.schedule_id
            or item.status == SlotStatus.ENTERED_IN_ERROR
        ):
            problems.append(
                Problem(
                    index,
                    "the slot is booked: cancel or move its appointment before moving or withdrawing the slot",
                    "business-rule",
                )
            )
            continue
        changed = _update(row, new, now)
        done.append((index, Published(row, created=False, changed=changed)))
    if problems:
        return done
    for index, published in done:
        if published.created:
            try:
                with transaction.atomic():
                    published.row.save(force_insert=True)
            except IntegrityError:
                problems.append(
                    Problem(index, "the slot was created by another request at the same moment", "conflict")
                )
        elif published.changed:
            published.row.save()
    return done


# --- residents -----------------------------------------------------------------------------------


class SlotRefused(RequestRefused):
    """Nothing was held or booked: the message says why in the resident's words."""


def offered_slots(
    unit: CareUnit, *, subject: Patient | None = None, reader: Patient | None = None, now: dt.datetime | None = None
) -> QuerySet[ExternalSlot]:
    """Slots residents may book online at the unit now (a running hold for the subject, or made by
    the reader, counts as free)."""
    now = now or timezone.now()
    not_held = Q(held_until__isnull=True) | Q(held_until__lte=now)
    if subject is not None:
        not_held |= Q(held_for=subject)
    if reader is not None:
        not_held |= Q(held_by=reader)
    return (
        ExternalSlot.objects.filter(
            not_held,
            schedule__unit=unit,
            schedule__active=True,
            status=SlotStatus.FREE,
            bookable_online=True,
            starts_at__gt=now,
        )
        .exclude(_taken())
        .select_related("schedule")
    )


def schedules_with_offered_slots() -> QuerySet[ExternalSchedule]:
    """Active schedules with a free, future, bookable-online slot that no appointment takes."""
    now = timezone.now()
    free = ExternalSlot.objects.filter(
        schedule=OuterRef("pk"), status=SlotStatus.FREE, bookable_online=True, starts_at__gt=now
    ).exclude(_taken())
    return ExternalSchedule.objects.filter(Exists(free), active=True)


def schedules_offered(unit: CareUnit) -> list[tuple[ExternalSchedule, int]]:
    """The unit's published schedules with times residents may book, each with how many."""
    counted: dict[uuid.UUID, int] = {}
    for schedule_id in offered_slots(unit).values_list("schedule_id", flat=True)[:5000]:
        counted[schedule_id] = counted.get(schedule_id, 0) + 1
    schedules = ExternalSchedule.objects.filter(pk__in=counted).order_by("service_type", "practitioner_role")
    return [(schedule, counted[schedule.pk]) for schedule in schedules]


def offered_schedule(unit: CareUnit, schedule_id: uuid.UUID | str) -> ExternalSchedule:
    found = ExternalSchedule.objects.filter(pk=schedule_id, unit=unit, active=True).first()
    if found is None:
        raise Http404
    return found


def _bookable(slot: ExternalSlot, now: dt.datetime) -> bool:
    return (
        slot.status == SlotStatus.FREE
        and slot.bookable_online
        and slot.schedule.active
        and slot.starts_at > now
        and active_appointment(slot) is None
    )


def _locked_slot(slot_id: uuid.UUID | str, unit: CareUnit) -> ExternalSlot:
    slot = (
        ExternalSlot.objects.select_for_update(of=("self",))
        .select_related("schedule__unit")
        .filter(pk=slot_id, schedule__unit=unit)
        .first()
    )
    if slot is None:
        raise Http404
    return slot


def slot_hold(*, reader: Patient, subject: Patient, unit: CareUnit, slot_id: uuid.UUID | str) -> ExternalSlot:
    """Hold the slot for the subject while the reader confirms (the hold runs for the setting's
    minutes and then simply no longer counts). Asking again while one's own hold runs keeps its end:
    reloading the page never stretches a hold, so nobody keeps a time from others for longer."""
    if not policy.patient_may_book_for(reader, subject):
        raise Http404
    now = timezone.now()
    with transaction.atomic():
        slot = _locked_slot(slot_id, unit)
        if not _bookable(slot, now):
            raise SlotRefused(str(TAKEN if active_appointment(slot) else GONE), unit)
        if _held_by_someone_else(slot, reader, subject, now):
            raise SlotRefused(str(HELD), unit)
        running = slot.held_until is not None and slot.held_until > now
        if running and slot.held_for_id == subject.pk:
            return slot
        if running and slot.held_by_id == reader.pk:
            # The reader switched whom they act for: the hold moves to the new subject and keeps
            # its end (switching back and forth never stretches it either).
            slot.held_for = subject
            slot.save(update_fields=["held_for"])
            return slot
        slot.held_for, slot.held_by = subject, reader
        slot.held_until = now + hold_length()
        slot.save(update_fields=["held_for", "held_by", "held_until"])
    return slot


def _held_by_someone_else(slot: ExternalSlot, reader: Patient, subject: Patient, now: dt.datetime) -> bool:
    """A running hold neither for the subject nor made by the reader."""
    return held_by_other(slot, subject, now) and slot.held_by_id != reader.pk


def slot_book_online(
    *, reader: Patient, subject: Patient, unit: CareUnit, slot_id: uuid.UUID | str
) -> ExternalAppointment:
    """Book the slot for the subject: an appointment of the slot's source system, status booked,
    which the source reads back. The same confirmation sent twice books once."""
    if not policy.patient_may_book_for(reader, subject):
        raise Http404
    now = timezone.now()
    with transaction.atomic():
        slot = _locked_slot(slot_id, unit)
        holder = active_appointment(slot)
        if holder is not None and holder.patient_id == subject.pk and holder.booked_via == VIA_WEB:
            return holder  # a double click: the first click's booking
        if holder is not None:
            raise SlotRefused(str(TAKEN), unit)
        if not _bookable(slot, now):
            raise SlotRefused(str(GONE), unit)
        if _held_by_someone_else(slot, reader, subject, now):
            raise SlotRefused(str(HELD), unit)
        schedule = slot.schedule
        row = ExternalAppointment(
            source_system=slot.source_system,
            source_name=schedule.source_name,
            identifier=f"{PLATFORM_SYSTEM}|{uuid.uuid4()}",
            patient=subject,
            unit=schedule.unit,
            status=ExternalStatus.BOOKED,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            service_type=(slot.service_type or schedule.service_type)[:200],
            practitioner_role=schedule.practitioner_role,
            practitioner_hsa_id=schedule.practitioner_hsa_id,
            slot=slot,
            booked_via=VIA_WEB,
            booked_by=reader,
            created_at=now,
            updated_at=now,
        )
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:  # the lock above makes this unreachable; the constraint is the guarantee
            raise SlotRefused(str(TAKEN), unit) from None
        slot.held_for, slot.held_by, slot.held_until = None, None, None
        slot.save(update_fields=["held_for", "held_by", "held_until"])
        audit(
            actor=Actor.of_patient(reader),
            action=BOOK,
            patient=subject,
            on_behalf_of=subject,
            obj=row,
            unit=row.unit,
        )
        changes.external_change_record(appointment=row, request=None, kind=ChangeKind.BOOKED, now=now)
    return row


def may_cancel_online(row: ExternalAppointment, now: dt.datetime) -> bool:
    """An appointment of a slot the source offered online may be cancelled online, until it starts."""
    return bool(
        row.slot_id is not None and row.booked_via and row.is_open and row.starts_at > now and row.slot.bookable_online  # type: ignore[union-attr]
    )


def external_cancel_online(*, actor: Patient, appointment_id: uuid.UUID | str) -> ExternalAppointment:
    """The resident cancels an appointment booked in a published slot: the slot is free again
    and the source reads the cancellation back. Cancelling twice cancels once."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            ExternalAppointment.objects.select_for_update(of=("self",))
            .select_related("patient", "unit", "slot")
            .filter(pk=appointment_id)
            .first()
        )
        if row is None or not policy.patient_may_book_for(actor, row.patient):
            raise Http404
        if row.status == ExternalStatus.CANCELLED and row.slot_id is not None:
            return row  # cancelled already (a double click)
        if not may_cancel_online(row, now):
            raise RequestRefused(str(NOT_CANCELLABLE), row.unit)
        row.status = ExternalStatus.CANCELLED
        row.cancellation_reason = "cancelled online by the resident"
        row.version += 1
        row.updated_at = now
        row.save(update_fields=["status", "cancellation_reason", "version", "updated_at"])
        row.requests.filter(status=RequestStatus.OPEN).update(status=RequestStatus.ENDED, answered_at=now)
        audit(
            actor=Actor.of_patient(actor),
            action=CANCEL,
            patient=row.patient,
            on_behalf_of=row.patient,
            obj=row,
            unit=row.unit,
        )
        changes.external_change_record(appointment=row, request=None, kind=ChangeKind.CANCELLED, now=now)
    return row


# --- the source system: an appointment naming a slot, and $cancel ---------------------------------


def external_cancel_by_source(*, row: ExternalAppointment, reason: str, actor: Actor) -> ExternalAppointment:
    """``$cancel``: the source cancels one of its appointments (its slot, if any, is free again).
    Cancelling a cancelled one changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            ExternalAppointment.objects.select_for_update(of=("self",)).select_related("patient", "unit").get(pk=row.pk)
        )
        if row.status == ExternalStatus.CANCELLED:
            return row
        if not row.is_open and row.status not in (ExternalStatus.ARRIVED, ExternalStatus.CHECKED_IN):
            raise ExternalRefused(
                [Problem(0, f"the appointment is {row.status}: it cannot be cancelled", "business-rule")]
            )
        row.status = ExternalStatus.CANCELLED
        row.cancellation_reason = reason.strip()[:300]
        row.version += 1
        row.updated_at = now
        row.save(update_fields=["status", "cancellation_reason", "version", "updated_at"])
        for request in row.requests.filter(status=RequestStatus.OPEN):
            request.status = RequestStatus.DONE if request.kind == RequestKind.CANCEL else RequestStatus.ENDED
            request.answered_at = now
            request.save(update_fields=["status", "answered_at"])
        audit(actor=actor, action=PUBLISH, patient=row.patient, obj=row, unit=row.unit, detail="Appointment cancelled")
    return row
