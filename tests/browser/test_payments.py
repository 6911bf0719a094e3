"""Issue 19 §3: the resident pays one fee by Swish (the local Swish server calls back, twice) and
another by card on the provider's hosted page (the local provider's page; its webhook never comes,
the return asks), and sees both paid on the payments page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.payments.conftest import card_api, swish_api  # noqa: F401  (fixtures by name)
from tests.payments.helpers import a_fee
from vardkontakt.payments import swish
from vardkontakt.payments.models import Payment, Status

pytestmark = pytest.mark.django_db(transaction=True)


def test_paying_by_swish_and_by_card(ui, personas, swish_api, card_api):  # noqa: F811
    unit_x = personas.unit_admin.memberships.get().unit
    by_swish = a_fee(patient=personas.tolvan, unit=unit_x, amount="200")
    by_card = a_fee(patient=personas.tolvan, unit=unit_x, amount="100")
    page = ui.page

    ui.login("19121212-1212")
    ui.goto("/payments/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina betalningar")
    ui.goto(f"/payments/fees/{by_swish.pk}/pay/")
    page.get_by_role("radio", name="Swish").check()
    page.get_by_label("Mobilnummer för Swish").fill("070-123 45 67")
    ui.click("Betala")
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "pending")
    expect(page.get_by_role("main")).to_contain_text("Öppna Swish i din telefon")

    payment = Payment.objects.get(fee=by_swish)
    instruction = swish.instruction_id(payment.pk)
    swish_api.decide(instruction, "PAID")  # approved in the app: Swish calls back, and once more
    assert swish_api.post_callback(instruction).status_code == 200
    assert swish_api.post_callback(instruction).status_code == 200
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "paid", timeout=15_000)
    ui.check()
    expect(page.get_by_role("main")).to_contain_text("200 kronor betalda med Swish")

    ui.goto(f"/payments/fees/{by_card.pk}/pay/")
    page.get_by_role("radio", name="Kort").check()
    with page.expect_navigation(url=re.compile(re.escape(card_api.url))):
        page.get_by_role("button", name="Betala").click()
    ui.check()  # the provider's page: the card number is typed there, never on ours
    expect(page.locator("#amount")).to_have_text("100.00 SEK")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    with page.expect_navigation(url=re.compile(r"/payments/[0-9a-f-]+/$")):
        page.get_by_role("button", name="Pay").click()
    ui.check()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "paid")

    ui.goto("/payments/")
    expect(page.locator(f"#fee-{by_swish.pk}")).to_contain_text("Betald")
    expect(page.locator(f"#fee-{by_card.pk}")).to_contain_text("Betald")
    assert Payment.objects.filter(status=Status.PAID).count() == 2
    assert len(swish_api.puts) == 1 and card_api.creates == 1
