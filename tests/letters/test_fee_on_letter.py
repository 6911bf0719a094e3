"""The letter tells the fee the region's schedule charges this person on the day of the visit, as the
booking pages do: the schedule's amount over the visit type's own figure, and free of charge with a
frikort or at an exempt age."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.letters.conftest import at, local, slots_from
from vardkontakt.booking.models import VisitType
from vardkontakt.booking.services import booking_create_online
from vardkontakt.fees import services as fee_services
from vardkontakt.fees.models import FeeKind, FeeRules, FeeSchedule
from vardkontakt.letters.models import Letter
from vardkontakt.letters.services import letters_issue_due

pytestmark = pytest.mark.django_db

MONDAY = (2026, 11, 30)


@pytest.fixture
def doctor_visit(unit) -> VisitType:
    region = unit.administration.region
    # Tolvan is over a hundred: a region charging every age from 20 charges her; Liam (9) is free.
    FeeRules.objects.update_or_create(region=region, defaults={"free_under_age": 20, "free_from_age": 0})
    FeeSchedule.objects.update_or_create(
        region=region,
        kind=FeeKind.DOCTOR,
        unit_kind="",
        effective_from=dt.date(MONDAY[0], 1, 1),  # the year of the frozen days below
        defaults={"amount": Decimal(250)},
    )
    return VisitType.objects.create(
        unit=unit,
        name="Läkarbesök",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        fee_kind=FeeKind.DOCTOR,
        fee_kronor=999,  # the schedule wins over the visit type's own figure
    )


def letter_of(unit, slot, patient, actor) -> Letter:
    with at(local(*MONDAY, 10)):
        booking = booking_create_online(slot_id=slot.pk, unit=unit, subject=patient, actor=actor)
    with at(local(*MONDAY, 18, 5)):
        letters_issue_due()
    return Letter.objects.get(booking=booking)


def test_the_letter_shows_the_schedules_fee_not_the_visit_types(unit, doctor_visit, personas):
    slot = slots_from(unit, doctor_visit, personas.staff_x, local(2026, 12, 7, 9), count=1)[0]
    letter = letter_of(unit, slot, personas.tolvan, personas.tolvan)
    assert "250 kronor" in letter.html_sv and not re.search(r"\b999\b", letter.html_sv)
    assert "250 kronor" in letter.html_en and "high-cost protection" in letter.html_en


def test_with_a_frikort_the_letter_says_free_of_charge_you_have_a_frikort(unit, doctor_visit, personas):
    with at(local(*MONDAY, 9)):  # a receipt of four weeks earlier, registered that Monday
        fee_services.fee_register_external(
            staff=personas.staff_x,
            unit=unit,
            patient=personas.tolvan,
            day=local(*MONDAY, 9).date() - dt.timedelta(weeks=4),
            amount=Decimal(1400),
            provider="Region Uppsala",
            reason="Kvitto",
        )
    slot = slots_from(unit, doctor_visit, personas.staff_x, local(2026, 12, 7, 9), count=1)[0]
    letter = letter_of(unit, slot, personas.tolvan, personas.tolvan)
    assert "Avgiftsfritt — du har frikort" in letter.html_sv and not re.search(r"\b250\b", letter.html_sv)
    assert "you have a frikort" in letter.html_en


def test_a_child_under_the_regions_age_gets_a_letter_saying_free_at_your_age(unit, doctor_visit, personas):
    slot = slots_from(unit, doctor_visit, personas.staff_x, local(2026, 12, 7, 9), count=1)[0]
    letter = letter_of(unit, slot, personas.child_9, personas.guardian)
    assert "Avgiftsfritt i din ålder" in letter.html_sv and not re.search(r"\b250\b", letter.html_sv)
