"""Which times are free: reads of the appointment book that booking, its pages and the coverage
figures share. (Reads live here and in selectors.py; services.py only writes.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from vardkontakt.booking.models import (
    Booking,
    BookingChannel,
    BookingStatus,
    Channel,
    EarlierTimeOffer,
    OfferStatus,
    Slot,
    VisitType,
)
from vardkontakt.core.compiled import CompiledRead
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit

ALTERNATIVES = 5


def free_slots(unit: CareUnit, *, now: dt.datetime | None = None) -> QuerySet[Slot]:
    """Slots with no active booking, from now on."""
    active = Booking.objects.filter(slot=OuterRef("pk"), status=BookingStatus.ACTIVE)
    return Slot.objects.filter(unit=unit, starts_at__gt=now or timezone.now()).filter(~Exists(active))


def held_for_an_offer(now: dt.datetime) -> Exists:
    """The slot is offered to someone on the waiting list for an earlier time, who may still take it."""
    return Exists(EarlierTimeOffer.objects.filter(slot=OuterRef("pk"), status=OfferStatus.OPEN, expires_at__gt=now))


def online_slots(unit: CareUnit, *, now: dt.datetime | None = None, held_by_offers: bool = True) -> QuerySet[Slot]:
    """What a resident may book online: published, free, in the future, and not held for an offered
    earlier time (``held_by_offers=False``: whether or not it is)."""
    now = now or timezone.now()
    found = (
        free_slots(unit, now=now)
        .filter(
            channel=Channel.ONLINE_AND_PHONE, held_back="", visit_type__bookable_online=True, visit_type__active=True
        )
        .select_related("visit_type", "practitioner")
    )
    return found.filter(~held_for_an_offer(now)) if held_by_offers else found


def _nearest(*, online: bool, later: bool) -> Callable[..., QuerySet[Slot]]:
    """The ALTERNATIVES free slots of a visit type nearest to an instant, on one side of it:
    what a resident may book online (``online``), or any free slot (the unit's staff)."""

    def build(*, unit_id: Any, visit_type_id: Any, starts_at: dt.datetime, now: dt.datetime) -> QuerySet[Slot]:
        unit = CareUnit(pk=unit_id)
        found = (online_slots(unit, now=now) if online else free_slots(unit, now=now)).filter(
            visit_type_id=visit_type_id
        )
        if later:
            return found.filter(starts_at__gte=starts_at).order_by("starts_at")[:ALTERNATIVES]
        return found.filter(starts_at__lt=starts_at).order_by("-starts_at")[:ALTERNATIVES]

    return build


# Every refused booking in a rush asks for them (409 with nearby times): built and compiled once per
# process (core/compiled.py), as the confirmation page's read is; building them with the ORM cost
# about a tenth of the web workers' CPU in the booking rush (issue 20).
# tests/booking/test_alternatives.py holds each to its ORM definition.
_NEAREST: dict[tuple[bool, bool], CompiledRead[Slot]] = {
    (online, later): CompiledRead(
        Slot,
        _nearest(online=online, later=later),
        unit_id=CareUnit._meta.pk,
        visit_type_id=VisitType._meta.pk,
        starts_at=Slot._meta.get_field("starts_at"),
        now=Slot._meta.get_field("starts_at"),
    )
    for online in (True, False)
    for later in (True, False)
}


def alternatives_to(slot: Slot, *, online: bool) -> list[Slot]:
    """Free slots of the same visit type nearest in time to one that has gone."""
    values = {
        "unit_id": slot.unit_id,
        "visit_type_id": slot.visit_type_id,
        "starts_at": slot.starts_at,
        "now": timezone.now(),
    }
    after = _NEAREST[online, True](**values)
    # Earlier ones only fill up what later ones leave (in a rush, the hot times are the first).
    before = _NEAREST[online, False](**values)[: ALTERNATIVES - len(after)] if len(after) < ALTERNATIVES else []
    return sorted([*before, *after], key=lambda s: s.starts_at)


def coming_web_bookings_of(patient: Patient, *, visit_type: Any, now: dt.datetime) -> QuerySet[Booking]:
    """The patient's coming, active bookings of the visit type made on the web (by them or someone
    acting for them): what the unit's limit counts. Bookings the unit made by phone do not count.
    ``visit_type`` may be an ``OuterRef`` (counted inside another query)."""
    return Booking.objects.filter(
        patient=patient,
        slot__visit_type=visit_type,
        status=BookingStatus.ACTIVE,
        channel=BookingChannel.ONLINE,
        slot__starts_at__gt=now,
    )


def coming_web_bookings(patient: Patient, visit_type: VisitType) -> list[Booking]:
    """coming_web_bookings_of, now, read with their slots, soonest first."""
    found = coming_web_bookings_of(patient, visit_type=visit_type, now=timezone.now())
    return list(found.select_related("slot").order_by("slot__starts_at"))
