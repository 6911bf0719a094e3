"""An appointment another booking system published, in a browser (issue 17 part 2): the system
publishes it over the FHIR API, the resident finds it in "Tidbokning" marked with its source and
asks to cancel it; the system reads the request from the change feed and cancels, and the resident
sees it cancelled. axe runs on every page."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UI
from tests.fhir.appointment_helpers import APPOINTMENT_SCOPES, an_appointment
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.fhir.auth import client_create

pytestmark = pytest.mark.django_db(transaction=True)


class BookingSystem:
    """PASiS, speaking FHIR JSON over HTTP to the live server."""

    def __init__(self, site: str, unit) -> None:
        _, secret = client_create(
            client_id="pasis", name="PASiS", source_system="pasis", scopes=APPOINTMENT_SCOPES, units=[unit]
        )
        self.site = site
        basic = base64.b64encode(f"pasis:{secret}".encode()).decode()
        answer = self._send(
            "POST",
            "/fhir/auth/token",
            b"grant_type=client_credentials",
            {
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        self.token = answer["access_token"]

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        request = urllib.request.Request(self.site + path, data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def fhir(self, method: str, path: str, resource: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json"}
        return self._send(method, path, json.dumps(resource).encode() if resource else None, headers)


def test_a_resident_sees_an_external_appointment_with_its_source_and_asks_to_cancel_it(ui: UI, site, personas):
    unit = personas.staff_x.memberships.get().unit
    pasis = BookingSystem(site, unit)
    sent = an_appointment("R-17", unit_hsa=unit.hsa_id)
    created = pasis.fhir("POST", "/fhir/Appointment", sent)
    assert created["status"] == "booked"

    ui.login(personas.tolvan.personnummer)
    ui.click("Tidbokning", role="link")
    main = ui.page.get_by_role("main")
    expect(main.get_by_text("Från PASiS")).to_be_visible()
    expect(main.get_by_text("Röntgen, lungor")).to_be_visible()
    starts = created["start"]
    from datetime import datetime

    when = datetime.fromisoformat(starts).astimezone(STOCKHOLM)
    ui.click(re.compile(rf"{when.day} \w+ {when.year}, {when:%H:%M}"), role="link")  # type: ignore[arg-type]
    expect(main.get_by_text("Bokad i PASiS, mottagningens eget bokningssystem.")).to_be_visible()
    expect(main.get_by_label("Avboka tiden")).to_be_checked()
    ui.click("Skicka förfrågan")
    expect(ui.page.get_by_text("Din begäran om avbokning är skickad till mottagningen.")).to_be_visible()
    expect(main.get_by_text("Avbokning begärd")).to_be_visible()
    expect(main.get_by_role("button", name="Skicka förfrågan")).to_have_count(0)

    # PASiS follows the feed, finds the request and cancels the appointment.
    feed = pasis.fhir("GET", "/fhir/Appointment/_history?_since=0")
    (entry,) = feed["entry"]
    assert entry["extension"][1]["valueCode"] == "cancel-requested"
    assert entry["resource"]["identifier"] == sent["identifier"]
    pasis.fhir(
        "PUT", f"/fhir/Appointment?identifier={sent['identifier'][0]['system']}|R-17", {**sent, "status": "cancelled"}
    )

    ui.page.reload()
    ui.check()
    expect(main.get_by_text("Avbokning begärd")).to_have_count(0)
    ui.click("Tillbaka till dina bokade tider", role="link")
    expect(main.get_by_text("Avbokning begärd")).to_have_count(0)
    expect(main.get_by_text("avbokad", exact=True)).to_be_visible()
