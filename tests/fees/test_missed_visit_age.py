"""The missed-visit fee (uteblivet besök) and age: the visits' exemptions do not reach it. It is
charged from the region's own age (default 20) and at 85 and over too (issue 19 part 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.fees.helpers import region_with_fees, resident
from vardkontakt.fees.models import FeeKind, FeeRules
from vardkontakt.fees.rules import price_of

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 10)


def born_aged(years: int) -> dt.date:
    return DAY.replace(year=DAY.year - years)


@pytest.fixture
def unit():
    # Visits free under 20 and from 85, as in most regions; the missed-visit fee is 400 kronor.
    return region_with_fees(free_under=20, free_from=85)


@pytest.mark.parametrize(
    ("age", "charged"), [(19, "0.00"), (20, "400.00"), (84, "400.00"), (85, "400.00"), (99, "400.00")]
)
def test_the_missed_visit_fee_is_charged_from_20_and_at_85_too(unit, age, charged):
    price = price_of(patient=resident(born_aged(age)), unit=unit, kind=FeeKind.MISSED_VISIT, day=DAY)
    assert price.amount == Decimal(charged)
    assert price.age_exempt is (age < 20)


def test_the_visit_fee_keeps_its_own_exemptions(unit):
    assert price_of(patient=resident(born_aged(85)), unit=unit, kind=FeeKind.DOCTOR, day=DAY).amount == 0
    assert price_of(patient=resident(born_aged(19)), unit=unit, kind=FeeKind.DOCTOR, day=DAY).amount == 0
    assert price_of(patient=resident(born_aged(40)), unit=unit, kind=FeeKind.DOCTOR, day=DAY).amount == 200


def test_the_missed_visit_age_is_the_regions_setting(unit):
    FeeRules.objects.filter(region=unit.administration.region).update(missed_visit_fee_age_exempt_under=18)
    eighteen = resident(born_aged(18))
    assert price_of(patient=eighteen, unit=unit, kind=FeeKind.MISSED_VISIT, day=DAY).amount == 400
    # The visit itself is still free for them: the region's visit exemption is under 20.
    assert price_of(patient=eighteen, unit=unit, kind=FeeKind.DOCTOR, day=DAY).amount == 0
    FeeRules.objects.filter(region=unit.administration.region).update(missed_visit_fee_age_exempt_under=0)
    assert price_of(patient=resident(born_aged(12)), unit=unit, kind=FeeKind.MISSED_VISIT, day=DAY).amount == 400
