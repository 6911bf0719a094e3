"""Reads of the appointment book for the unit's staff: the one door to it, and the audit entries.

Every member of the unit uses the book; only its unit administrators set it up. Another unit's
staff get 404 (the unit's book is not theirs to know about), a member without the role 403.

The book shows patients (name, personnummer) and what they booked, so each patient shown is a
read of patient data and is logged, once per page, in the patient's own "who has read" list.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit, audit_each
from vardkontakt.access.models import Guardianship
from vardkontakt.booking import policy
from vardkontakt.booking.models import (
    Arrival,
    Booking,
    BookingStatus,
    Channel,
    EarlierTimeOffer,
    EarlierTimeRequest,
    EarlierTimeRequestStatus,
    MissedVisit,
    OfferStatus,
    ScheduleException,
    ScheduleTemplate,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import local_instant, settings_of
from vardkontakt.core.calendar import STOCKHOLM, day_off_name, is_day_off
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit


def unit_for_book(*, staff: Staff, unit_id: uuid.UUID | str) -> CareUnit:
    unit = CareUnit.objects.filter(pk=unit_id).first()
    if unit is None or not policy.staff_may_use_book(staff, unit):
        raise Http404
    return unit


def unit_for_setup(*, staff: Staff, unit_id: uuid.UUID | str) -> CareUnit:
    """404 outside the unit, 403 for a member who is not its unit administrator."""
    unit = unit_for_book(staff=staff, unit_id=unit_id)
    if not policy.staff_may_set_up(staff, unit):
        raise PermissionDenied
    return unit


# --- the set-up --------------------------------------------------------------------------------


def visit_types_of(unit: CareUnit) -> list[VisitType]:
    return list(unit.visit_types.order_by("-active", "name"))


def visit_type_to_edit(*, unit: CareUnit, visit_type_id: uuid.UUID | str) -> VisitType:
    found = unit.visit_types.filter(pk=visit_type_id).first()
    if found is None:
        raise Http404
    return found


def templates_of(unit: CareUnit) -> list[ScheduleTemplate]:
    return list(
        ScheduleTemplate.objects.filter(unit=unit)
        .select_related("practitioner", "visit_type")
        .order_by("practitioner__family_name", "practitioner__given_name", "weekday", "start_time")
    )


def template_to_delete(*, unit: CareUnit, template_id: uuid.UUID | str) -> ScheduleTemplate:
    found = ScheduleTemplate.objects.select_related("practitioner", "unit").filter(pk=template_id, unit=unit).first()
    if found is None:
        raise Http404
    return found


def exceptions_of(unit: CareUnit) -> list[ScheduleException]:
    """Absences not yet over, soonest first."""
    return list(
        ScheduleException.objects.filter(unit=unit, ends_at__gt=timezone.now())
        .select_related("practitioner")
        .order_by("starts_at")
    )


def exception_to_delete(*, unit: CareUnit, exception_id: uuid.UUID | str) -> ScheduleException:
    found = ScheduleException.objects.select_related("practitioner", "unit").filter(pk=exception_id, unit=unit).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class DayOff:
    """A public holiday or day off ahead, and what the book holds that day."""

    day: dt.date
    name: str
    opened: bool  # the unit has opened its book that day
    times: int  # future times in the book that day
    booked: int  # of them, with an active booking

    @property
    def free(self) -> int:
        return self.times - self.booked

    @property
    def flagged(self) -> bool:
        """Times on a day the unit has not opened: made before days off were skipped (or by hand)."""
        return not self.opened and self.times > 0


# How far ahead the set-up page looks for times on days off: past any horizon a unit may choose.
DAYS_OFF_LOOKAHEAD = dt.timedelta(weeks=53)


def days_off_of(unit: CareUnit) -> list[DayOff]:
    """The days off from today to the horizon, and any later one that has times although closed."""
    now = timezone.now()
    today = timezone.localdate()
    horizon = today + dt.timedelta(weeks=settings_of(unit).horizon_weeks)
    ahead = [today + dt.timedelta(days=n) for n in range(DAYS_OFF_LOOKAHEAD.days)]
    days_off = [d for d in ahead if is_day_off(d)]
    on_a_day_off = Q(pk__in=[])
    for d in days_off:
        on_a_day_off |= Q(
            starts_at__gte=local_instant(d, dt.time()), starts_at__lt=local_instant(d + dt.timedelta(days=1), dt.time())
        )
    rows = (
        Slot.objects.filter(on_a_day_off, unit=unit, starts_at__gt=now)
        .annotate(active=Exists(Booking.objects.filter(slot=OuterRef("pk"), status=BookingStatus.ACTIVE)))
        .values_list("starts_at", "active")
    )
    times: dict[dt.date, list[bool]] = {}
    for starts_at, active in rows:
        times.setdefault(starts_at.astimezone(STOCKHOLM).date(), []).append(active)
    opened = set(unit.holiday_openings.filter(day__gte=today).values_list("day", flat=True))
    wanted = sorted({d for d in days_off if d < horizon} | set(times) | opened)
    return [
        DayOff(
            day=d,
            name=day_off_name(d),
            opened=d in opened,
            times=len(times.get(d, [])),
            booked=sum(times.get(d, [])),
        )
        for d in wanted
    ]


# --- the book ------------------------------------------------------------------------------------


class Author(enum.StrEnum):
    """Who made a booking, as the book says it."""

    PATIENT = "patient"  # the resident themself, online
    GUARDIAN = "guardian"  # a guardian, online
    PROXY = "proxy"  # someone with a proxy (fullmakt), online
    STAFF = "staff"  # the unit, by phone


@dataclass(frozen=True)
class BookEntry:
    booking: Booking
    author: Author
    author_name: str

    @property
    def active(self) -> bool:
        return self.booking.status == BookingStatus.ACTIVE

    @property
    def to_contact(self) -> bool:
        """Cancelled or moved online by the patient: staff may want to call (SPEC §6.4)."""
        return self.booking.ended_online and not self.active

    # From when staff may mark the booking missed (its start plus the unit's minutes).
    missed_from: dt.datetime | None = None

    @property
    def arrival(self) -> Arrival | None:
        return _one_to_one(self.booking, "arrival")

    @property
    def missed(self) -> MissedVisit | None:
        return _one_to_one(self.booking, "missed")

    @property
    def may_mark_missed(self) -> bool:
        return (
            self.active
            and self.arrival is None
            and self.missed is None
            and self.missed_from is not None
            and timezone.now() >= self.missed_from
        )

    @property
    def may_undo_missed(self) -> bool:
        missed = self.missed
        return missed is not None and timezone.localdate(missed.marked_at) == timezone.localdate()


def _one_to_one(booking: Booking, name: str) -> Any:
    """The booking's arrival or missed mark, loaded with the book (None when there is none)."""
    try:
        return getattr(booking, name)
    except (Arrival.DoesNotExist, MissedVisit.DoesNotExist):
        return None


