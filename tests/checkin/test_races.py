"""PostgreSQL: two check-ins of one booking at once are one arrival and one fee; two staff marking
the same visit missed at once make one mark and one missed-visit fee."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from tests.checkin.helpers import booking_at
from tests.fees.helpers import region_with_fees, resident
from tests.helpers import at_once
from vardkontakt.booking import checkin
from vardkontakt.booking.models import Arrival, ArrivalVia, MissedVisit
from vardkontakt.booking.schedule import local_instant
from vardkontakt.fees.models import Fee, FeeKind
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Membership

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case"),
]
DAY = dt.date(2026, 6, 10)


@pytest.fixture
def world():
    unit = region_with_fees()
    staff = [
        Staff.objects.create(
            hsa_id=f"SE2321000000-R{n:04d}", given_name="Test", family_name=f"Vård{n}", profession="doctor"
        )
        for n in (1, 2)
    ]
    for member in staff:
        Membership.objects.create(staff=member, unit=unit)
    return unit, staff, resident(dt.date(1980, 5, 5))


def test_two_staff_marking_the_same_visit_missed_at_once_make_one_fee(world):
    unit, staff, adult = world
    for _round in range(3):
        booking = booking_at(unit, adult, local_instant(DAY, dt.time(9 + _round)))
        later = booking.slot.starts_at + dt.timedelta(minutes=30)
        calls = [
            (
                lambda member=member, b=booking, at=later: checkin.booking_mark_missed(
                    booking_id=b.pk, staff=member, now=at
                )
            )
            for member in staff
        ]
        assert at_once(calls) == []
        assert MissedVisit.objects.filter(booking=booking).count() == 1
        assert Fee.objects.filter(booking_id=booking.pk, kind=FeeKind.MISSED_VISIT).count() == 1


def test_two_check_ins_of_one_booking_at_once_are_one_arrival_and_one_fee(world):
    unit, _staff, adult = world
    booking = booking_at(unit, adult, local_instant(DAY, dt.time(10)))
    now = booking.slot.starts_at - dt.timedelta(minutes=5)
    calls = [
        lambda: checkin.booking_check_in(booking_id=booking.pk, via=ArrivalVia.PHONE, by_patient=adult, now=now),
        lambda: checkin.booking_check_in(
            booking_id=booking.pk, via=ArrivalVia.KIOSK, by_patient=adult, kiosk_unit_id=unit.pk, now=now
        ),
    ]
    assert at_once(calls) == []
    assert Arrival.objects.filter(booking=booking).count() == 1
    assert Fee.objects.filter(booking_id=booking.pk).count() == 1
