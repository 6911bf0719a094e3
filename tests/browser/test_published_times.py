"""A time another booking system published, booked in a browser (issue 17 part 2): PASiS publishes
a schedule and a free time over the FHIR API; the resident finds it on the unit's booking page
marked with its source, the confirm page holds it, she books it, PASiS reads the booking from its
feed, she cancels it and PASiS reads the time free again. axe runs on every page."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UI
from tests.browser.test_external_appointments import BookingSystem
from tests.fhir.appointment_helpers import SLOT_SCOPES, a_schedule, a_scheduling_bundle, a_slot
from vardkontakt.booking.external_models import ExternalAppointment, ExternalSlot
from vardkontakt.fhir.auth import client_create

pytestmark = pytest.mark.django_db(transaction=True)


class PublishingSystem(BookingSystem):
    """PASiS with the Schedule and Slot scopes besides the Appointment ones."""

    def __init__(self, site: str, unit) -> None:
        _, secret = client_create(
            client_id="pasis", name="PASiS", source_system="pasis", scopes=SLOT_SCOPES, units=[unit]
        )
        self.site = site
        basic = base64.b64encode(f"pasis:{secret}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
        self.token = self._send("POST", "/fhir/auth/token", b"grant_type=client_credentials", headers)["access_token"]


def test_a_resident_books_and_cancels_a_time_another_booking_system_published(ui: UI, site, personas):
    unit = personas.staff_x.memberships.get().unit
    pasis = PublishingSystem(site, unit)
    answer = pasis.fhir("POST", "/fhir", a_scheduling_bundle(a_schedule(unit_hsa=unit.hsa_id), a_slot()))
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created", "201 Created"]
    slot = ExternalSlot.objects.get()

    ui.login(personas.tolvan.personnummer)
    ui.click("Tidbokning", role="link")
    ui.click("Boka tid", role="link")
    ui.click(unit.name, role="link")
    main = ui.page.get_by_role("main")
    expect(main.get_by_text("Från PASiS")).to_be_visible()
    ui.click("Provtagning", role="link")
    time = main.get_by_role("link", name=re.compile(r"^\d\d:\d\d–\d\d:\d\d")).first
    with ui.page.expect_navigation():
        time.click()
    ui.check()
    expect(main).to_contain_text("Bekräfta bokningen")
    expect(main).to_contain_text("Tiden hålls åt dig till")
    assert pasis.fhir("GET", f"/fhir/Slot/{slot.pk}")["status"] == "busy"
    ui.click("Boka")
    expect(ui.page.get_by_text("Tiden är bokad.")).to_be_visible()
    row = ExternalAppointment.objects.get()
    assert (row.patient, row.slot_id, row.status) == (personas.tolvan, slot.pk, "booked")
    feed = pasis.fhir("GET", "/fhir/Appointment/_history?_since=0")
    assert [e["extension"][1]["valueCode"] for e in feed["entry"]] == ["booked"]

    ui.click("Avboka tiden")
    expect(ui.page.get_by_text("Tiden är avbokad.")).to_be_visible()
    feed = pasis.fhir("GET", "/fhir/Appointment/_history?_since=0")
    assert [e["extension"][1]["valueCode"] for e in feed["entry"]] == ["booked", "cancelled"]
    assert pasis.fhir("GET", f"/fhir/Slot/{slot.pk}")["status"] == "free"
