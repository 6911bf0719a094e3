"""Reads of the appointment book for residents: each takes the reader (the logged-in resident)
and the subject (whose bookings: themself or someone they act for), asks the policy, answers 404
when the reader may not book for the subject, and logs every read of someone's bookings."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking import policy
from vardkontakt.booking.availability import online_slots
from vardkontakt.booking.models import Booking, BookingStatus, Slot, VisitType
from vardkontakt.booking.schedule import settings_of
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit

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
    published = VisitType.objects.filter(unit=OuterRef("pk"), bookable_online=True, active=True)
    return CareUnit.objects.filter(Exists(published), live=True).select_related("administration")


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


def unit_booking_online(*, unit_id: uuid.UUID | str) -> CareUnit:
    unit = _units_online().filter(pk=unit_id).first()
    if unit is None:
        raise Http404
    return unit


def online_visit_types(*, reader: Patient, subject: Patient, unit: CareUnit) -> list[VisitType]:
    """What the reader may book online at the unit for the subject (the unit's, the same for all)."""
    _may_book_for(reader, subject)
    return list(unit.visit_types.filter(bookable_online=True, active=True).order_by("name"))


def online_visit_type(*, unit: CareUnit, visit_type_id: uuid.UUID | str) -> VisitType:
    found = unit.visit_types.filter(pk=visit_type_id, bookable_online=True, active=True).first()
    if found is None:
        raise Http404
    return found


def bookable_slots(*, reader: Patient, subject: Patient, unit: CareUnit, visit_type: VisitType) -> list[Slot]:
    _may_book_for(reader, subject)
    horizon = timezone.now() + dt.timedelta(weeks=settings_of(unit).horizon_weeks)
    rows = online_slots(unit).filter(visit_type=visit_type, starts_at__lte=horizon).order_by("starts_at")
    return list(rows[:MAX_SLOTS_SHOWN])


def slot_to_confirm(*, reader: Patient, subject: Patient, unit: CareUnit, slot_id: uuid.UUID | str) -> Slot | None:
    _may_book_for(reader, subject)
    return online_slots(unit).filter(pk=slot_id).first()


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
