"""Staff's side of arriving (issue 19 §2.3): "anländ" on the day list, the live arrivals, marking a
visit missed (the missed-visit fee once, when the booking was not cancelled in time) and undoing it
the same day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from tests.booking.helpers import at, sv, text_of
from tests.checkin.helpers import booking_at, fees_at, staff_client
from tests.fees.helpers import resident
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking import checkin
from vardkontakt.booking.models import ArrivalVia, BookingSettings, BookingStatus, MissedVisit
from vardkontakt.fees.models import Fee, FeeKind
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 10)


@pytest.fixture
def unit(personas) -> CareUnit:
    unit = personas.unit_admin.memberships.get().unit  # Lindängen, where staff X works
    fees_at(unit)
    BookingSettings.objects.get_or_create(unit=unit)
    return unit


@pytest.fixture
def adult():
    return resident(dt.date(1980, 5, 5), given="Vuxen")


def book_url(unit, day=DAY) -> str:
    return reverse("booking_staff:book", kwargs={"unit_id": unit.pk}) + f"?date={day.isoformat()}&view=day"


def missed_url(unit, booking, undo: bool = False) -> str:
    name = "booking_staff:missed_undo" if undo else "booking_staff:missed"
    return reverse(name, kwargs={"unit_id": unit.pk, "booking_id": booking.pk})


def test_the_day_list_shows_arrived_with_the_time_and_the_live_list_has_it(unit, adult, personas):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    client = staff_client(personas.staff_x)
    with time_machine.travel(at(DAY, 10, 20), tick=False):
        live = reverse("booking_staff:arrivals", kwargs={"unit_id": unit.pk}) + f"?date={DAY.isoformat()}"
        assert client.get(live).json() == {"arrivals": {}}
        page = client.get(book_url(unit))
        assert 'data-arrivals-url="' in page.content.decode()  # today's list polls for arrivals
        checkin.booking_check_in(booking_id=booking.pk, via=ArrivalVia.KIOSK, by_patient=adult, kiosk_unit_id=unit.pk)
        assert client.get(live).json() == {"arrivals": {str(booking.pk): "10:20"}}
        assert sv("Arrived") + " <span data-arrival-time>10:20</span>" in text_of(client.get(book_url(unit)))
    # Another unit's staff: not their book.
    assert staff_client(personas.nurse).get(live).status_code == 404


def test_a_visit_not_checked_in_is_marked_missed_once_with_its_fee(unit, adult, personas):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    client = staff_client(personas.staff_x)
    with time_machine.travel(at(DAY, 10, 44), tick=False):  # 14 minutes after the start: too early
        response = client.post(missed_url(unit, booking), follow=True)
        assert (sv("A visit can be marked missed from %(at)s.") % {"at": "10:45"}) in text_of(response)
        assert not MissedVisit.objects.exists()
    with time_machine.travel(at(DAY, 10, 45), tick=False):
        assert sv("Mark as missed") in text_of(client.get(book_url(unit)))
        assert client.post(missed_url(unit, booking)).status_code == 302
        assert client.post(missed_url(unit, booking)).status_code == 302  # a second click
        page = text_of(client.get(book_url(unit)))
        assert sv("Undo missed visit") in page
    fee = Fee.objects.get()
    assert (fee.booking_id, fee.kind, fee.amount_charged, fee.counts) == (
        booking.pk,
        FeeKind.MISSED_VISIT,
        Decimal("400.00"),
        False,
    )
    assert MissedVisit.objects.get().fee_id == fee.pk
    assert AuditEntry.objects.filter(action=checkin.MARK_MISSED).count() == 1


def test_undo_the_same_day_takes_the_fee_back_and_not_the_next_day(unit, adult, personas):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    other = booking_at(unit, adult, at(DAY, 11, 30))
    client = staff_client(personas.staff_x)
    with time_machine.travel(at(DAY, 12, 0), tick=False):
        client.post(missed_url(unit, booking))
        client.post(missed_url(unit, other))
        assert Fee.objects.count() == 2
        assert client.post(missed_url(unit, booking, undo=True)).status_code == 302
        assert not MissedVisit.objects.filter(booking=booking).exists()
        assert not Fee.objects.filter(booking_id=booking.pk).exists()
        assert AuditEntry.objects.filter(action="fees.fee.withdraw").count() == 1
    with time_machine.travel(at(DAY + dt.timedelta(days=1), 8, 0), tick=False):
        response = client.post(missed_url(unit, other, undo=True), follow=True)
        assert sv("A missed visit can only be undone the same day it was marked.") in text_of(response)
    assert MissedVisit.objects.filter(booking=other).exists() and Fee.objects.filter(booking_id=other.pk).exists()


def test_a_checked_in_visit_is_not_missed(unit, adult, personas):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    checkin.booking_check_in(booking_id=booking.pk, via=ArrivalVia.PHONE, by_patient=adult, now=at(DAY, 10, 25))
    with pytest.raises(checkin.CheckInRefused) as refused:
        checkin.booking_mark_missed(booking_id=booking.pk, staff=personas.staff_x, now=at(DAY, 11, 0))
    assert refused.value.refusal is checkin.MissedRefusal.ARRIVED
    assert not Fee.objects.filter(kind=FeeKind.MISSED_VISIT).exists()


def test_a_missed_visit_cannot_then_be_checked_in(unit, adult, personas):
    unit.booking_settings.missed_after_minutes = 5
    unit.booking_settings.save()
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    checkin.booking_mark_missed(booking_id=booking.pk, staff=personas.staff_x, now=at(DAY, 10, 36))
    with pytest.raises(checkin.CheckInRefused):
        checkin.booking_check_in(booking_id=booking.pk, via=ArrivalVia.PHONE, by_patient=adult, now=at(DAY, 10, 40))


@pytest.mark.parametrize(("hours_before", "charged"), [(23, True), (25, False)])
def test_a_cancelled_booking_is_missed_only_when_cancelled_late(unit, adult, personas, hours_before, charged):
    """The region's rule: cancelled at least 24 hours before is no missed visit."""
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    booking.status = BookingStatus.CANCELLED
    booking.ended_at = booking.slot.starts_at - dt.timedelta(hours=hours_before)
    booking.save()
    if charged:
        checkin.booking_mark_missed(booking_id=booking.pk, staff=personas.staff_x, now=at(DAY, 11, 0))
        assert Fee.objects.get().kind == FeeKind.MISSED_VISIT
    else:
        with pytest.raises(checkin.CheckInRefused):
            checkin.booking_mark_missed(booking_id=booking.pk, staff=personas.staff_x, now=at(DAY, 11, 0))
        assert not Fee.objects.exists()


def test_staff_of_another_unit_cannot_mark_missed(unit, adult, personas):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    with time_machine.travel(at(DAY, 11, 0), tick=False):
        response = staff_client(personas.nurse).post(missed_url(unit, booking))
    assert response.status_code == 404
    assert not MissedVisit.objects.exists()
