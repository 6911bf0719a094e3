"""Two fees registered at the same moment for the same ceiling never together pass it (PostgreSQL:
the holder's row lock decides them one after the other)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from tests.fees.helpers import guardian_of, region_with_fees, resident
from tests.helpers import at_once
from vardkontakt.access.audit import SYSTEM
from vardkontakt.fees import services
from vardkontakt.fees.models import Fee, FeeKind, Frikort, HighCostPeriod

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case"),
]


def test_two_siblings_charged_at_once_share_one_ceiling_and_one_frikort():
    unit = region_with_fees(doctor=Decimal("1000"))
    parent = resident(dt.date(1980, 1, 1))
    children = [resident(dt.date(2015, 1, 1)), resident(dt.date(2017, 1, 1))]
    for child in children:
        guardian_of(child, parent)
    day = dt.date(2026, 3, 1)

    def charge(child):
        return lambda: services.fee_charge_for_booking(
            actor=SYSTEM, booking_id=uuid.uuid4(), patient=child, unit=unit, kind=FeeKind.DOCTOR, day=day
        )

    for _round in range(3):  # every round starts on a fresh holder, period and frikort
        Fee.objects.all().delete()
        HighCostPeriod.objects.all().delete()
        assert at_once([charge(child) for child in children]) == []
        charged = sorted(Fee.objects.values_list("amount_charged", flat=True))
        assert charged == [Decimal("400.00"), Decimal("1000.00")]
        assert HighCostPeriod.objects.get().used == Decimal("1400.00")
        assert Frikort.objects.count() == 1


def test_the_same_booking_charged_twice_at_once_is_one_fee():
    unit = region_with_fees(doctor=Decimal("300"))
    adult = resident(dt.date(1980, 1, 1))
    booking = uuid.uuid4()
    call = lambda: services.fee_charge_for_booking(  # noqa: E731
        actor=SYSTEM, booking_id=booking, patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 3, 1)
    )
    assert at_once([call, call, call]) == []
    assert Fee.objects.count() == 1
    assert HighCostPeriod.objects.get().used == Decimal("300.00")
