"""Browser tests of the record's chart over time and the extract: a patient's view, axe on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import UI
from vardkontakt.organisation.models import CareUnit, UnitKind
from vardkontakt.records.models import LabResult, RecordNote

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"


@pytest.fixture
def tolvans_record(personas) -> None:
    unit = CareUnit.objects.filter(kind=UnitKind.PRIMARY_CARE).first()
    assert unit is not None
    now = timezone.now()
    for n, (value, days_ago, flag) in enumerate(
        [("5.4", 300, "N"), ("6.1", 120, "H"), ("7.2", 20, "H"), ("3.6", 5, "L")]
    ):
        LabResult.objects.create(
            patient=personas.tolvan,
            unit=unit,
            source_system="lab",
            source_id=f"glukos-{n}",
            received_at=now - dt.timedelta(days=days_ago),
            taken_at=now - dt.timedelta(days=days_ago),
            analysis="P-Glukos",
            value=value,
            unit_of_measure="mmol/L",
            reference_low="4.0",
            reference_high="6.0",
            flag=flag,
        )
    RecordNote.objects.create(
        patient=personas.tolvan,
        unit=unit,
        source_system="journal",
        source_id="note-1",
        received_at=now - dt.timedelta(days=30),
        author_name="Doktor Exempel",
        author_profession="doctor",
        written_on=dt.date(2026, 10, 1),
        template="Besöksanteckning",
        signed=True,
        text="Halsont sedan en vecka.",
    )


def test_a_patient_follows_a_result_over_time_and_makes_an_extract(ui: UI, personas, tolvans_record, tmp_path):
    ui.login(TOLVAN_ID)
    ui.goto("/record/results/")
    with ui.page.expect_navigation():
        ui.page.locator('a[href*="/record/results/chart/?analysis=P-Glukos"]').first.click()
    ui.check()
    expect(ui.page.get_by_role("heading", level=1)).to_contain_text("P-Glukos")
    chart = ui.page.locator("figure svg[role=img]")
    expect(chart).to_have_count(1)
    expect(chart.locator("title").first).to_contain_text("P-Glukos")
    table = ui.page.locator("main table")
    for value in ("5,4", "6,1", "7,2", "3,6"):
        expect(table.get_by_role("cell", name=value, exact=True)).to_be_visible()
    # Chromium drew the chart: the markers have a size on screen.
    assert chart.bounding_box()["width"] > 300  # type: ignore[index]

    ui.goto("/record/export/")
    form = ui.page.locator("main form")
    # Notes, diagnoses, care contacts, results, medicines, prescriptions, alerts, vaccinations, referrals.
    expect(form.locator('input[name="sections"]')).to_have_count(9)
    # The page to print, of the notes only.
    for box in form.locator('input[name="sections"]').all():
        if box.get_attribute("value") != "notes":
            box.uncheck()
    form.locator('input[name="output"][value="html"]').check()
    with ui.page.expect_navigation():
        form.locator('button[type="submit"]').click()
    ui.check()
    expect(ui.page.get_by_text("Halsont sedan en vecka.")).to_be_visible()
    expect(ui.page.get_by_text("P-Glukos")).to_have_count(0)

    # The PDF arrives as a download with a neutral name.
    ui.goto("/record/export/")
    with ui.page.expect_download() as download_info:
        ui.page.locator('main form button[type="submit"]').click()
    download = download_info.value
    assert re.fullmatch(r"utdrag-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
