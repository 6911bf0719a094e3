"""Issue 19 §2 in a real browser: the kiosk checks a person in and resets itself to the start with
nothing of them left, and the unit's day list shows "Anländ" without a reload."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.checkin.helpers import booking_at, fees_at
from vardkontakt.booking.checkin import booking_check_in
from vardkontakt.booking.models import ArrivalVia
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.kiosk import services
from vardkontakt.kiosk.selectors import DEVICE_COOKIE

pytestmark = pytest.mark.django_db(transaction=True)


def this_minute():
    # The visit starts this very minute: its check-in is open, on its own day, whenever the test runs.
    return timezone.now().replace(second=0, microsecond=0)


def test_the_kiosk_checks_in_and_goes_back_to_the_start_with_no_name_left(ui, personas, site):
    unit = personas.unit_admin.memberships.get().unit
    fees_at(unit)
    booking = booking_at(unit, personas.tolvan, this_minute())
    made = services.kiosk_device_create(staff=personas.unit_admin, unit=unit, name="Entrén")
    _device, token = services.kiosk_device_register(code=made.code)
    ui.page.context.add_cookies([{"name": DEVICE_COOKIE, "value": token, "url": f"{site}/kiosk/"}])
    page = ui.page
    start = f"/kiosk/{unit.pk}/"

    ui.goto(start)
    expect(page.get_by_role("heading", level=1)).to_have_text("Checka in till ditt besök")
    ui.click("In English")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in for your appointment")
    ui.click("På svenska")
    page.get_by_label("Personnummer").fill(personas.tolvan.personnummer)
    page.get_by_label("Tiden för ditt besök").fill(f"{booking.slot.starts_at.astimezone(STOCKHOLM):%H:%M}")
    ui.click("Hitta min tid")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Tolvan")
    ui.click(re.compile("^Checka in"))
    expect(page.get_by_text("Du är incheckad — sätt dig i väntrummet.")).to_be_visible()
    # Nobody touches the screen: it goes back to the start by itself.
    page.wait_for_url(f"{site}{start}", timeout=30_000)
    ui.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Checka in till ditt besök")
    assert "Tolvan" not in page.content()
    expect(page.get_by_label("Personnummer")).to_have_value("")
    # And the person's visit is over on the server too: their list is not there any more.
    ui.goto(f"/kiosk/{unit.pk}/bookings/")
    expect(page).to_have_url(f"{site}{start}")


def test_staff_see_arrived_on_the_day_list_without_reloading(ui, personas, site):
    unit = personas.unit_admin.memberships.get().unit
    fees_at(unit)
    booking = booking_at(unit, personas.tolvan, this_minute())
    ui.login(personas.staff_x.hsa_id, side="staff")
    ui.goto(f"/staff/units/{unit.pk}/appointments/")
    arrived = ui.page.locator(f'[data-arrival-of="{booking.pk}"]')
    expect(arrived).to_be_hidden()
    loads = len(ui.loaded)
    booking_check_in(booking_id=booking.pk, via=ArrivalVia.PHONE, by_patient=personas.tolvan)
    expect(arrived).to_be_visible(timeout=20_000)  # the page asks every 10 seconds
    expect(arrived).to_contain_text("Anländ")
    expect(arrived).to_contain_text(re.compile(r"\d\d:\d\d"))
    assert len(ui.loaded) == loads  # no reload
