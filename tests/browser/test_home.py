"""The resident's start page in a browser: the unit cards (issue 16 §8) and "Nytt för dig" (§7).
axe runs on every page (conftest)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"


def _card(ui, unit_name: str):
    return ui.page.locator(".nhsuk-card").filter(has=ui.page.get_by_role("heading", name=unit_name, exact=True))


def test_a_unit_card_shows_what_the_unit_offers_and_leads_to_it(ui, personas, unit_x):
    ui.login(TOLVAN_ID)
    card = _card(ui, unit_x.name)
    expect(card.get_by_role("heading", name="E-tjänster")).to_be_visible()
    expect(card).not_to_contain_text("Här visas de tjänster")
    for name in ("Kontakta mig", "Rådgivning", "Förnya recept"):
        expect(card.get_by_role("link", name=name, exact=True)).to_be_visible()
    with ui.page.expect_navigation():
        card.get_by_role("link", name="Rådgivning", exact=True).click()
    ui.check()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Rådgivning")
    expect(ui.page).to_have_url(re.compile(rf"/cases/new/{unit_x.id}/[0-9a-f-]{{36}}/$"))
