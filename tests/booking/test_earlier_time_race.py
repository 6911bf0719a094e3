"""Fifty residents on one visit type's waiting list reach for one freed time at once, on
PostgreSQL, each thread with its own connection: exactly one gets it, everyone else is refused in
words, and nobody loses the booking they had."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection
from django.http import Http404
from django.utils import timezone

from tests.booking.helpers import make_slot
from vardkontakt.booking.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    EarlierTimeOffer,
    OfferStatus,
    Slot,
    VisitType,
)
from vardkontakt.booking.offers import earlier_time_offer_claim, earlier_time_request_create
from vardkontakt.booking.services import BookingRefused, booking_create_online, booking_move_online
from vardkontakt.booking.staff_services import slots_release_online
from vardkontakt.booking.waiting_list import offers_renew
from vardkontakt.identity.models import Patient

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.many_connections,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case"),
]


def all_at_once(people: list[Patient], attempt: Callable[[int, Patient], str]) -> list[str]:
    """Run ``attempt`` for each person in a thread of its own, all released together; each says
    what happened to them (a refusal by its name)."""
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = [""] * len(people)

    def run(n: int, person: Patient) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[n] = attempt(n, person)
        except BookingRefused as refused:
            outcomes[n] = refused.refusal.name
        except Http404:
            outcomes[n] = "not theirs"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, p)) for n, p in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def waiting(personas):
    """Fifty residents, each with a booking of "Hälsosamtal" two weeks or more ahead, on its
    waiting list in turn; then staff open a phone-only time in three days to the web, and the first
    in line is offered it."""
    unit = personas.staff_x.memberships.get().unit
    BookingSettings.objects.create(unit=unit, offer_claim_hours=2, online_bookings_per_visit_type=2)
    visit = VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=14)
    people = list(Patient.objects.order_by("personnummer")[:50])
    bookings = []
    for n, person in enumerate(people):
        slot = make_slot(unit, visit, personas.staff_x, start + dt.timedelta(minutes=30 * n))
        booking = booking_create_online(slot_id=slot.pk, unit=unit, subject=person, actor=person)
        earlier_time_request_create(booking_id=booking.pk, actor=person)
        bookings.append(booking)
    freed = make_slot(
        unit, visit, personas.staff_x, timezone.now().replace(microsecond=0) + dt.timedelta(days=3), channel="phone"
    )
    assert slots_release_online(unit=unit, by=personas.staff_x, slot=freed) == 1
    offer = EarlierTimeOffer.objects.get(status=OfferStatus.OPEN)
    assert offer.request.booking == bookings[0]  # the first to ask
    return unit, freed, people, bookings, offer


def nobody_lost_a_booking(people: list[Patient], winner: Patient, freed: Slot) -> None:
    assert Booking.objects.filter(slot=freed, status=BookingStatus.ACTIVE).count() == 1
    assert Booking.objects.get(slot=freed, status=BookingStatus.ACTIVE).patient == winner
    for person in people:
        assert Booking.objects.filter(patient=person, status=BookingStatus.ACTIVE).count() == 1, person


def test_fifty_reach_for_an_offered_time_and_only_the_one_offered_it_gets_it(waiting):
    """The first in line takes the offer (twice: a double click) while the others try everything a
    resident can: take the same offer, move their own booking to the time, book it afresh."""
    unit, freed, people, bookings, offer = waiting

    def attempt(n: int, person: Patient) -> str:
        if n in (0, 1):  # the first in line, clicking twice
            return f"moved {earlier_time_offer_claim(offer_id=offer.pk, actor=people[0]).pk}"
        if n % 3 == 0:
            earlier_time_offer_claim(offer_id=offer.pk, actor=person)
        elif n % 3 == 1:
            booking_move_online(booking_id=bookings[n].pk, new_slot_id=freed.pk, actor=person)
        else:
            booking_create_online(slot_id=freed.pk, unit=unit, subject=person, actor=person)
        return "got it"

    outcomes = all_at_once(people, attempt)
    new = Booking.objects.get(slot=freed, status=BookingStatus.ACTIVE)
    assert outcomes[:2] == [f"moved {new.pk}"] * 2  # one move, and the double click is answered with it
    others = outcomes[2:]
    assert "got it" not in others
    assert set(others) == {"not theirs", "TAKEN"}
    nobody_lost_a_booking(people, people[0], freed)


def test_an_offer_run_out_passes_to_exactly_one_next_even_with_fifty_looking_at_once(waiting):
    """Past the claim window, everyone's page renews the list at once (and the first in line tries
    the offer that ran out); then each takes what they are offered, or tries to book the time."""
    unit, freed, people, bookings, offer = waiting
    phase_two = threading.Barrier(len(people))

    def attempt(n: int, person: Patient) -> str:
        try:
            if n == 0:
                earlier_time_offer_claim(offer_id=offer.pk, actor=person)
            else:
                offers_renew(visit_type_id=freed.visit_type_id)
            said = "nothing"
        except BookingRefused as refused:
            said = refused.refusal.name
        phase_two.wait(timeout=60)
        mine = EarlierTimeOffer.objects.filter(request__booking=bookings[n], status=OfferStatus.OPEN).first()
        try:
            if mine is not None:
                return f"{said}, then moved {earlier_time_offer_claim(offer_id=mine.pk, actor=person).slot_id}"
            booking_create_online(slot_id=freed.pk, unit=unit, subject=person, actor=person)
            return f"{said}, then booked"
        except BookingRefused as refused:
            return f"{said}, then {refused.refusal.name}"

    with time_machine.travel(timezone.now() + dt.timedelta(hours=2, minutes=1)):
        outcomes = all_at_once(people, attempt)
    assert outcomes[0] == "OFFER_EXPIRED, then TAKEN"  # told it ran out; the time is not theirs now
    assert outcomes[1] == f"nothing, then moved {freed.pk}"  # the second to ask
    assert set(outcomes[2:]) == {"nothing, then TAKEN"}
    assert EarlierTimeOffer.objects.filter(slot=freed).count() == 2  # passed on once, not once per page
    nobody_lost_a_booking(people, people[1], freed)
