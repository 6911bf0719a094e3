"""Reads of the appointment book for residents: each takes the reader (the logged-in resident)
and the subject (whose bookings: themself or someone they act for), asks the policy, answers 404
when the reader may not book for the subject, and logs every read of someone's bookings."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.signals import post_delete, post_save
from django.http import Http404
from django.utils import timezone

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking import external, external_slots, policy
from vardkontakt.booking.availability import coming_web_bookings, coming_web_bookings_of, online_slots
from vardkontakt.booking.external_models import ExternalAppointment, ExternalSchedule, ExternalSlot
from vardkontakt.booking.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    EarlierTimeOffer,
    EarlierTimeRequest,
    EarlierTimeRequestStatus,
    OfferStatus,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import local_instant, settings_of, settings_read_with
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.core.compiled import CompiledRead
from vardkontakt.core.shared_version import SharedVersion
from vardkontakt.fees.selectors import Quote, fee_quote
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import Administration, CareUnit

MAX_SLOTS_SHOWN = 400


# What the log says a resident did (access.models.ACTION_LABELS names them for people).
LIST_READ = "booking.list.read"
DETAIL_READ = "booking.detail.read"
ICS_READ = "booking.ics.read"
FEED_READ = "booking.feed.read"


def _may_book_for(reader: Patient, subject: Patient) -> None:
    """Someone the reader may not book for has no appointment book here: 404, nothing said."""
    if not policy.patient_may_book_for(reader, subject):
        raise Http404


@dataclass(frozen=True)
class Appointments:
    """The subject's appointments in "Mina bokningar": the platform's own bookings and those the
    region's other booking systems published (each marked with its source), coming and earlier."""

    upcoming: list[Booking]
    past: list[Booking]
    external_upcoming: list[ExternalAppointment]
    external_past: list[ExternalAppointment]


def appointments_of(*, reader: Patient, subject: Patient) -> Appointments:
    """Every appointment of the subject the reader may see, logged as one read of the list."""
    upcoming, past = bookings_of(reader=reader, subject=subject)
    coming, earlier = external.externals_of(subject, now=timezone.now())
    return Appointments(upcoming, past, coming, earlier)


def bookings_of(*, reader: Patient, subject: Patient) -> tuple[list[Booking], list[Booking]]:
    """(upcoming active bookings, the rest newest first) of the subject, as the reader sees them."""
    _may_book_for(reader, subject)
    now = timezone.now()
    rows = Booking.objects.filter(patient=subject).select_related(
        "slot__unit", "slot__visit_type", "slot__practitioner"
    )
    upcoming = list(rows.filter(status=BookingStatus.ACTIVE, slot__starts_at__gte=now).order_by("slot__starts_at"))
    past = list(rows.exclude(pk__in=[b.pk for b in upcoming]).order_by("-slot__starts_at")[:50])
    audit(
        actor=Actor.of_patient(reader), action=LIST_READ, patient=subject, on_behalf_of=subject, object_type="Booking"
    )
    return upcoming, past


def _units_online() -> QuerySet[CareUnit]:
    """Units with something to book online: visit types of their own, or times another booking
    system published for residents to book here."""
    published = VisitType.objects.filter(unit=OuterRef("pk"), bookable_online=True, active=True)
    elsewhere = external_slots.schedules_with_offered_slots().filter(unit=OuterRef("pk"))
    return CareUnit.objects.filter(Exists(published) | Exists(elsewhere), live=True).select_related(
        "administration", "booking_settings"
    )


def units_to_book_at(*, reader: Patient, subject: Patient, query: str = "") -> tuple[list[CareUnit], list[CareUnit]]:
    """(units the subject is listed at, other units matching the search) that book online."""
    _may_book_for(reader, subject)
    offering = _units_online()
    listed = list(offering.filter(listings__patient=subject).order_by("name"))
    others: list[CareUnit] = []
    if query.strip():
        words = query.strip()
        found = offering.filter(Q(name__icontains=words) | Q(city__icontains=words)).order_by("name")[:50]
        others = [unit for unit in found if unit not in listed]
    return listed, others


# Every booking page and booking reads its unit with the unit's booking rules: kept per process
# and read again when a unit, its rules, administration or visit types change anywhere (a token in
# the shared cache, core/shared_version.py). The booking itself judges the slot, its unit and
# visit type from the rows it locks, never from this copy.
_units_kept: SharedVersion[CareUnit] = SharedVersion("booking.units_online")
for _model in (CareUnit, BookingSettings, VisitType, Administration):
    post_save.connect(_units_kept.forget, sender=_model, dispatch_uid=f"booking.units_online.save.{_model.__name__}")
    post_delete.connect(
        _units_kept.forget, sender=_model, dispatch_uid=f"booking.units_online.delete.{_model.__name__}"
    )


