from __future__ import annotations

import pytest
from playwright.sync_api import expect

from vardkontakt.identity.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_language_switch_changes_the_page_and_stays(ui):
    ui.goto("/")
    expect(ui.page.locator("html")).to_have_attribute("lang", "sv")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Kontakta din vård säkert")
    ui.click("In English")
    expect(ui.page.locator("html")).to_have_attribute("lang", "en")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Contact your care unit safely")
    ui.goto("/login/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Log in")
    ui.click("På svenska")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Logga in")


def test_a_resident_saves_settings_and_sees_them_and_errors_are_shown(ui, personas):
    ui.login("19121212-1212")
    ui.click("Inställningar", role="link")
    ui.page.get_by_label("Mobilnummer").fill("123")
    ui.click("Spara inställningar")
    summary = ui.page.get_by_role("alert")
    expect(summary).to_contain_text("Det finns ett problem")
    expect(summary).to_contain_text("Det här telefonnumret finns inte.")
    assert Patient.objects.get(pk=personas.tolvan.pk).mobile == ""
    ui.page.get_by_label("Mobilnummer").fill("070-123 45 67")
    ui.page.get_by_label("E-postadress").fill("tolvan@example.se")
    ui.page.get_by_label("Avisera mig med sms").check()
    ui.click("Spara inställningar")
    expect(ui.page.get_by_text("Dina inställningar är sparade.")).to_be_visible()
    expect(ui.page.get_by_label("Mobilnummer")).to_have_value("+46701234567")
    expect(ui.page.get_by_label("Avisera mig med sms")).to_be_checked()


def test_staff_personal_settings_are_saved_and_shown(ui, personas):
    ui.login(personas.nurse.hsa_id, side="staff")
    ui.page.get_by_label("Skicka e-post när ett ärende tilldelas mig").check()
    ui.page.get_by_label("E-postadress i tjänsten").fill("bengt@vardkontakt.example")
    ui.page.get_by_label("Signatur").fill("Hälsningar, Bengt")
    ui.click("Spara inställningar")
    expect(ui.page.get_by_text("Dina inställningar är sparade.")).to_be_visible()
    ui.goto("/staff/settings/")
    expect(ui.page.get_by_label("Signatur")).to_have_value("Hälsningar, Bengt")
    expect(ui.page.get_by_label("Skicka e-post när ett ärende tilldelas mig")).to_be_checked()