def may_be_released(slot: Slot) -> bool:
    """Phone-only, not held back for a reason (series, interpreter, medical), and of a visit type in
    use that patients book online: such a time may be opened to web booking by hand."""
    return (
        slot.channel == Channel.PHONE_ONLY
        and not slot.held_back
        and slot.visit_type.bookable_online
        and slot.visit_type.active
    )


def _hours_of(day: dt.date) -> int:
    """23 on the spring day, 25 on the autumn one, else 24: midnight to midnight in Stockholm."""
    length = local_instant(day + dt.timedelta(days=1), dt.time()) - local_instant(day, dt.time())
    return round(length.total_seconds() / 3600)


def _local(instant: dt.datetime, pattern: str) -> str:
    return instant.astimezone(STOCKHOLM).strftime(pattern)


@dataclass
class BookSlot:
    slot: Slot
    entries: list[BookEntry] = field(default_factory=list)
    released_at: dt.datetime | None = None  # a published time: from when staff may book it
    past: bool = False

    @property
    def times(self) -> str:
        return f"{_local(self.slot.starts_at, '%H:%M')}–{_local(self.slot.ends_at, '%H:%M')}"

    @property
    def times_with_zone(self) -> str:
        """For the days the clocks change: the autumn's two 02:30s are told apart by CEST and CET.
        (Django's "T" format leaves an ambiguous time's zone blank, so Python names it here.)"""
        return f"{_local(self.slot.starts_at, '%H:%M %Z')}–{_local(self.slot.ends_at, '%H:%M %Z')}"

    @property
    def times_as_needed(self) -> str:
        """With the zone only on a day the clocks change."""
        day = self.slot.starts_at.astimezone(STOCKHOLM).date()
        return self.times_with_zone if _hours_of(day) != 24 else self.times

    @property
    def taken(self) -> bool:
        # Any active booking holds the time, an overbooking whose regular booking ended included.
        return any(e.active for e in self.entries)

    @property
    def kept_for_patients(self) -> bool:
        return self.released_at is not None and timezone.now() < self.released_at

    @property
    def staff_may_book(self) -> bool:
        return not self.past and not self.taken and not self.kept_for_patients

    @property
    def staff_may_overbook(self) -> bool:
        return not self.past and self.taken and not self.kept_for_patients

    @property
    def staff_may_release(self) -> bool:
        """A free phone-only time of a visit type patients book online: staff may open it to the web."""
        return not self.past and not self.taken and may_be_released(self.slot)


