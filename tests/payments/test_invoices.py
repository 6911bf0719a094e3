"""Invoices of unpaid fees: when, with what, the reminder with its fee, the PDF and the day's file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.payments.helpers import a_fee, client_of
from vardkontakt.access.models import AuditEntry
from vardkontakt.payments import invoices, ocr
from vardkontakt.payments.models import Invoice, Method, Payment, PaymentRules, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def fee():
    fee = a_fee(amount="200", day=timezone.localdate() - dt.timedelta(days=100))
    assert fee.unit is not None
    PaymentRules.objects.create(region=fee.unit.administration.region, bankgiro="5050-1055")
    return fee


def day_of(fee, days: int) -> dt.date:
    return fee.date_of_care + dt.timedelta(days=days)


def test_an_unpaid_fee_is_invoiced_after_the_regions_days_with_a_valid_ocr(fee):
    assert invoices.invoices_issue(today=day_of(fee, 13)) == []
    [invoice] = invoices.invoices_issue(today=day_of(fee, 14))
    assert ocr.is_valid(invoice.ocr)
    assert (invoice.amount, invoice.bankgiro) == (Decimal("200.00"), "5050-1055")
    assert invoice.due_on == invoices.due_date(day_of(fee, 14), 30) >= day_of(fee, 14 + 30)
    assert invoices.invoices_issue(today=day_of(fee, 15)) == []  # once
    assert AuditEntry.objects.filter(action="payments.invoice.issue", patient_id=str(fee.patient.pk)).count() == 1


def test_a_paid_or_free_fee_or_one_paid_elsewhere_is_not_invoiced(fee):
    Payment.objects.create(
        fee=fee, method=Method.SWISH, amount=fee.amount_charged, idempotency_key="p", status=Status.PAID
    )
    free = a_fee(amount="0", unit=fee.unit, day=fee.date_of_care)
    under_way = a_fee(unit=fee.unit, day=fee.date_of_care)
    Payment.objects.create(fee=under_way, method=Method.CARD, amount=under_way.amount_charged, idempotency_key="q")
    assert invoices.invoices_issue(today=day_of(fee, 20)) == []
    assert not Invoice.objects.filter(fee__in=[fee, free, under_way]).exists()


def test_a_region_without_bankgiro_sends_no_invoices():
    lone = a_fee(day=timezone.localdate() - dt.timedelta(days=60))
    assert invoices.invoices_issue(today=timezone.localdate()) == []
    assert not Invoice.objects.filter(fee=lone).exists()


def test_a_reminder_with_its_fee_after_the_due_date_once(fee):
    [invoice] = invoices.invoices_issue(today=day_of(fee, 14))
    assert invoices.invoices_remind(today=invoice.due_on + dt.timedelta(days=9)) == []
    [reminded] = invoices.invoices_remind(today=invoice.due_on + dt.timedelta(days=10))
    assert reminded.reminder_fee == Decimal("60.00") and reminded.total == Decimal("260.00")
    assert invoices.invoices_remind(today=invoice.due_on + dt.timedelta(days=11)) == []


def test_a_paid_invoice_is_not_reminded(fee):
    [invoice] = invoices.invoices_issue(today=day_of(fee, 14))
    Payment.objects.create(
        fee=fee, method=Method.SWISH, amount=fee.amount_charged, idempotency_key="p", status=Status.PAID
    )
    assert invoices.invoices_remind(today=invoice.due_on + dt.timedelta(days=30)) == []


def test_the_invoice_pdf_carries_bankgiro_ocr_amount_and_due_date(fee):
    from pypdf import PdfReader

    [invoice] = invoices.invoices_issue(today=day_of(fee, 14))
    response = client_of(fee.patient).get(f"/payments/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for shown in ("5050-1055", invoice.ocr, "200,00 kr", invoice.due_on.isoformat(), "Faktura"):
        assert shown in text
    assert client_of(a_fee().patient).get(f"/payments/invoices/{invoice.pk}/pdf/").status_code == 404
    assert client_of(fee.patient).get(f"/payments/invoices/{uuid.uuid4()}/pdf/").status_code == 404


def test_the_days_file_for_accounting(fee):
    from tests.payments.helpers import staff_of
    from vardkontakt.organisation.models import RegionRole, RegionRoleKind

    [invoice] = invoices.invoices_issue(today=day_of(fee, 14))
    region = fee.unit.administration.region
    admin = staff_of(fee.unit)
    RegionRole.objects.create(staff=admin, region=region, role=RegionRoleKind.REGION_ADMIN)
    url = f"/staff/regions/{region.pk}/invoices/{invoice.issued_on.isoformat()}.csv"
    response = client_of(admin).get(url)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode()), delimiter=";"))
    assert [(r["ocr"], r["amount"], r["total"], r["personnummer"]) for r in rows] == [
        (invoice.ocr, "200.00", "200.00", fee.patient.personnummer)
    ]
    assert list(rows[0]) == invoices.EXPORT_COLUMNS
    other_day = client_of(admin).get(f"/staff/regions/{region.pk}/invoices/{day_of(fee, 15).isoformat()}.csv")
    assert other_day.content.decode().count("\r\n") == 1  # the header only
    assert client_of(admin).get(f"/staff/regions/{region.pk}/invoices/yesterday.csv").status_code == 400
    member = staff_of(fee.unit, number=2)  # staff of the unit but not the region's administrator
    assert client_of(member).get(url).status_code == 404


def test_a_due_date_on_a_weekend_or_holiday_moves_to_the_next_working_day():
    # 2026-12-25 is Christmas Day (a Friday): the 26th and 27th are a holiday and a Sunday.
    assert invoices.due_date(dt.date(2026, 11, 25), 30) == dt.date(2026, 12, 28)
    assert invoices.due_date(dt.date(2026, 11, 24), 30) == dt.date(2026, 12, 28)  # julafton, de facto off
    assert invoices.due_date(dt.date(2026, 11, 20), 30) == dt.date(2026, 12, 21)  # a Sunday → Monday
    assert invoices.due_date(dt.date(2026, 11, 19), 30) == dt.date(2026, 12, 21)  # a Saturday → Monday
    assert invoices.due_date(dt.date(2026, 11, 18), 30) == dt.date(2026, 12, 18)  # a Friday stays


def test_the_daily_run_just_after_midnight_uses_the_swedish_day(fee):
    """00:30 in Stockholm is still the previous day in UTC: the invoice is dated by the Swedish day."""
    import time_machine

    from vardkontakt.core.calendar import STOCKHOLM
    from vardkontakt.payments.tasks import invoices_due

    swedish_day = day_of(fee, 14)
    at = dt.datetime.combine(swedish_day, dt.time(0, 30), tzinfo=STOCKHOLM)
    with time_machine.travel(at, tick=False):
        assert invoices_due() == 1
    assert Invoice.objects.get(fee=fee).issued_on == swedish_day
