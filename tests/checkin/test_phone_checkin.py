"""Check-in by phone (issue 19 §2): the window's edges (midnight and both DST nights included),
the arrival recorded once, the fee charged once and shown, and nobody else's booking."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from tests.booking.helpers import at, sv, text_of
from tests.checkin.helpers import booking_at, fees_at, patient_client, visit_type_at
from tests.fees.helpers import resident
from vardkontakt.access.audit import SYSTEM
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking import checkin
from vardkontakt.booking.models import Arrival, ArrivalVia, BookingSettings, BookingStatus
from vardkontakt.booking.schedule import settings_of
from vardkontakt.fees import services as fee_services
from vardkontakt.fees.models import Fee, FeeKind
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 10)  # a Wednesday; every test freezes its clock on its own day
UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def unit(personas) -> CareUnit:
    unit = personas.unit_admin.memberships.get().unit
    fees_at(unit)
    BookingSettings.objects.get_or_create(unit=unit)
    return unit


@pytest.fixture
def adult(personas):
    return resident(dt.date(1980, 5, 5), given="Vuxen")


def state_at(booking, now: dt.datetime) -> checkin.State:
    return checkin.check_in_state(booking, now=now).state


def check_in(booking, who, now: dt.datetime) -> checkin.CheckedIn:
    return checkin.booking_check_in(booking_id=booking.pk, via=ArrivalVia.PHONE, by_patient=who, now=now)


# --- the window -----------------------------------------------------------------------------------


def test_the_window_opens_30_minutes_before_and_closes_15_after(unit, adult):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    assert state_at(booking, at(DAY, 10, 0) - dt.timedelta(seconds=1)) is checkin.State.NOT_YET
    assert state_at(booking, at(DAY, 10, 0)) is checkin.State.OPEN
    assert state_at(booking, at(DAY, 10, 45)) is checkin.State.OPEN
    assert state_at(booking, at(DAY, 10, 45) + dt.timedelta(seconds=1)) is checkin.State.CLOSED
    with pytest.raises(checkin.CheckInRefused) as early:
        check_in(booking, adult, at(DAY, 9, 59))
    assert "10:00" in str(early.value)
    with pytest.raises(checkin.CheckInRefused) as late:
        check_in(booking, adult, at(DAY, 10, 46))
    assert "10:45" in str(late.value)
    assert not Arrival.objects.exists() and not Fee.objects.exists()
    assert check_in(booking, adult, at(DAY, 10, 0)).created


def test_the_window_is_the_units_setting(unit, adult):
    BookingSettings.objects.filter(unit=unit).update(checkin_opens_minutes=10, checkin_closes_minutes=0)
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    assert state_at(booking, at(DAY, 10, 19)) is checkin.State.NOT_YET
    assert state_at(booking, at(DAY, 10, 20)) is checkin.State.OPEN
    assert state_at(booking, at(DAY, 10, 31)) is checkin.State.CLOSED


def test_the_window_stays_on_the_day_of_the_visit_around_midnight(unit, adult):
    early = booking_at(unit, adult, at(DAY, 0, 10))
    late = booking_at(unit, adult, at(DAY, 23, 55))
    # 23:50 the evening before is within 30 minutes, but not on the day of the visit.
    assert state_at(early, at(DAY, 0, 10) - 20 * MINUTE) is checkin.State.NONE
    with pytest.raises(checkin.CheckInRefused):
        check_in(early, adult, at(DAY, 0, 10) - 20 * MINUTE)
    assert state_at(early, at(DAY, 0, 0)) is checkin.State.OPEN
    # 00:05 the next day is within 15 minutes of 23:55, but the day is over.
    with pytest.raises(checkin.CheckInRefused):
        check_in(late, adult, at(DAY + dt.timedelta(days=1), 0, 5))
    assert check_in(late, adult, at(DAY, 23, 59)).created


def test_on_the_spring_night_0230_does_not_exist_and_the_window_counts_real_minutes(unit, adult):
    spring = dt.date(2026, 3, 29)  # the clocks go from 02:00 to 03:00
    assert at(spring, 2, 30) == at(spring, 3, 30)  # a wall-clock 02:30 is read as the 03:30 after the gap
    booking = booking_at(unit, adult, at(spring, 3, 0))  # 01:00 UTC
    assert booking.slot.starts_at == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    # 30 real minutes before 03:00 CEST is 01:30 CET.
    assert state_at(booking, dt.datetime(2026, 3, 29, 0, 29, tzinfo=UTC)) is checkin.State.NOT_YET
    assert state_at(booking, dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) is checkin.State.OPEN
    window = checkin.window_of(booking.slot.starts_at, settings_of(unit))
    assert window.closes - window.opens == dt.timedelta(minutes=45)


def test_on_the_autumn_night_each_0230_has_its_own_window(unit, adult):
    first = booking_at(unit, adult, dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 02:30 CEST
    second = booking_at(unit, adult, dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 02:30 CET, an hour later
    during_first = dt.datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 02:45 CEST
    assert state_at(first, during_first) is checkin.State.OPEN
    assert state_at(second, during_first) is checkin.State.NOT_YET
    during_second = dt.datetime(2026, 10, 25, 1, 40, tzinfo=UTC)  # 02:40 CET
    assert state_at(first, during_second) is checkin.State.CLOSED
    assert state_at(second, during_second) is checkin.State.OPEN


# --- checking in ----------------------------------------------------------------------------------


def test_checking_in_by_phone_charges_the_fee_once_and_says_where_to_sit(unit, adult):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    client = patient_client(adult)
    with time_machine.travel(at(DAY, 10, 20), tick=False):
        page = text_of(client.get(reverse("booking:detail", kwargs={"booking_id": booking.pk})))
        assert sv("Check in") in page
        url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
        assert client.post(url).status_code == 302
        receipt = text_of(client.get(url))
        assert sv("You are checked in — take a seat in the waiting room.") in receipt
        assert "200" in receipt
        # A second check-in (a double tap, or the page sent again) changes nothing.
        assert client.post(url).status_code == 302
    assert Arrival.objects.filter(booking=booking).count() == 1
    fee = Fee.objects.get(booking_id=booking.pk)
    assert (fee.kind, fee.amount_charged) == (FeeKind.DOCTOR, Decimal("200.00"))
    assert Arrival.objects.get().fee_id == fee.pk
    assert AuditEntry.objects.filter(action=checkin.CHECK_IN).count() == 1
    assert AuditEntry.objects.filter(action=fee_services.FEE_CHARGE).count() == 1


def test_the_receipt_says_free_with_a_frikort(unit, adult):
    for n in range(7):  # 7 × 200 kronor reach the ceiling of 1 400: the frikort is issued
        fee_services.fee_charge_for_booking(
            actor=SYSTEM,
            booking_id=uuid.uuid4(),
            patient=adult,
            unit=unit,
            kind=FeeKind.DOCTOR,
            day=DAY - dt.timedelta(days=7 - n),
        )
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    client = patient_client(adult)
    with time_machine.travel(at(DAY, 10, 20), tick=False):
        url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
        client.post(url)
        page = text_of(client.get(url))
        assert sv("Free of charge — you have a frikort") in page
    assert Fee.objects.get(booking_id=booking.pk).amount_charged == 0


def test_the_receipt_says_free_at_her_age(unit, personas):
    booking = booking_at(unit, personas.tolvan, at(DAY, 10, 30))  # Tolvan is past 85
    client = patient_client(personas.tolvan)
    with time_machine.travel(at(DAY, 10, 20), tick=False):
        url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
        client.post(url)
        assert sv("Free of charge at your age") in text_of(client.get(url))


def test_a_guardian_checks_in_a_child_and_a_proxy_the_principal(unit, personas):
    child = booking_at(unit, personas.child_9, at(DAY, 10, 30))
    principal = booking_at(unit, personas.principal, at(DAY, 11, 30))
    check_in(child, personas.guardian, at(DAY, 10, 20))
    check_in(principal, personas.adult_proxy, at(DAY, 11, 20))
    assert Arrival.objects.filter(by_patient=personas.guardian, booking=child).exists()
    assert Arrival.objects.filter(by_patient=personas.adult_proxy, booking=principal).exists()


def test_someone_elses_booking_is_not_found(unit, personas, adult):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
    client = patient_client(personas.other_patient)
    with time_machine.travel(at(DAY, 10, 20), tick=False):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert not Arrival.objects.exists() and not Fee.objects.exists()


def test_a_cancelled_booking_is_never_checked_in(unit, adult):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    booking.status = BookingStatus.CANCELLED
    booking.ended_at = at(DAY, 8, 0)
    booking.save()
    client = patient_client(adult)
    with time_machine.travel(at(DAY, 10, 20), tick=False):
        url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
        response = client.post(url)
        assert response.status_code == 400
        assert sv("This appointment is cancelled or moved, so there is nothing to check in to.") in text_of(response)
        assert sv("Check in") not in text_of(client.get(reverse("booking:detail", kwargs={"booking_id": booking.pk})))
    assert not Arrival.objects.exists()


def test_outside_the_window_the_page_says_when(unit, adult):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    client = patient_client(adult)
    url = reverse("booking:check_in", kwargs={"booking_id": booking.pk})
    with time_machine.travel(at(DAY, 8, 0), tick=False):
        response = client.post(url)
    assert response.status_code == 400
    assert (sv("Check-in opens %(opens)s, on the day of the visit.") % {"opens": "10:00"}) in text_of(response)
    assert not Arrival.objects.exists()


def test_a_video_visit_has_no_check_in(unit, adult):
    booking = booking_at(unit, adult, at(DAY, 10, 30), visit=visit_type_at(unit, fee_kind=FeeKind.VIDEO))
    assert state_at(booking, at(DAY, 10, 20)) is checkin.State.NONE
    with pytest.raises(checkin.CheckInRefused):
        check_in(booking, adult, at(DAY, 10, 20))


def test_the_unit_administrator_sets_the_window_and_the_missed_minutes(unit, personas):
    from tests.checkin.helpers import staff_client

    url = reverse("booking_staff:setup", kwargs={"unit_id": unit.pk})
    form = {"horizon_weeks": "8", "release_hours": "48", "reminder_hours": "24"}
    response = staff_client(personas.unit_admin).post(
        url, {**form, "checkin_opens_minutes": "20", "checkin_closes_minutes": "0", "missed_after_minutes": "30"}
    )
    assert response.status_code == 302
    rules = settings_of(unit)
    assert (rules.checkin_opens_minutes, rules.checkin_closes_minutes, rules.missed_after_minutes) == (20, 0, 30)
    refused = staff_client(personas.unit_admin).post(url, {**form, "checkin_opens_minutes": "999"})
    assert refused.status_code == 400
    assert settings_of(unit).checkin_opens_minutes == 20