@dataclass
class BookDay:
    day: dt.date
    hours: int  # 23 on the spring night, 25 on the autumn one
    slots: list[BookSlot]
    day_off: str = ""  # the public holiday's or day off's name
    opened: bool = False  # on a day off: the unit has opened its book

    @property
    def releasable(self) -> int:
        """Free phone-only times this day that staff may open to web booking."""
        return sum(1 for s in self.slots if s.staff_may_release)

    @property
    def kept(self) -> int:
        """Free times this day kept for patients online that staff may release for phone booking now."""
        return sum(1 for s in self.slots if s.kept_for_patients and not s.taken and not s.past)

    @property
    def flagged(self) -> bool:
        """Times on a day off the unit has not opened."""
        return bool(self.day_off) and not self.opened and bool(self.slots)

    @property
    def clocks_change(self) -> bool:
        return self.hours != 24


@dataclass
class Book:
    unit: CareUnit
    view: str  # "day" or "week"
    first_day: dt.date
    days: list[BookDay]
    previous: dt.date
    next: dt.date

    @property
    def last_day(self) -> dt.date:
        return self.days[-1].day

    @property
    def booked(self) -> int:
        return sum(1 for d in self.days for s in d.slots for e in s.entries if e.active)


VIEWS = ("day", "week")


def _with_bookings(slots: QuerySet[Slot]) -> QuerySet[Slot]:
    bookings = Booking.objects.select_related(
        "patient",
        "booked_by_patient",
        "booked_by_staff",
        "ended_by_patient",
        "ended_by_staff",
        "rebooked_to__slot",
        "rebooked_from__slot",
        "arrival",
        "missed",
    ).order_by("created_at")
    return slots.select_related("practitioner", "visit_type").prefetch_related(Prefetch("bookings", queryset=bookings))


def _entries(slots: list[Slot], missed_after: dt.timedelta = dt.timedelta(minutes=15)) -> list[list[BookEntry]]:
    bookings = [b for s in slots for b in s.bookings.all()]
    pairs = {(b.booked_by_patient_id, b.patient_id) for b in bookings if b.booked_by_patient_id}
    guardians = (
        set(
            Guardianship.objects.filter(
                guardian_id__in={g for g, _ in pairs}, child_id__in={c for _, c in pairs}
            ).values_list("guardian_id", "child_id")
        )
        if pairs
        else set()
    )

    def entry(b: Booking) -> BookEntry:
        missed_from = b.slot.starts_at + missed_after
        if b.booked_by_staff_id:
            return BookEntry(b, Author.STAFF, b.booked_by_staff.full_name, missed_from)  # type: ignore[union-attr]
        if b.booked_by_patient_id == b.patient_id:
            return BookEntry(b, Author.PATIENT, b.patient.full_name, missed_from)
        kind = Author.GUARDIAN if (b.booked_by_patient_id, b.patient_id) in guardians else Author.PROXY
        return BookEntry(b, kind, b.booked_by_patient.full_name if b.booked_by_patient else "", missed_from)

    return [[entry(b) for b in s.bookings.all()] for s in slots]


def _book_slots(unit: CareUnit, slots: list[Slot], now: dt.datetime) -> list[BookSlot]:
    rules = settings_of(unit)
    release = dt.timedelta(hours=rules.release_hours)
    return [
        BookSlot(
            slot=slot,
            entries=entries,
            released_at=slot.starts_at - release if slot.published_online and not slot.released_to_staff else None,
            past=slot.starts_at <= now,
        )
        for slot, entries in zip(slots, _entries(slots, dt.timedelta(minutes=rules.missed_after_minutes)), strict=True)
    ]


def _audit_patients(staff: Staff, unit: CareUnit, entries: list[BookEntry], detail: str) -> None:
    """One entry per patient shown (not per booking: a patient moved twice is one read)."""
    seen = {e.booking.patient_id: e.booking for e in entries}
    reads = [(booking.patient, booking) for booking in seen.values()]
    audit_each(actor=Actor.of_staff(staff), action="booking.read", reads=reads, unit=unit, detail=detail)