def forget_units() -> None:
    """Read the units again everywhere (after a change that sends no signal: bulk_update)."""
    _units_kept.forget()


def unit_booking_online(*, unit_id: uuid.UUID | str) -> CareUnit:
    """The unit, if it books online now, with its booking rules (a copy of this process's own,
    see _units_kept); else 404."""
    unit = _units_kept.get(str(unit_id), lambda: _units_online().filter(pk=unit_id).first())
    if unit is None:
        raise Http404
    return settings_read_with(copy.copy(unit))


def _at_limit(*, reader: Patient, subject: Patient, unit: CareUnit, visit_types: list[VisitType]) -> set[Any]:
    """The visit types the subject already holds as many coming web bookings of as the unit allows,
    so the page says so before anyone picks a time. Saying it tells about the subject's bookings,
    so when it does, it is logged as a read of their list."""
    allowed = settings_of(unit).online_bookings_per_visit_type
    full = {v.pk for v in visit_types if len(coming_web_bookings(subject, v)) >= allowed}
    if full:
        _log_limit_read(reader=reader, subject=subject, unit=unit)
    return full


def _log_limit_read(*, reader: Patient, subject: Patient, unit: CareUnit) -> None:
    audit(
        actor=Actor.of_patient(reader),
        action=LIST_READ,
        patient=subject,
        on_behalf_of=subject,
        object_type="Booking",
        unit=unit,
        detail="limit of web bookings",
    )


def online_visit_types(*, reader: Patient, subject: Patient, unit: CareUnit) -> list[tuple[VisitType, bool]]:
    """What the reader may book online at the unit for the subject, each with whether the subject
    is at the unit's limit of coming web bookings of it."""
    _may_book_for(reader, subject)
    offered = list(unit.visit_types.filter(bookable_online=True, active=True).order_by("name"))
    full = _at_limit(reader=reader, subject=subject, unit=unit, visit_types=offered)
    return [(visit_type, visit_type.pk in full) for visit_type in offered]


def fee_shown(*, visit_type: VisitType, patient: Patient, day: dt.date, unit: CareUnit | None = None) -> Quote | None:
    """The fee the booking pages show for the visit: from the region's schedule, the person's age
    and frikort on the day of the visit, when the visit type names a fee kind that the region's
    schedule has; otherwise None and the visit type's own figure is shown. ``unit``: the visit
    type's unit with its administration, when the page has read it already (two statements fewer)."""
    if not visit_type.fee_kind:
        return None
    if unit is None or unit.pk != visit_type.unit_id:
        unit = visit_type.unit
    quote = fee_quote(patient=patient, unit=unit, kind=visit_type.fee_kind, day=day)
    return quote if quote.scheduled else None


def online_visit_type(*, unit: CareUnit, visit_type_id: uuid.UUID | str) -> VisitType:
    found = unit.visit_types.filter(pk=visit_type_id, bookable_online=True, active=True).first()
    if found is None:
        raise Http404
    return found


