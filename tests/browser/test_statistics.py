"""Statistics in a browser: the unit administrator's page (a wrong period, then a right one, and a
CSV download), the coordinator's regional page and the public response times. axe runs on every
page (conftest). The interface is switched to English so the test reads the same before and after
the Swedish catalogue is filled in."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.services import case_create, case_reply, service_activate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def answered_cases(personas, unit_x):
    advice = service_activate(unit=unit_x, kind=ServiceKind.ADVICE, by=personas.unit_admin)
    for _ in range(3):
        case = case_create(
            actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key=uuid.uuid4().hex
        )
        case_reply(case=case, by=personas.staff_x, body="Svar", version=case.version)


def test_the_unit_administrator_reads_the_units_statistics(ui, personas, unit_x, answered_cases):
    page = ui.page
    ui.goto("/")
    ui.click("In English")
    ui.login(personas.unit_admin.hsa_id, side="staff")
    ui.goto("/staff/")
    ui.click(re.compile(f"^Statistics\\s+of {unit_x.name}$"), role="link")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")
    expect(page.get_by_role("img", name="Cases per case type", exact=True)).to_have_count(1)

    # The last day before the first: explained, nothing counted.
    today = timezone.localdate()
    page.get_by_label("From").fill(today.isoformat())
    page.get_by_label("To, inclusive").fill((today - dt.timedelta(days=1)).isoformat())
    ui.click("Show")
    expect(page.get_by_role("alert")).to_contain_text("The last day cannot be before the first day.")
    expect(page.get_by_role("img")).to_have_count(0)

    page.get_by_label("From").fill(today.replace(day=1).isoformat())
    page.get_by_label("To, inclusive").fill(today.isoformat())
    ui.click("Show")
    handling = page.get_by_role("table", name="Handling times of the cases received in the period, in hours")
    expect(handling.get_by_role("row").nth(1)).to_contain_text("3")  # three answered cases
    for name in [
        "Handling times",
        "Answered within the target",
        "Unanswered cases now",
        "Case status",
        "Bookings",
        "Share of times open for online booking",
    ]:
        expect(page.get_by_role("img", name=name, exact=True)).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download the table as CSV\s*: Handling times$")).click()
    assert download.value.suggested_filename == (
        f"vardcentralen-lindangen-handling-times-{today.replace(day=1).isoformat()}-{today.isoformat()}.csv"
    )
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    assert text.splitlines()[0] == "Measure;Cases;Median (hours);90th percentile (hours)"


def test_the_coordinator_reads_the_regional_statistics_and_anyone_the_public_page(ui, personas, answered_cases):
    page = ui.page
    ui.goto("/")
    ui.click("In English")
    ui.login(personas.coordinator.hsa_id, side="staff")
    ui.goto("/staff/")
    ui.click("Regional statistics", role="link")
    expect(page.get_by_role("heading", level=1)).to_have_text("Regional statistics")
    expect(page.get_by_label("Administration", exact=True)).to_contain_text("Skånevård Sund")
    today = timezone.localdate()
    page.get_by_label("From").fill(today.replace(day=1).isoformat())
    page.get_by_label("To, inclusive").fill(today.isoformat())
    ui.click("Show")
    units = page.get_by_role("table", name="Cases received in the period and open now, per unit")
    expect(units.get_by_role("row", name=re.compile("^Vårdcentralen Lindängen"))).to_contain_text("Skånevård Sund")
    expect(page.get_by_role("img", name="Use of each service", exact=True)).to_have_count(1)
    ui.click("Log out")

    ui.goto("/statistics/response-times/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Response times of the care units")
    expect(page.get_by_role("row", name=re.compile("^Vårdcentralen Lindängen"))).to_contain_text("Too few cases")
