"""Mobile BankID at the kiosk, the whole way over real HTTP: the QR code's link opened on a phone
goes through the demo identity provider and back; the kiosk, polling, takes the person in; nobody
is logged in on the phone or on the kiosk."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import requests
from django.utils import timezone

from tests.booking.helpers import sv
from tests.checkin.helpers import booking_at, fees_at
from tests.conftest import LOA3
from vardkontakt.booking.models import Arrival, ArrivalVia
from vardkontakt.kiosk import services
from vardkontakt.kiosk.selectors import DEVICE_COOKIE

pytestmark = pytest.mark.django_db(transaction=True)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, f"no {name} on the page"
    return match[1]


def attribute(page: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]+)"', page)
    assert match, f"no {name} on the page"
    return html.unescape(match[1])


def test_the_qr_code_logs_in_on_the_phone_and_the_kiosk_checks_in(site, personas):
    unit = personas.unit_admin.memberships.get().unit
    fees_at(unit)
    # Starting this very minute: its check-in is open, on its own day, whenever the test runs.
    booking = booking_at(unit, personas.tolvan, timezone.now() - dt.timedelta(seconds=30))
    made = services.kiosk_device_create(staff=personas.unit_admin, unit=unit, name="Entrén")
    _device, token = services.kiosk_device_register(code=made.code)
    kiosk = requests.Session()
    kiosk.cookies.set(DEVICE_COOKIE, token, path="/kiosk/")
    start = kiosk.get(f"{site}/kiosk/{unit.pk}/", timeout=10)
    assert start.status_code == 200
    poll = site + attribute(start.text, "data-bankid-poll")
    qr_link = attribute(start.text, "data-bankid-url")
    assert kiosk.get(poll, timeout=10).json() == {"done": False}

    phone = requests.Session()
    to_provider = phone.get(qr_link, allow_redirects=False, timeout=10)
    assert to_provider.status_code == 302
    chooser = phone.get(to_provider.headers["Location"], timeout=10)
    fields = {
        "csrfmiddlewaretoken": hidden(chooser.text, "csrfmiddlewaretoken"),
        "request": hidden(chooser.text, "request"),
        "identity_number": personas.tolvan.personnummer,
        "acr": LOA3,
        "login": "1",
    }
    back = phone.post(chooser.url, data=fields, allow_redirects=False, headers={"Referer": chooser.url}, timeout=10)
    assert back.status_code == 302
    done = phone.get(back.headers["Location"], allow_redirects=False, timeout=10)
    assert done.status_code == 200
    assert html.escape(sv("Done — look at the kiosk")) in done.text
    # Nobody is logged in on the phone: its own pages still ask for a login.
    assert phone.get(f"{site}/bookings/", allow_redirects=False, timeout=10).status_code == 302

    taken = kiosk.get(poll, timeout=10).json()
    assert taken["done"] is True
    page = kiosk.get(site + taken["next"], timeout=10)
    assert "Tolvan" in page.text
    answer = kiosk.post(
        site + taken["next"],
        data={"csrfmiddlewaretoken": hidden(page.text, "csrfmiddlewaretoken"), "booking": str(booking.pk)},
        headers={"Referer": site + taken["next"]},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text[:300]
    assert Arrival.objects.get(booking=booking).via == ArrivalVia.KIOSK
    # And the kiosk is back to nobody.
    assert kiosk.get(site + taken["next"], allow_redirects=False, timeout=10).status_code == 302