@dataclass
class SlotWeek:
    """One week of a visit type's free times (Monday to Sunday, Stockholm dates), as chosen."""

    monday: dt.date
    days: list[tuple[dt.date, list[Slot]]]
    week_days: list[tuple[dt.date, int]]  # each day of the week and its free times (for the day filter)
    previous: dt.date | None  # None: this week is the first
    next: dt.date | None  # None: the week after lies beyond the unit's horizon
    practitioners: list[Staff] = field(default_factory=list)
    practitioner: Staff | None = None
    day: dt.date | None = None
    first_free: Slot | None = None
    at_limit: bool = False

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def slot_week(
    *,
    reader: Patient,
    subject: Patient,
    unit: CareUnit,
    visit_type: VisitType,
    week: dt.date | None = None,
    practitioner_id: str = "",
    day: dt.date | None = None,
) -> SlotWeek:
    """A week of free times of the visit type, with whom and which day the reader chose, and the
    first free time of all (with that practitioner). Without a chosen week, the week of the first
    free time; a week outside today to the horizon is the nearest one inside it; a day outside the
    week, or a practitioner with no times, is no filter."""
    _may_book_for(reader, subject)
    today = timezone.localdate()
    horizon = timezone.now() + dt.timedelta(weeks=settings_of(unit).horizon_weeks)
    last_monday = _monday(horizon.astimezone(STOCKHOLM).date())
    monday = min(max(_monday(week or today), _monday(today)), last_monday)
    free = online_slots(unit).filter(visit_type=visit_type, starts_at__lte=horizon)
    practitioners = list(Staff.objects.filter(pk__in=free.values("practitioner")).order_by("family_name", "given_name"))
    chosen = next((p for p in practitioners if str(p.pk) == practitioner_id), None)
    if chosen is not None:
        free = free.filter(practitioner=chosen)
    first_free = free.order_by("starts_at").first()
    if week is None and first_free is not None:
        monday = _monday(first_free.starts_at.astimezone(STOCKHOLM).date())
    start, end = local_instant(monday, dt.time()), local_instant(monday + dt.timedelta(days=7), dt.time())
    rows = list(free.filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at")[:MAX_SLOTS_SHOWN])
    by_day: dict[dt.date, list[Slot]] = {monday + dt.timedelta(days=n): [] for n in range(7)}
    for slot in rows:
        by_day[slot.starts_at.astimezone(STOCKHOLM).date()].append(slot)
    day = day if day in by_day else None
    shown = [(d, slots) for d, slots in by_day.items() if slots and (day is None or d == day)]
    full = _at_limit(reader=reader, subject=subject, unit=unit, visit_types=[visit_type])
    return SlotWeek(
        monday=monday,
        days=shown,
        week_days=[(d, len(slots)) for d, slots in by_day.items()],
        previous=monday - dt.timedelta(days=7) if monday > _monday(today) else None,
        next=monday + dt.timedelta(days=7) if monday < last_monday else None,
        practitioners=practitioners,
        practitioner=chosen,
        day=day,
        first_free=first_free,
        at_limit=bool(full),
    )


def _slot_with_coming(*, unit_id: Any, slot_id: Any, subject_id: Any, now: dt.datetime) -> QuerySet[Slot]:
    """The slot if a resident may book it online now (availability.online_slots), with the subject's
    coming web bookings of its visit type counted in the same query (``coming``)."""
    coming = coming_web_bookings_of(Patient(pk=subject_id), visit_type=OuterRef("visit_type"), now=now)
    counted = coming.order_by().values("patient").annotate(n=Count("pk")).values("n")[:1]
    # One slot by its key: no order (the model's order made PostgreSQL sort the one row it found).
    found = online_slots(CareUnit(pk=unit_id), now=now).filter(pk=slot_id).order_by()
    return found.annotate(coming=Subquery(counted))[:1]


# Every confirmation page asks it: built and compiled once per process (core/compiled.py), which
# was most of the page's CPU; tests/booking/test_slot_to_confirm.py holds it to the ORM's answer.
_slot_to_confirm = CompiledRead(
    Slot,
    _slot_with_coming,
    unit_id=CareUnit._meta.pk,
    slot_id=Slot._meta.pk,
    subject_id=Patient._meta.pk,
    now=Slot._meta.get_field("starts_at"),
)


def slot_to_confirm(
    *, reader: Patient, subject: Patient, unit: CareUnit, slot_id: uuid.UUID | str
) -> tuple[Slot | None, bool]:
    """The free slot to book, and whether the subject is at the unit's limit of its visit type."""
    _may_book_for(reader, subject)
    found = _slot_to_confirm(unit_id=unit.pk, slot_id=slot_id, subject_id=subject.pk, now=timezone.now())
    if not found:
        return None, False
    slot = found[0]
    coming: int | None = getattr(slot, "coming", None)  # the annotation: no row when nothing is booked
    at_limit = (coming or 0) >= settings_of(unit).online_bookings_per_visit_type
    if at_limit:
        _log_limit_read(reader=reader, subject=subject, unit=unit)
    return slot, at_limit


def booking_for_reader(*, reader: Patient, booking_id: uuid.UUID | str, action: str = DETAIL_READ) -> Booking:
    """A booking of someone the reader may book for now, logged as read (``action``: seen on a
    page, or taken as a calendar file); anyone else's is not found."""
    booking = (
        Booking.objects.select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None or not policy.patient_may_book_for(reader, booking.patient):
        raise Http404
    audit(
        actor=Actor.of_patient(reader),
        action=action,
        patient=booking.patient,
        on_behalf_of=booking.patient,
        obj=booking,
        unit=booking.slot.unit,
    )
    return booking


def what_may_change(booking: Booking, *, now: dt.datetime) -> dict[str, Any]:
    slot = booking.slot
    deadline = slot.starts_at - dt.timedelta(hours=slot.visit_type.cancellation_deadline_hours)
    active = booking.status == BookingStatus.ACTIVE and slot.starts_at > now
    return {
        "may_cancel": active and now <= deadline,
        "may_rebook": active and now <= deadline and slot.visit_type.rebookable_online,
        # Why the "move" link is missing: the unit moves this kind of visit only by phone.
        "not_rebookable": active and now <= deadline and not slot.visit_type.rebookable_online,
        "cancel_deadline": deadline,
        "too_late": active and now > deadline,
    }


def rebooking_slots(booking: Booking) -> list[Slot]:
    """Free online slots with the same visit type, practitioner and length."""
    slot = booking.slot
    candidates = (
        online_slots(slot.unit).filter(visit_type=slot.visit_type, practitioner=slot.practitioner).exclude(pk=slot.pk)
    )
    length = slot.ends_at - slot.starts_at
    return [s for s in candidates.order_by("starts_at")[:MAX_SLOTS_SHOWN] if s.ends_at - s.starts_at == length]


def dependants_for_bookings(owner: Patient) -> list[Patient]:
    """The owner and everyone they may book for now (children, principals): their calendar feed."""
    return [r.subject for r in access_policy.representations(owner) if r.allows(access_policy.Scope.BOOKINGS)]


@dataclass(frozen=True)
class EarlierTime:
    """Where a booking stands on its visit type's waiting list for an earlier time."""

    request: EarlierTimeRequest | None  # waiting, or None
    offer: EarlierTimeOffer | None  # open and not run out: the time held for the booking now
    missed: bool  # an offer ran out since the booking was put on the list (it stays on it)
    may_ask: bool  # not waiting, and the booking may be moved online


def earlier_time_of(booking: Booking, *, now: dt.datetime) -> EarlierTime:
    """For the booking's own page (its read already logged by ``booking_for_reader``)."""
    request = (
        EarlierTimeRequest.objects.filter(booking=booking, status=EarlierTimeRequestStatus.WAITING)
        .select_related("practitioner")
        .first()
    )
    offer = None
    missed = False
    if request is not None:
        offers = list(request.offers.select_related("slot__practitioner").order_by("-made_at"))
        offer = next((o for o in offers if o.status == OfferStatus.OPEN and o.expires_at > now), None)
        missed = offer is None and any(o.status == OfferStatus.EXPIRED for o in offers)
    visit_type = booking.slot.visit_type
    may_ask = (
        request is None
        and booking.status == BookingStatus.ACTIVE
        and visit_type.bookable_online
        and visit_type.rebookable_online
        and now <= booking.slot.starts_at - dt.timedelta(hours=visit_type.cancellation_deadline_hours)
    )
    return EarlierTime(request=request, offer=offer, missed=missed, may_ask=may_ask)


# --- times other booking systems publish for residents to book here ------------------------------


def unit_live(*, unit_id: uuid.UUID | str) -> CareUnit:
    """A unit open to residents, whether or not anything is free there just now (a published time
    that has gone is then refused in words, not as a page not found)."""
    unit = CareUnit.objects.filter(pk=unit_id, live=True).first()
    if unit is None:
        raise Http404
    return unit


def external_schedules_offered(
    *, reader: Patient, subject: Patient, unit: CareUnit
) -> list[tuple[ExternalSchedule, int]]:
    """The unit's published schedules with times the reader may book for the subject, with how many."""
    _may_book_for(reader, subject)
    return external_slots.schedules_offered(unit)


def external_slot_days(
    *, reader: Patient, subject: Patient, unit: CareUnit, schedule_id: uuid.UUID | str
) -> tuple[ExternalSchedule, list[tuple[dt.date, list[ExternalSlot]]]]:
    """A published schedule's free times, by day (at most MAX_SLOTS_SHOWN). No one's data: not logged."""
    _may_book_for(reader, subject)
    schedule = external_slots.offered_schedule(unit, schedule_id)
    rows = (
        external_slots.offered_slots(unit, subject=subject, reader=reader)
        .filter(schedule=schedule)
        .order_by("starts_at")
    )
    days: dict[dt.date, list[ExternalSlot]] = {}
    for slot in rows[:MAX_SLOTS_SHOWN]:
        days.setdefault(slot.starts_at.astimezone(STOCKHOLM).date(), []).append(slot)
    return schedule, sorted(days.items())
