"""The header works with the keyboard alone: skip link first, then every control in order."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def focused(ui) -> str:
    return ui.page.evaluate(
        "() => (document.activeElement.innerText || document.activeElement.getAttribute('aria-label') || '').trim()"
    )


def test_the_header_can_be_used_with_the_keyboard_only(ui, personas):
    ui.login("19121212-1212")
    ui.page.keyboard.press("Tab")
    assert focused(ui) == "Hoppa till huvudinnehållet"
    order = []
    for _ in range(4):
        ui.page.keyboard.press("Tab")
        order.append(focused(ui))
    assert order == ["Vårdkontakt", "Inställningar", "Logga ut", "In English"]
    # The skip link moves focus past the header: the next Tab lands inside the main content.
    ui.goto("/patient/")
    ui.page.keyboard.press("Tab")
    ui.page.keyboard.press("Enter")
    assert ui.page.evaluate("() => location.hash") == "#maincontent"
    ui.page.keyboard.press("Tab")
    assert ui.page.evaluate("() => document.activeElement.closest('main') !== null")
    # Log out with Enter on the focused button.
    ui.goto("/patient/")
    for _ in range(4):
        ui.page.keyboard.press("Tab")
    assert focused(ui) == "Logga ut"
    with ui.page.expect_navigation():
        ui.page.keyboard.press("Enter")
    ui.check()
    expect(ui.page.get_by_text("Du är utloggad.")).to_be_visible()


def test_focus_is_visible_on_header_links(ui):
    ui.goto("/")
    ui.page.keyboard.press("Tab")
    ui.page.keyboard.press("Tab")
    outline = ui.page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle !== 'none' || s.boxShadow !== 'none' || s.backgroundColor !== 'rgba(0, 0, 0, 0)'; }"
    )
    assert outline
