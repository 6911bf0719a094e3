"""Browser test of lab reports as a lab system sends them (issue 21 item 1): the Bundles imported
through the FHIR import, then read by the resident in Chromium, axe on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import UI
from tests.fhir import lab_bundles as labs
from vardkontakt.fhir.importer import Sender, import_bundle

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"
LAB = Sender("flexlab", "FlexLab")


@pytest.fixture
def lab_reports(personas) -> None:
    now = timezone.now()
    import_bundle(labs.cbc_report(at=(now - dt.timedelta(days=10)).isoformat()), sender=LAB)
    import_bundle(labs.blood_pressures(start=now - dt.timedelta(days=100)), sender=LAB)
    import_bundle(labs.other_values(at=(now - dt.timedelta(days=20)).isoformat()), sender=LAB)


def test_a_resident_reads_a_lab_report_and_follows_the_blood_pressure(ui: UI, lab_reports):
    ui.login(TOLVAN_ID)
    ui.goto("/record/results/")
    ui.check()
    table = ui.page.locator("main table")
    # The report is one row with its panel and the panel's results inside it.
    report = table.locator('tr[data-panel="Blodstatus"]').first
    expect(report).to_be_visible()
    members = table.locator("tr.vk-result--member")
    expect(members).to_have_count(5)
    hb = members.filter(has_text="B-Hemoglobin (Hb)")
    expect(hb).to_contain_text("128 g/L")
    expect(hb).to_contain_text("134–170 g/L")  # the range for a man of his age
    expect(members.filter(has_text="B-Leukocyter")).to_contain_text("10⁹/L")
    # The other kinds of value, and a value missing with the lab's reason.
    expect(table.get_by_text("Värde saknas: Hemolyserat prov")).to_be_visible()
    expect(table.locator("tr", has_text="Snabbtest streptokocker A")).to_contain_text("Nej")
    expect(table.locator("tr", has_text="P-CRP")).to_contain_text("≤ 5 mg/L")
    # Blood pressure: both values on the row; the chart draws two lines.
    newest = table.locator("tr", has_text="Blodtryck").first
    expect(newest).to_contain_text("Systoliskt: 131 mmHg")
    expect(newest).to_contain_text("Diastoliskt: 82 mmHg")
    with ui.page.expect_navigation():
        newest.get_by_role("link", name="Visa över tid").click()
    ui.check()
    expect(ui.page.get_by_role("heading", level=1)).to_contain_text("Blodtryck")
    chart = ui.page.locator("figure svg[role=img]")
    lines = chart.locator("g.vk-chart__line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_have_attribute("data-name", "Systoliskt")
    expect(lines.nth(1)).to_have_attribute("data-name", "Diastoliskt")
    # Chromium drew both lines across the chart, the systolic above the diastolic.
    systolic, diastolic = (lines.nth(n).locator("path").first.bounding_box() for n in (0, 1))
    assert systolic is not None and diastolic is not None
    assert systolic["width"] > 300 and diastolic["width"] > 300
    assert systolic["y"] < diastolic["y"]
    legend = ui.page.locator("figure figcaption")
    expect(legend).to_contain_text("Systoliskt")
    expect(legend).to_contain_text("Diastoliskt")
    values = ui.page.locator("main table")
    expect(values.get_by_role("columnheader", name="Systoliskt")).to_be_visible()
    expect(values.get_by_role("cell", name="152 mmHg")).to_be_visible()

    # The overview counts the report as one result.
    ui.goto("/record/")
    ui.check()
    expect(ui.page.locator("main")).to_contain_text("Blodstatus")
    expect(ui.page.locator("main").get_by_text("B-Hemoglobin (Hb)")).to_have_count(0)
