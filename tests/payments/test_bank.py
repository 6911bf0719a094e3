"""The region's invoicing page: its settings, and payments on invoices matched by OCR from the bank's file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.payments.helpers import a_fee, client_of, staff_of
from vardkontakt.access.models import AuditEntry
from vardkontakt.organisation.models import RegionRole, RegionRoleKind
from vardkontakt.payments import bank, invoices, services
from vardkontakt.payments.models import Method, Payment, PaymentRules, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    fee = a_fee(amount="200", day=timezone.localdate() - dt.timedelta(days=60))
    assert fee.unit is not None
    region = fee.unit.administration.region
    PaymentRules.objects.create(region=region, bankgiro="5050-1055")
    [invoice] = invoices.invoices_issue(today=timezone.localdate())
    admin = staff_of(fee.unit)
    RegionRole.objects.create(staff=admin, region=region, role=RegionRoleKind.REGION_ADMIN)
    return fee, region, invoice, admin


def upload(client, region, text: str):
    file = SimpleUploadedFile("insattningar.csv", text.encode(), content_type="text/csv")
    return client.post(f"/staff/regions/{region.pk}/payments/bank-file/", {"file": file})


@pytest.mark.parametrize(
    ("number", "valid"), [("5050-1055", True), ("991-2346", True), ("5050-1056", False), ("12", False)]
)
def test_bankgiro_numbers_carry_a_check_digit(number, valid):
    assert bank.bankgiro_valid(number) is valid


def test_a_deposit_with_the_ocr_marks_the_invoice_paid_once(world):
    fee, region, invoice, admin = world
    client = client_of(admin)
    text = f"ocr;amount;paid_on;reference\n{invoice.ocr};200,00;{timezone.localdate()};BG-0001\n"
    response = upload(client, region, text)
    assert response.status_code == 200
    payment = Payment.objects.get(fee=fee)
    assert (payment.method, payment.status, payment.amount) == (Method.INVOICE, Status.PAID, Decimal("200.00"))
    with pytest.raises(ValidationError):  # no provider to send it back through: the region's accounting does
        services.refund_create(staff=admin, payment=payment, amount=Decimal("10"), reason="Fel", form_key="r")
    again = upload(client, region, text)  # the same file again
    assert "nothing done" in again.content.decode() or "ingenting gjort" in again.content.decode().lower()
    assert Payment.objects.filter(fee=fee).count() == 1
    assert AuditEntry.objects.filter(action="payments.invoice.paid", patient_id=str(fee.patient.pk)).count() == 1


def test_what_cannot_be_matched_is_listed_and_nothing_is_paid(world):
    fee, region, invoice, admin = world
    one_digit_off = invoice.ocr[:-1] + str((int(invoice.ocr[-1]) + 1) % 10)
    text = "\n".join(
        [
            f"{invoice.ocr};199.99;{timezone.localdate()};BG-1",
            f"{one_digit_off};200;{timezone.localdate()};BG-2",
            "not;a;deposit",
            f"{invoice.ocr};200;yesterday;BG-3",
        ]
    )
    outcome = bank.invoices_match_bank_file(staff=admin, region=region, content=text)
    assert outcome.too_little == [invoice.ocr]
    assert outcome.unknown == [one_digit_off]
    assert outcome.bad_rows == [3, 4]
    assert not Payment.objects.filter(fee=fee).exists()


def test_a_deposit_for_a_fee_already_paid_by_swish_is_flagged_to_pay_back(world):
    fee, region, invoice, admin = world
    Payment.objects.create(
        fee=fee, method=Method.SWISH, amount=fee.amount_charged, idempotency_key="s", status=Status.PAID
    )
    outcome = bank.invoices_match_bank_file(staff=admin, region=region, content=f"{invoice.ocr};200;2026-01-05;BG-9")
    assert outcome.paid_twice == [invoice.ocr]
    assert Payment.objects.get(fee=fee, method=Method.INVOICE).status == Status.PAID_TWICE


def test_the_region_admin_sets_the_bankgiro_and_only_a_real_change_is_logged(world):
    fee, region, _invoice, admin = world
    client = client_of(admin)
    url = f"/staff/regions/{region.pk}/payments/"
    assert client.get(url).status_code == 200
    form = {
        "bankgiro": "991-2346",
        "invoice_after_days": "10",
        "due_days": "30",
        "reminder_after_days": "10",
        "reminder_fee": "60",
    }
    assert client.post(url, form).status_code == 302
    assert PaymentRules.objects.get(region=region).bankgiro == "991-2346"
    assert client.post(url, form).status_code == 302
    assert AuditEntry.objects.filter(action="payments.rules.update").count() == 1
    for bad in ({"bankgiro": "991-2347"}, {"reminder_fee": "61"}, {"due_days": "5"}):
        assert client.post(url, {**form, **bad}).status_code == 400
    assert PaymentRules.objects.get(region=region).invoice_after_days == 10
    member = staff_of(fee.unit, number=2)
    assert client_of(member).get(url).status_code == 404
    assert upload(client_of(member), region, "x").status_code == 404
