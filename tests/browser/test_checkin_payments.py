"""Issue 19's remaining browser tests: check-in by phone with its fee, a Swish callback that comes
twice and one that never comes, and the payments page with its paid and unpaid fees and the invoice
PDF with its OCR reference."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.checkin.helpers import booking_at, fees_at
from tests.payments.conftest import swish_api  # noqa: F401  (fixture by name)
from tests.payments.helpers import a_fee
from vardkontakt.booking.models import Arrival
from vardkontakt.fees.models import Fee, FeeRules
from vardkontakt.payments import invoices, swish
from vardkontakt.payments.models import Method, Payment, PaymentRules, Status

pytestmark = pytest.mark.django_db(transaction=True)


def this_minute() -> dt.datetime:
    # The visit starts this very minute: its check-in is open, on its own day, whenever the test runs.
    return timezone.now().replace(second=0, microsecond=0)


def test_checking_in_by_phone_shows_the_fee_and_a_second_click_changes_nothing(ui, personas):
    unit = personas.unit_admin.memberships.get().unit
    fees_at(unit)
    # Tolvan (born 1912) would be free of charge at the region's usual age limit: here he pays.
    FeeRules.objects.filter(region=unit.administration.region).update(free_from_age=150)
    booking = booking_at(unit, personas.tolvan, this_minute())
    page = ui.page

    ui.login("19121212-1212")
    ui.goto(f"/bookings/{booking.pk}/")
    ui.click("Checka in", role="link")
    expect(page.get_by_role("heading", level=1)).to_have_text("Checka in")
    # The same page open in a second tab (or a second click on a slow line): its form is posted too.
    second = page.context.new_page()
    second.goto(page.url)
    expect(second.get_by_role("button", name="Checka in")).to_be_visible()

    ui.click("Checka in", role="button")
    ui.check()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Du är incheckad — sätt dig i väntrummet.")
    expect(main).to_contain_text("Avgift att betala: 200 kronor")
    expect(page.get_by_role("link", name="Betala")).to_be_visible()
    expect(page.get_by_role("button", name="Checka in")).to_have_count(0)  # the button is gone
    arrived = Arrival.objects.get(booking=booking).arrived_at

    second.get_by_role("button", name="Checka in").click()
    expect(second.get_by_role("main")).to_contain_text("Du är incheckad — sätt dig i väntrummet.")
    expect(second.get_by_role("main")).to_contain_text("Avgift att betala: 200 kronor")
    expect(second.get_by_role("alert")).to_have_count(0)  # not refused either: simply the same receipt
    second.close()
    assert Arrival.objects.filter(booking=booking).count() == 1
    assert Arrival.objects.get(booking=booking).arrived_at == arrived  # the time of the first click
    assert Fee.objects.filter(booking_id=booking.pk).count() == 1
    assert Fee.objects.get(booking_id=booking.pk).amount_charged == Decimal(200)


def start_swish(ui, fee) -> Payment:
    page = ui.page
    ui.goto(f"/payments/fees/{fee.pk}/pay/")
    page.get_by_role("radio", name="Swish").check()
    page.get_by_label("Mobilnummer för Swish").fill("070-123 45 67")
    ui.click("Betala")
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "pending")
    return Payment.objects.get(fee=fee)


def test_a_swish_callback_that_comes_twice_pays_once(ui, personas, swish_api):  # noqa: F811
    fee = a_fee(patient=personas.tolvan, unit=personas.unit_admin.memberships.get().unit, amount="200")
    page = ui.page
    ui.login("19121212-1212")
    payment = start_swish(ui, fee)

    instruction = swish.instruction_id(payment.pk)
    swish_api.decide(instruction, "PAID")
    first, second = swish_api.post_callback(instruction), swish_api.post_callback(instruction)
    assert (first.status_code, second.status_code) == (200, 200)
    status = page.locator("#payment-status")
    expect(status).to_have_attribute("data-status", "paid", timeout=15_000)
    ui.check()
    expect(status.get_by_role("heading", name="Betald")).to_have_count(1)
    expect(status).to_contain_text("200 kronor betalda med Swish")
    assert "betalas tillbaka" not in status.inner_text()  # not taken for a second payment of the fee
    assert list(Payment.objects.filter(fee=fee).values_list("status", flat=True)) == [Status.PAID]

    ui.goto("/payments/")
    expect(page.locator(f"#fee-{fee.pk}")).to_contain_text("Betald")
    expect(page.locator(f"#fee-{fee.pk}").get_by_role("link", name="Betala")).to_have_count(0)


def test_a_swish_callback_that_never_comes_the_page_asks_swish(ui, personas, swish_api, settings):  # noqa: F811
    # The page asks Swish itself once the callback is this late (60 seconds in production).
    settings.PAYMENT_RECONCILE_AFTER_SECONDS = 2
    unit = personas.unit_admin.memberships.get().unit
    approved = a_fee(patient=personas.tolvan, unit=unit, amount="200")
    unanswered = a_fee(patient=personas.tolvan, unit=unit, amount="100")
    page = ui.page
    ui.login("19121212-1212")

    payment = start_swish(ui, approved)
    swish_api.decide(swish.instruction_id(payment.pk), "PAID")  # approved in the app; no callback ever
    status = page.locator("#payment-status")
    expect(status).to_have_attribute("data-status", "paid", timeout=20_000)  # the page reloads every 3 s
    ui.check()
    expect(status).to_contain_text("200 kronor betalda med Swish")
    payment.refresh_from_db()
    assert payment.status == Status.PAID

    # The payer never opens Swish: Swish times out (and its callback is lost too). The page says so
    # and offers to try again; nothing is charged.
    other = start_swish(ui, unanswered)
    swish_api.decide(swish.instruction_id(other.pk), "ERROR", error_code="TM01")
    expect(status).to_have_attribute("data-status", "failed", timeout=20_000)
    ui.check()
    expect(page.locator("#not-paid")).to_have_text("Betalningen gick inte igenom. Inget drogs.")
    with page.expect_navigation(url=re.compile(rf"/payments/fees/{unanswered.pk}/pay/$")):
        page.get_by_role("link", name="Försök igen").click()
    ui.check()
    other.refresh_from_db()
    assert other.status == Status.FAILED
    assert not Payment.objects.filter(fee=unanswered, status=Status.PAID).exists()


def test_the_payments_page_lists_paid_and_unpaid_fees_and_opens_the_invoice_pdf(ui, personas):
    from pypdf import PdfReader

    unit = personas.unit_admin.memberships.get().unit
    PaymentRules.objects.update_or_create(region=unit.administration.region, defaults={"bankgiro": "5050-1055"})
    old = timezone.localdate() - dt.timedelta(days=100)
    invoiced = a_fee(patient=personas.tolvan, unit=unit, amount="300", day=old)
    [invoice] = invoices.invoices_issue(today=old + dt.timedelta(days=14))
    unpaid = a_fee(patient=personas.tolvan, unit=unit, amount="100")
    paid = a_fee(patient=personas.tolvan, unit=unit, amount="200")
    Payment.objects.create(
        fee=paid,
        method=Method.SWISH,
        status=Status.PAID,
        amount=Decimal(200),
        idempotency_key="paid-earlier-by-swish",
        paid_at=timezone.now(),
        started_by=personas.tolvan,
    )
    page = ui.page

    ui.login("19121212-1212")
    ui.goto("/payments/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina betalningar")
    paid_row, unpaid_row, invoiced_row = (page.locator(f"#fee-{fee.pk}") for fee in (paid, unpaid, invoiced))
    expect(paid_row).to_contain_text("Betald")
    expect(paid_row).to_contain_text("200 kronor")
    expect(paid_row.get_by_role("link", name="Betala")).to_have_count(0)
    for row, amount in ((unpaid_row, "100 kronor"), (invoiced_row, "300 kronor")):
        expect(row).to_contain_text("Inte betald")
        expect(row).to_contain_text(amount)
        expect(row.get_by_role("link", name=re.compile("^Betala"))).to_be_visible()
    expect(unpaid_row.get_by_role("link", name=re.compile("Faktura"))).to_have_count(0)

    link = invoiced_row.get_by_role("link", name=f"Faktura (OCR {invoice.ocr})")
    href = link.get_attribute("href")
    assert href == f"/payments/invoices/{invoice.pk}/pdf/"
    # Fetched in the browser's own session, as following the link would (a PDF viewer is no page to check).
    response = page.request.get(ui.base + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert invoice.ocr in text and "5050-1055" in text and "300,00 kr" in text
