from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import LOA2

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_logs_in_sees_their_units_and_logs_out(ui, personas):
    ui.login_in_browser("19121212-1212")
    expect(ui.page).to_have_url(re.compile(r"/patient/$"))
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Välkommen, Tolvan")
    expect(ui.page.get_by_text("Vårdcentralen Lindängen")).to_be_visible()
    ui.click("Logga ut")
    expect(ui.page).to_have_url(ui.base + "/")
    expect(ui.page.get_by_text("Du är utloggad.")).to_be_visible()
    # Back to a protected page: the session is gone, so it asks for a login again.
    ui.page.goto(ui.base + "/patient/")
    ui.check()
    expect(ui.page).to_have_url(re.compile(r"/demo-idp/eid/authorize"))


def test_a_staff_member_logs_in_lands_in_settings_then_home_and_logs_out(ui, personas):
    ui.login_in_browser(personas.nurse.hsa_id, side="staff")
    expect(ui.page).to_have_url(re.compile(r"/staff/settings/$"))
    expect(ui.page.get_by_text(personas.nurse.full_name)).to_be_visible()
    ui.click("Spara inställningar")
    ui.click(re.compile("Vårdkontakt"), role="link")
    expect(ui.page).to_have_url(re.compile(r"/staff/$"))
    unit_name = personas.nurse.memberships.get().unit.name
    expect(ui.page.get_by_role("main").get_by_role("table").first).to_contain_text(unit_name)
    ui.click("Logga ut")
    expect(ui.page.get_by_text("Du är utloggad.")).to_be_visible()


def test_a_refused_login_is_explained(ui, personas):
    ui.login_in_browser("19121212-1212", acr=LOA2)
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Du kunde inte loggas in")
    expect(ui.page.get_by_text("säkerhetsnivå")).to_be_visible()