def appointment_book(*, staff: Staff, unit: CareUnit, day: dt.date, view: str) -> Book:
    """Every time of the day (or the ISO week) in Stockholm, with every booking by any channel.

    The day runs from local midnight to local midnight, so the spring day has 23 hours and the
    autumn day 25, and the autumn hour that happens twice shows both its 02:30s.
    """
    view = view if view in VIEWS else "day"
    first = day - dt.timedelta(days=day.weekday()) if view == "week" else day
    count = 7 if view == "week" else 1
    days = [first + dt.timedelta(days=n) for n in range(count)]
    bounds = [local_instant(d, dt.time()) for d in [*days, days[-1] + dt.timedelta(days=1)]]
    rows = list(
        _with_bookings(Slot.objects.filter(unit=unit, starts_at__gte=bounds[0], starts_at__lt=bounds[-1])).order_by(
            "starts_at", "practitioner__family_name", "practitioner__given_name"
        )
    )
    slots = _book_slots(unit, rows, timezone.now())
    opened = set(unit.holiday_openings.filter(day__in=days).values_list("day", flat=True))
    book_days = []
    for n, d in enumerate(days):
        on_the_day = [s for s in slots if bounds[n] <= s.slot.starts_at < bounds[n + 1]]
        book_days.append(BookDay(d, _hours_of(d), on_the_day, day_off=day_off_name(d), opened=d in opened))
    step = dt.timedelta(days=count)
    _audit_patients(staff, unit, [e for s in slots for e in s.entries], f"appointment book {view} {first.isoformat()}")
    return Book(unit=unit, view=view, first_day=first, days=book_days, previous=first - step, next=first + step)


def slot_for_staff(*, staff: Staff, unit: CareUnit, slot_id: uuid.UUID | str) -> BookSlot:
    """One time of the unit's book and its bookings; a time of another unit is not found."""
    slot = _with_bookings(Slot.objects.filter(pk=slot_id, unit=unit)).first()
    if slot is None:
        raise Http404
    found = _book_slots(unit, [slot], timezone.now())[0]
    _audit_patients(staff, unit, found.entries, "appointment book slot")
    return found


def patient_for_phone_booking(*, staff: Staff, unit: CareUnit, personnummer: str, confirming: bool) -> Patient | None:
    """The patient a member of the unit is about to book by phone, shown by name ("stämmer det?")
    with whether they have a mobile number: a read of the patient, logged. When the member
    confirms, the booking's own entry names the patient, so the second look-up is not logged."""
    if not policy.staff_may_use_book(staff, unit):
        raise Http404
    patient = Patient.objects.filter(personnummer=personnummer).first()
    if patient is not None and not confirming:
        audit(
            actor=Actor.of_staff(staff),
            action="booking.patient_check",
            patient=patient,
            unit=unit,
            detail="phone booking",
        )
    return patient


def booking_for_staff(*, staff: Staff, unit: CareUnit, booking_id: uuid.UUID | str) -> Booking:
    booking = (
        Booking.objects.select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner")
        .filter(pk=booking_id, slot__unit=unit)
        .first()
    )
    if booking is None:
        raise Http404
    audit(
        actor=Actor.of_staff(staff),
        action="booking.read",
        patient=booking.patient,
        unit=unit,
        obj=booking,
        detail="appointment book booking",
    )
    return booking


# --- the waiting list for earlier times -------------------------------------------------------------


@dataclass(frozen=True)
class WaitingList:
    """A visit type's waiting requests in order of asking, each with the offer it holds, if any."""

    visit_types: list[VisitType]  # the unit's visit types with anyone waiting
    visit_type: VisitType | None  # the one shown
    rows: list[tuple[EarlierTimeRequest, EarlierTimeOffer | None]]  # each request with its open offer


def waiting_list_for_staff(*, staff: Staff, unit: CareUnit, visit_type_id: str = "") -> WaitingList:
    """The waiting list of one of the unit's visit types (the chosen one, else the first with anyone
    waiting). Each patient shown is a read of their data, logged once per page."""
    if not policy.staff_may_use_book(staff, unit):
        raise Http404
    waiting = EarlierTimeRequest.objects.filter(unit=unit, status=EarlierTimeRequestStatus.WAITING)
    visit_types = list(VisitType.objects.filter(pk__in=waiting.values("visit_type_id")).order_by("name"))
    chosen = next((v for v in visit_types if str(v.pk) == visit_type_id), visit_types[0] if visit_types else None)
    rows: list[tuple[EarlierTimeRequest, EarlierTimeOffer | None]] = []
    if chosen is not None:
        requests = list(
            waiting.filter(visit_type=chosen)
            .select_related("patient", "asked_by", "practitioner", "booking__slot__practitioner")
            .order_by("asked_at", "id")
        )
        open_offers = EarlierTimeOffer.objects.filter(request__in=requests, status=OfferStatus.OPEN).select_related(
            "slot__practitioner"
        )
        offers = {offer.request_id: offer for offer in open_offers}
        rows = [(request, offers.get(request.pk)) for request in requests]
        reads = [(request.patient, request.booking) for request in requests]
        detail = f"waiting list {chosen.name}"
        audit_each(
            actor=Actor.of_staff(staff), action="booking.waiting_list.read", reads=reads, unit=unit, detail=detail
        )
    return WaitingList(visit_types=visit_types, visit_type=chosen, rows=rows)
