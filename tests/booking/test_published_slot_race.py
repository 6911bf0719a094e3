"""A published time is never booked twice, on PostgreSQL with one connection per thread
(tests.helpers.at_once): many residents confirm one time at once, with the source system booking
it by phone at the same moment; and many residents open its confirm page at once: exactly one
holds it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.helpers import at_once
from vardkontakt.access.audit import Actor
from vardkontakt.booking.external import ExternalRefused, ExternalSent, external_appointments_upsert
from vardkontakt.booking.external_models import AppointmentChange, ExternalAppointment, ExternalSlot
from vardkontakt.booking.external_slots import (
    ScheduleSent,
    SlotRefused,
    SlotSent,
    scheduling_publish,
    slot_book_online,
    slot_hold,
)
from vardkontakt.identity.models import Patient

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.many_connections,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case"),
]
PEOPLE = 30
SOURCE = Actor("system", "pasis", "Källsystem PASiS (pasis)")


@pytest.fixture
def one_time(personas) -> tuple[ExternalSlot, list[Patient]]:
    unit = personas.unit_admin.memberships.get().unit
    start = timezone.now().replace(microsecond=0, second=0) + dt.timedelta(days=3)
    scheduling_publish(
        source_system="pasis",
        source_name="PASiS",
        schedules=[(0, ScheduleSent(identifier="urn:pasis|S-1", unit=unit, service_type="Provtagning"))],
        slots=[
            (
                1,
                SlotSent(
                    identifier="urn:pasis|T-1",
                    schedule_id=None,
                    schedule_key="urn:pasis|S-1",
                    status="free",
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=15),
                    bookable_online=True,
                ),
            )
        ],
        units=None,
    )
    people = list(Patient.objects.order_by("personnummer")[:PEOPLE])
    assert len(people) == PEOPLE
    return ExternalSlot.objects.select_related("schedule__unit").get(), people


def test_many_residents_and_the_source_book_one_time_at_once_and_exactly_one_gets_it(one_time):
    slot, people = one_time
    unit = slot.schedule.unit
    outcomes: list[str] = []

    def resident(person: Patient):
        def call() -> None:
            try:
                slot_book_online(reader=person, subject=person, unit=unit, slot_id=slot.pk)
                outcomes.append("booked")
            except SlotRefused:
                outcomes.append("refused")

        return call

    def by_phone() -> None:
        sent = ExternalSent(
            identifier="urn:pasis|A-phone",
            patient=people[0],
            unit=unit,
            status="booked",
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            slot=slot,
        )
        try:
            external_appointments_upsert(
                source_system="pasis", source_name="PASiS", sent=[sent], units=None, actor=SOURCE
            )
            outcomes.append("booked")
        except ExternalRefused:
            outcomes.append("refused")

    errors = at_once([*(resident(p) for p in people), by_phone])
    assert errors == []
    assert sorted(outcomes) == ["booked"] + ["refused"] * PEOPLE
    assert ExternalAppointment.objects.filter(slot=slot).count() == 1
    booked = ExternalAppointment.objects.get(slot=slot)
    # A resident's booking tells the source in the feed; the source's own booking does not need to.
    expected_changes = 1 if booked.booked_via == "web" else 0
    assert AppointmentChange.objects.count() == expected_changes


def test_many_residents_open_the_confirm_page_at_once_and_exactly_one_holds_it(one_time):
    slot, people = one_time
    unit = slot.schedule.unit
    held: list[Patient] = []
    refused: list[Patient] = []

    def opens(person: Patient):
        def call() -> None:
            try:
                slot_hold(reader=person, subject=person, unit=unit, slot_id=slot.pk)
                held.append(person)
            except SlotRefused:
                refused.append(person)

        return call

    assert at_once([opens(p) for p in people]) == []
    assert len(held) == 1
    assert len(refused) == PEOPLE - 1
    slot.refresh_from_db()
    assert slot.held_for == held[0]
    # Only the one holding it can book it while the hold runs.
    loser = next(p for p in people if p != held[0])
    with pytest.raises(SlotRefused):
        slot_book_online(reader=loser, subject=loser, unit=unit, slot_id=slot.pk)
    assert slot_book_online(reader=held[0], subject=held[0], unit=unit, slot_id=slot.pk).patient == held[0]
