"""The unit's check-in kiosk (issue 19 §2.2): a device registered by the unit administrator with a
one-time link (its cookie the only door, revocable), identifying by personnummer and the time of
the appointment (the same answer for a wrong time as for an unknown person, limited per device) or
by mobile BankID through the OIDC login, checking in, and the reset."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.booking.helpers import at, sv, text_of
from tests.checkin.helpers import booking_at, fees_at, staff_client
from tests.fees.helpers import resident
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.models import Arrival, ArrivalVia, BookingSettings
from vardkontakt.fees.models import Fee
from vardkontakt.identity.models import User
from vardkontakt.identity.oidc import VerifiedLogin
from vardkontakt.kiosk import services, views
from vardkontakt.kiosk.models import KioskDevice, KioskVisit
from vardkontakt.kiosk.selectors import DEVICE_COOKIE, VISIT_COOKIE

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 10)
NOW = at(DAY, 10, 20)


@pytest.fixture(autouse=True)
def clock():
    cache.clear()  # the per-device limit lives in the cache
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def unit(personas):
    unit = personas.unit_admin.memberships.get().unit
    fees_at(unit)
    BookingSettings.objects.get_or_create(unit=unit)
    return unit


@pytest.fixture
def adult():
    return resident(dt.date(1980, 5, 5), given="Vuxen")


def link_in(response) -> str:
    found = re.search(r'<code id="kiosk-link">([^<]+)</code>', response.content.decode())
    assert found, "no registration link on the page"
    return found.group(1)


def register_kiosk(unit, personas) -> Client:
    """The unit administrator adds a kiosk; its link is opened on the device (a client of its own)."""
    admin = staff_client(personas.unit_admin)
    response = admin.post(
        reverse("kiosk_staff:devices", kwargs={"unit_id": unit.pk}), {"name": "Entrén", "form_key": "k1"}
    )
    link = link_in(response)
    device = Client()
    assert device.get(link).status_code == 200
    assert device.post(link).status_code == 302
    return device


def start_url(unit) -> str:
    return reverse("kiosk:start", kwargs={"unit_id": unit.pk})


def bookings_url(unit) -> str:
    return reverse("kiosk:bookings", kwargs={"unit_id": unit.pk})


def identify(kiosk: Client, unit, personnummer: str, time: str):
    return kiosk.post(start_url(unit), {"personnummer": personnummer, "time": time})


def error_of(response) -> str:
    found = re.search(r'<div class="nhsuk-error-summary".*?</div></div>', text_of(response), re.S)
    return found.group(0) if found else ""


# --- the device -------------------------------------------------------------------------------------


def test_a_registered_device_opens_the_kiosk_and_nobody_else_does(unit, personas):
    kiosk = register_kiosk(unit, personas)
    assert kiosk.cookies[DEVICE_COOKIE]["httponly"]
    response = kiosk.get(start_url(unit))
    assert response.status_code == 200
    assert sv("Check in for your appointment") in text_of(response)
    assert "<svg" in response.content.decode()  # the mobile BankID QR code
    device = KioskDevice.objects.get()
    assert device.registered_at is not None and device.registration_digest is None
    assert device.token_digest is not None and len(device.token_digest) == 64
    assert kiosk.cookies[DEVICE_COOKIE].value not in device.token_digest
    # Without the device's cookie: no kiosk, logged in or not.
    assert Client().get(start_url(unit)).status_code == 404
    assert staff_client(personas.unit_admin).get(start_url(unit)).status_code == 404
    # The kiosk of another unit is not this one.
    other = personas.nurse.memberships.first().unit
    assert kiosk.get(start_url(other)).status_code == 404


def test_the_registration_link_works_once(unit, personas):
    admin = staff_client(personas.unit_admin)
    response = admin.post(
        reverse("kiosk_staff:devices", kwargs={"unit_id": unit.pk}), {"name": "Entrén", "form_key": "k"}
    )
    link = link_in(response)
    assert Client().post(link).status_code == 302
    assert Client().get(link).status_code == 404
    assert Client().post(link).status_code == 404
    assert KioskDevice.objects.count() == 1
    assert AuditEntry.objects.filter(action=services.DEVICE_REGISTER, unit_id=str(unit.pk)).count() == 1
    assert AuditEntry.objects.filter(action=services.DEVICE_CREATE, actor_id=str(personas.unit_admin.pk)).count() == 1


def test_a_registration_link_runs_out_after_a_day(unit, personas):
    made = services.kiosk_device_create(staff=personas.unit_admin, unit=unit, name="Entrén")
    link = reverse("kiosk:register", kwargs={"code": made.code})
    with time_machine.travel(NOW + dt.timedelta(hours=25), tick=False):
        assert Client().post(link).status_code == 404


def test_a_revoked_kiosk_is_not_found(unit, personas):
    kiosk = register_kiosk(unit, personas)
    device = KioskDevice.objects.get()
    admin = staff_client(personas.unit_admin)
    assert (
        admin.post(reverse("kiosk_staff:revoke", kwargs={"unit_id": unit.pk, "device_id": device.pk})).status_code
        == 302
    )
    assert kiosk.get(start_url(unit)).status_code == 404
    assert AuditEntry.objects.filter(action=services.DEVICE_REVOKE).count() == 1


def test_only_the_units_administrator_manages_its_kiosks(unit, personas):
    url = reverse("kiosk_staff:devices", kwargs={"unit_id": unit.pk})
    assert staff_client(personas.unit_admin).get(url).status_code == 200
    assert staff_client(personas.staff_x).get(url).status_code == 403  # a member without the role
    assert staff_client(personas.nurse).get(url).status_code == 404  # another unit's


def test_the_same_add_form_sent_twice_makes_one_kiosk(unit, personas):
    admin = staff_client(personas.unit_admin)
    url = reverse("kiosk_staff:devices", kwargs={"unit_id": unit.pk})
    admin.post(url, {"name": "Entrén", "form_key": "same"})
    admin.post(url, {"name": "Entrén", "form_key": "same"})
    assert KioskDevice.objects.count() == 1


# --- a person at the kiosk -----------------------------------------------------------------------------


def test_personnummer_and_time_find_the_appointment_and_check_in(unit, personas, adult):
    booking = booking_at(unit, adult, at(DAY, 10, 30))
    kiosk = register_kiosk(unit, personas)
    response = identify(kiosk, unit, adult.personnummer, "10:30")
    assert response.status_code == 302 and response["Location"] == bookings_url(unit)
    page = text_of(kiosk.get(bookings_url(unit)))
    assert "Vuxen" in page and "10:30" in page
    receipt = kiosk.post(bookings_url(unit), {"booking": str(booking.pk)})
    assert sv("You are checked in — take a seat in the waiting room.") in text_of(receipt)
    assert "200" in text_of(receipt)
    arrival = Arrival.objects.get()
    assert (arrival.booking_id, arrival.via, arrival.kiosk_device_id) == (
        booking.pk,
        ArrivalVia.KIOSK,
        KioskDevice.objects.get().pk,
    )
    assert Fee.objects.get().booking_id == booking.pk
    # The visit is over: the next person starts from the start, with nothing of this one left.
    assert KioskVisit.objects.get().ended_at is not None
    after = kiosk.get(bookings_url(unit))
    assert after.status_code == 302 and after["Location"] == start_url(unit)
    assert "Vuxen" not in text_of(kiosk.get(start_url(unit)))
    actions = set(AuditEntry.objects.filter(patient_id=str(adult.pk)).values_list("action", flat=True))
    assert {"kiosk.identify", "kiosk.bookings.read", "booking.checkin"} <= actions


def test_a_wrong_time_gives_the_same_answer_as_an_unknown_person(unit, personas, adult):
    booking_at(unit, adult, at(DAY, 10, 30))
    kiosk = register_kiosk(unit, personas)
    wrong_time = identify(kiosk, unit, adult.personnummer, "10:45")
    unknown = identify(kiosk, unit, "19121212-1212", "10:30")  # Tolvan, with no appointment here today
    nobody = identify(kiosk, unit, "190101010101", "10:30")  # not a valid personnummer at all
    assert wrong_time.status_code == unknown.status_code == nobody.status_code == 400
    assert error_of(wrong_time) == error_of(unknown) == error_of(nobody) != ""
    assert not KioskVisit.objects.exists()


def test_tries_are_limited_per_device_even_for_the_right_answer_after(unit, personas, adult):
    booking_at(unit, adult, at(DAY, 10, 30))
    kiosk = register_kiosk(unit, personas)
    for _n in range(10):
        identify(kiosk, unit, adult.personnummer, "11:11")
    locked = identify(kiosk, unit, adult.personnummer, "10:30")
    assert locked.status_code == 400
    assert sv("Too many tries") in text_of(locked)
    assert not KioskVisit.objects.exists()


def test_someone_elses_booking_cannot_be_checked_in_at_the_kiosk(unit, personas, adult):
    booking_at(unit, adult, at(DAY, 10, 30))
    others = booking_at(unit, personas.tolvan, at(DAY, 10, 40))
    kiosk = register_kiosk(unit, personas)
    identify(kiosk, unit, adult.personnummer, "10:30")
    assert kiosk.post(bookings_url(unit), {"booking": str(others.pk)}).status_code == 404
    assert not Arrival.objects.exists()


def test_the_visit_expires_on_the_server_and_done_ends_it(unit, personas, adult):
    booking_at(unit, adult, at(DAY, 10, 30))
    kiosk = register_kiosk(unit, personas)
    identify(kiosk, unit, adult.personnummer, "10:30")
    with time_machine.travel(NOW + dt.timedelta(minutes=4), tick=False):
        assert kiosk.get(bookings_url(unit)).status_code == 302  # back at the start
    identify(kiosk, unit, adult.personnummer, "10:30")
    assert kiosk.get(bookings_url(unit)).status_code == 200
    assert kiosk.post(reverse("kiosk:done", kwargs={"unit_id": unit.pk})).status_code == 302
    assert AuditEntry.objects.filter(action=services.IDENTIFY).count() == 2  # each identification, logged
    assert kiosk.get(bookings_url(unit)).status_code == 302
    assert KioskVisit.objects.filter(ended_at__isnull=False).count() == 1  # the second, ended by "Done"


def test_a_bankid_login_completed_on_the_phone_is_taken_by_its_kiosk_once(unit, personas, adult):
    booking_at(unit, adult, at(DAY, 10, 30))
    kiosk = register_kiosk(unit, personas)
    device = KioskDevice.objects.get()
    login, _secret = services.kiosk_login_begin(device=device)
    poll = reverse("kiosk:bankid_poll", kwargs={"unit_id": unit.pk, "login_id": login.pk})
    assert kiosk.get(poll).json() == {"done": False}
    # The provider's verified answer (the whole round trip: test_kiosk_bankid.py) reaches the
    # purpose's handler instead of a login.
    request = RequestFactory().get("/")
    request.session = SessionStore()
    verified = VerifiedLogin(user=User.objects.get_or_create_for_patient(adult), acr="loa3")
    answer = views.bankid_done(request, verified, str(login.pk))
    assert answer.status_code == 200
    assert not request.session.keys()  # nobody logged in on the phone
    taken = kiosk.get(poll).json()
    assert taken == {"done": True, "next": bookings_url(unit)}
    assert kiosk.cookies[VISIT_COOKIE].value
    assert "Vuxen" in text_of(kiosk.get(bookings_url(unit)))
    assert kiosk.get(poll).json() == {"done": False}  # taken once
    identified = AuditEntry.objects.get(action=services.IDENTIFY)
    assert (identified.patient_id, identified.unit_id) == (str(adult.pk), str(unit.pk))
    # Another kiosk's poll never takes it.
    assert Client().get(poll).status_code == 404
