"""The nearby free times offered when a time has gone (availability.alternatives_to): read with
queries compiled once per process (core/compiled.py), which must give what their ORM definitions
give, and what a resident and the unit's staff are offered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.booking.helpers import ONLINE_NOW, clock_at, make_slot, online_slots, online_unit, online_visit  # noqa: F401 (fixtures: slots, unit, visit)
from vardkontakt.booking import availability
from vardkontakt.booking.availability import ALTERNATIVES, alternatives_to
from vardkontakt.booking.models import (
    Booking,
    BookingChannel,
    BookingStatus,
    Channel,
    EarlierTimeOffer,
    EarlierTimeRequest,
    HeldBack,
    Slot,
    VisitType,
)

pytestmark = pytest.mark.django_db

clock = clock_at(ONLINE_NOW)


def booked(slot: Slot, patient) -> Booking:
    return Booking.objects.create(
        slot=slot,
        patient=patient,
        channel=BookingChannel.ONLINE,
        booked_by_patient=patient,
        status=BookingStatus.ACTIVE,
        created_at=timezone.now(),
    )


def both_ways(slot: Slot) -> None:
    """Each of the four compiled reads gives the rows, in the order, of its ORM definition."""
    values = {
        "unit_id": slot.unit_id,
        "visit_type_id": slot.visit_type_id,
        "starts_at": slot.starts_at,
        "now": timezone.now(),
    }
    for read in availability._NEAREST.values():
        assert [s.pk for s in read(**values)] == [s.pk for s in read.queryset(**values)]


def test_a_gone_time_is_offered_the_nearest_free_times_after_it_first(unit, slots, personas):
    gone = slots[3]
    booked(gone, personas.other_patient)
    booked(slots[5], personas.other_patient)
    offered = alternatives_to(gone, online=True)
    later = list(Slot.objects.filter(visit_type=gone.visit_type, starts_at__gt=gone.starts_at).order_by("starts_at"))
    expected = [s.pk for s in later if s.pk != slots[5].pk][:ALTERNATIVES]
    assert [s.pk for s in offered] == expected
    assert slots[5].pk not in {s.pk for s in offered}
    both_ways(gone)


def test_near_the_end_of_the_book_earlier_times_fill_the_list_in_time_order(unit, visit, slots, personas):
    last = Slot.objects.filter(visit_type=visit).order_by("-starts_at")[0]
    booked(last, personas.other_patient)
    offered = alternatives_to(last, online=True)
    assert len(offered) == ALTERNATIVES
    assert all(s.starts_at < last.starts_at for s in offered)
    assert [s.starts_at for s in offered] == sorted(s.starts_at for s in offered)
    nearest = Slot.objects.filter(visit_type=visit, starts_at__lt=last.starts_at).order_by("-starts_at")
    assert {s.pk for s in offered} == {s.pk for s in nearest[:ALTERNATIVES]}
    both_ways(last)


def test_a_resident_is_never_offered_what_they_may_not_book_online(unit, visit, slots, personas):
    gone = slots[0]
    booked(gone, personas.other_patient)
    Slot.objects.filter(pk=slots[1].pk).update(channel=Channel.PHONE_ONLY)
    Slot.objects.filter(pk=slots[2].pk).update(held_back=HeldBack.SERIES)
    waiting = booked(slots[-1], personas.tolvan)
    request = EarlierTimeRequest.objects.create(
        booking=waiting, patient=personas.tolvan, unit=unit, visit_type=visit, asked_at=timezone.now()
    )
    EarlierTimeOffer.objects.create(
        request=request, slot=slots[3], made_at=timezone.now(), expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    other_kind = VisitType.objects.create(
        unit=unit, name="Provtagning", duration_minutes=10, professions=["nurse"], bookable_online=True
    )
    make_slot(unit, other_kind, personas.staff_x, gone.starts_at + dt.timedelta(minutes=5))
    make_slot(unit, visit, personas.staff_x, timezone.now() - dt.timedelta(hours=1))  # past

    offered = {s.pk for s in alternatives_to(gone, online=True)}
    assert offered.isdisjoint({slots[1].pk, slots[2].pk, slots[3].pk, gone.pk})
    assert all(
        s.visit_type_id == visit.pk and s.starts_at > timezone.now() for s in Slot.objects.filter(pk__in=offered)
    )
    # The unit's staff may give any free time, by phone or held back: those are offered to them.
    for_staff = {s.pk for s in alternatives_to(gone, online=False)}
    assert {slots[1].pk, slots[2].pk} <= for_staff and gone.pk not in for_staff
    both_ways(gone)


def test_the_offered_times_come_with_what_the_page_shows_in_two_queries_at_most(unit, slots, personas):
    gone = slots[0]
    booked(gone, personas.other_patient)
    with CaptureQueriesContext(connection) as queries:
        offered = alternatives_to(gone, online=True)
        shown = [(s.visit_type.name, s.practitioner.full_name) for s in offered]
    assert len(queries) == 1  # enough later times: the earlier ones are not asked for
    assert len(shown) == ALTERNATIVES and shown[0] == (gone.visit_type.name, personas.staff_x.full_name)


def test_nothing_free_means_nothing_offered(unit, visit, slots, personas):
    for slot in Slot.objects.filter(visit_type=visit):
        booked(slot, personas.other_patient)
    assert alternatives_to(slots[0], online=True) == []
    assert alternatives_to(slots[0], online=False) == []
