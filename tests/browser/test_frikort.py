"""Issue 19 §4: the resident sees the period, what has counted and the digital frikort with its
code; staff at another unit verify the code without calling anyone, and a forged code is refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from vardkontakt.fees import ceiling
from vardkontakt.fees.services import fee_register_external

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_resident_shows_the_frikort_and_staff_elsewhere_verify_it(ui, personas):
    tolvan, kärnan_nurse = personas.tolvan, personas.nurse  # Tolvan is listed at unit X; the nurse works at Y
    unit_x = personas.unit_admin.memberships.get().unit
    first = timezone.localdate() - dt.timedelta(days=60)
    for day, amount in ((first, "900"), (first + dt.timedelta(days=20), "600")):
        fee_register_external(
            staff=personas.staff_x,
            unit=unit_x,
            patient=tolvan,
            day=day,
            amount=Decimal(amount),
            provider="Region Uppsala",
            reason="Kvitto",
        )
    last_day = ceiling.period_end(first)

    ui.login("19121212-1212")
    ui.click("Högkostnadsskydd", role="link")
    page = ui.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Ditt högkostnadsskydd")
    expect(page.locator("#period")).to_have_text(f"{first:%Y-%m-%d} till {last_day:%Y-%m-%d}")
    expect(page.locator("#used")).to_have_text("1400 kronor")
    expect(page.locator("#remaining")).to_have_text("0 kronor")
    rows = page.get_by_role("table", name="Det här har räknats").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and the two fees; the second reduced to what remained
    expect(rows.nth(2)).to_contain_text("600 kronor")
    expect(rows.nth(2)).to_contain_text("500 kronor")
    card = page.locator("#frikort")
    expect(card).to_contain_text("Frikort")
    expect(card).to_contain_text(f"{first + dt.timedelta(days=20):%Y-%m-%d} till {last_day:%Y-%m-%d}")
    code = page.locator("#frikort-code").inner_text()
    assert code.startswith("FK1.")

    page.context.clear_cookies()
    ui.login(kärnan_nurse.hsa_id, side="staff")
    ui.goto("/staff/")  # a first login lands on the personal settings
    ui.click("Kontrollera ett frikort", role="link")
    page.get_by_label("Frikortskod").fill(code)
    ui.click("Kontrollera koden")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Giltigt frikort")
    expect(verdict).to_contain_text("Tolvan")
    expect(verdict).to_contain_text(f"till {last_day:%Y-%m-%d}")

    forged = code.replace(f"{last_day:%Y%m%d}", f"{last_day + dt.timedelta(days=365):%Y%m%d}")
    assert forged != code
    page.get_by_label("Frikortskod").fill(forged)
    ui.click("Kontrollera koden")
    expect(page.locator("#verdict")).to_have_text("Inte ett äkta frikort")
    expect(page.get_by_role("main")).not_to_contain_text("Tolvan")
