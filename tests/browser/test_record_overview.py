"""Issue 16 §11-12: Journalen's first page is an overview of the record, the choices have their
own page, and the 14-day choice goes by the care's own date and always says what it hides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_record_pages import HIDDEN_BY_CHOICE, TOLVAN_ID, _item, _status, note
from vardkontakt.records.models import Diagnosis, LabResult, Medicine, RecordPreferences

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_overview_shows_the_newest_of_each_section_with_links(ui, personas):
    tolvan = personas.tolvan
    for days, text in ((60, "Äldst: kontroll av blodtryck."), (40, "Mitten: förkylning."), (30, "Nyast: uppföljning.")):
        note(tolvan, text, timezone.localdate() - dt.timedelta(days=days), template="Besöksanteckning")
    note(
        tolvan,
        "Fjärde: syns bara under Anteckningar.",
        timezone.localdate() - dt.timedelta(days=90),
        template="Telefonkontakt",
    )
    LabResult.objects.create(
        **_item(tolvan),
        analysis="P-Glukos",
        value=Decimal("5.1"),
        unit_of_measure="mmol/L",
        taken_at=timezone.now() - dt.timedelta(days=35),
    )
    Medicine.objects.create(
        **_item(tolvan), name="Levaxin", strength="50 mikrog", dispensed_on=timezone.localdate() - dt.timedelta(days=50)
    )
    Medicine.objects.create(
        **_item(tolvan),
        name="Gammal medicin",
        current=False,
        dispensed_on=timezone.localdate() - dt.timedelta(days=500),
    )
    Diagnosis.objects.create(
        **_item(tolvan),
        code="J06.9",
        text="Övre luftvägsinfektion",
        recorded_on=timezone.localdate() - dt.timedelta(days=40),
    )

    ui.login(TOLVAN_ID)
    ui.click("Journalen", role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Din journal")
    notes = ui.page.get_by_role("region", name="Senaste anteckningarna")
    expect(notes.get_by_role("listitem")).to_have_count(3)
    expect(notes.get_by_role("listitem").first).to_contain_text("Besöksanteckning")
    expect(notes).not_to_contain_text("Telefonkontakt")
    expect(ui.page.get_by_role("region", name="Senaste provsvaren")).to_contain_text("P-Glukos: 5,1 mmol/L")
    medicines = ui.page.get_by_role("region", name="Aktuella läkemedel")
    expect(medicines).to_contain_text("Levaxin 50 mikrog")
    expect(medicines).not_to_contain_text("Gammal medicin")
    expect(ui.page.get_by_role("region", name="Senaste diagnoserna")).to_contain_text("Övre luftvägsinfektion (J06.9)")
    # No choices form here: they have their own page.
    expect(ui.page.get_by_role("button", name="Spara val")).to_have_count(0)
    ui.click("Alla provsvar", role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Provsvar")


def test_history_imported_today_shows_and_the_hidden_is_said(ui, personas):
    tolvan = personas.tolvan
    RecordPreferences.objects.create(patient=tolvan, hide_recent=True)
    history = "Från 2019: astma utredd, spirometri normal."
    note(tolvan, history, timezone.localdate() - dt.timedelta(days=2500), received_days_ago=0)

    ui.login(TOLVAN_ID)
    ui.goto("/record/notes/")
    expect(ui.page.get_by_text(history)).to_be_visible()
    # Nothing is hidden by her choice, so nothing is said.
    expect(ui.page.get_by_text(HIDDEN_BY_CHOICE)).to_have_count(0)

    yesterday = "Igår: besök för hosta."
    note(tolvan, yesterday, timezone.localdate() - dt.timedelta(days=1), received_days_ago=0)
    ui.goto("/record/")
    expect(ui.page.get_by_text(HIDDEN_BY_CHOICE)).to_be_visible()
    ui.goto("/record/notes/")
    expect(ui.page.get_by_text(yesterday)).to_have_count(0)
    expect(ui.page.get_by_text(HIDDEN_BY_CHOICE)).to_be_visible()
    ui.click("Ändra dina val", role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Dina val för journalen")
    hide = ui.page.get_by_label("Dölj uppgifter från de senaste 14 dagarna")
    expect(hide).to_be_checked()
    hide.uncheck()
    ui.click("Spara val")
    expect(_status(ui, "Dina val är sparade.")).to_be_visible()
    ui.goto("/record/notes/")
    expect(ui.page.get_by_text(yesterday)).to_be_visible()
    expect(ui.page.get_by_text(HIDDEN_BY_CHOICE)).to_have_count(0)


def test_a_guardian_cannot_make_the_childs_choices(ui, personas):
    anna, liam = personas.guardian, personas.child_9
    ui.login(anna.personnummer)
    ui.page.get_by_label("Agera för").select_option(label=liam.full_name)
    ui.click("Byt")
    ui.goto("/record/choices/")
    expect(
        ui.page.get_by_text(f"Du agerar för {liam.full_name} nu, så de kan inte ändras här.", exact=False)
    ).to_be_visible()
    expect(ui.page.get_by_role("button", name="Spara val")).to_have_count(0)
    assert not RecordPreferences.objects.filter(patient=anna).exists()
