"""Issue 21: realistic FHIR Bundles of a prescription with two dispensings, allergies and a warning, a
vaccination and a referral in three status versions, imported as the source systems send them, and
each section read in the browser: the medication list, "Uppmärksamhetsinformation",
"Vaccinationer" with its certificate, "Mina remisser" with the status history."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_record_pages import TOLVAN_ID
from tests.fhir import clinical_bundles as cb
from vardkontakt.fhir.importer import Sender, import_bundle

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_new_section_shows_what_the_source_systems_sent(ui, personas):
    today = timezone.localdate()
    import_bundle(cb.prescription_bundle(today), sender=Sender("nll"))
    import_bundle(cb.alerts_bundle(today), sender=Sender("pmo"))
    import_bundle(cb.transaction(cb.vaccination(today)), sender=Sender("svevac"))
    for hours, status in enumerate(("sent", "received", "accepted")):
        import_bundle(cb.referral_bundle(today, status, hours=hours), sender=Sender("pmo"))

    ui.login(TOLVAN_ID)
    ui.click("Journalen", role="link")
    alerts = ui.page.get_by_role("region", name="Uppmärksamhetsinformation")
    expect(alerts.get_by_role("listitem").first).to_contain_text("Penicillin V")
    expect(alerts.get_by_role("listitem").first).to_contain_text("Allvarlig")
    expect(ui.page.get_by_role("region", name="Mina remisser")).to_contain_text("accepterad")

    ui.click("Läkemedel", role="link")
    current = ui.page.get_by_role("table", name="Aktuella recept")
    row = current.get_by_role("row", name="Ramipril 5 mg tablett")
    expect(row).to_contain_text("1 tablett morgon")
    expect(row).to_contain_text("Rut Receptsson, läkare")
    expect(row.get_by_role("cell").last).to_have_text("2")

    ui.click("Uppmärksamhetsinformation", role="link")
    rows = ui.page.get_by_role("table", name="Uppmärksamhetsinformation").get_by_role("row")
    expect(rows.nth(1)).to_contain_text("Penicillin V")
    expect(rows.nth(2)).to_contain_text("Jordnötter")
    expect(rows.nth(2)).to_contain_text("obekräftad")
    expect(rows.nth(3)).to_contain_text("Waran")

    ui.click("Vaccinationer", role="link")
    expect(ui.page.get_by_role("table", name="Vaccinationer")).to_contain_text("Influvac Tetra (J07BB02)")
    with ui.page.expect_download() as download:
        ui.page.get_by_role("link", name="Ladda ned ett intyg om vaccinationerna (PDF)").click()
    assert download.value.suggested_filename.startswith("vaccinationer-")

    ui.click("Mina remisser", role="link")
    referral = ui.page.get_by_role("region", name="Till Ortopedmottagningen, Lindängens sjukhus")
    expect(referral).to_contain_text("Knäsmärta sedan ett halvår")
    expect(referral.get_by_role("listitem")).to_have_count(3)
    expect(referral.get_by_role("listitem").last).to_contain_text("accepterad")
