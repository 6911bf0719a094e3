"""Invoices of fees left unpaid: issuing (with an OCR reference), reminding, the PDF and the day's
file for the region's accounting (docs/payments.md, "Invoices").

Calendar rules are in Swedish days: a fee from the day of care D is invoiced on D + N days (the
region's setting), due ``due_days`` later; a reminder with its fee goes out ``reminder_after_days``
after the due date. A run on any day catches up on what an earlier day missed, and running twice
changes nothing (one invoice per fee, one reminder per invoice).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from vardkontakt.access.audit import SYSTEM, audit
from vardkontakt.core.calendar import is_working_day
from vardkontakt.fees.models import Fee, FeeSource
from vardkontakt.organisation.models import Region
from vardkontakt.payments import ocr
from vardkontakt.payments.models import Invoice, Payment, PaymentRules, Status

INVOICE_ISSUE = "payments.invoice.issue"
INVOICE_REMIND = "payments.invoice.remind"
EXPORT_COLUMNS = [
    "invoice_id",
    "ocr",
    "bankgiro",
    "issued_on",
    "due_on",
    "reminded_on",
    "amount",
    "reminder_fee",
    "total",
    "personnummer",
    "name",
    "unit_hsa_id",
    "fee_id",
    "date_of_care",
    "fee_kind",
]


def rules_of(region: Region) -> PaymentRules:
    return PaymentRules.objects.filter(region=region).first() or PaymentRules(region=region)


def _unpaid(fee_qs):  # type: ignore[no-untyped-def]
    return fee_qs.exclude(payments__status__in=[Status.PAID, Status.PENDING])


def invoices_issue(*, today: dt.date) -> list[Invoice]:
    """An invoice for every fee charged here, above 0, unpaid ``invoice_after_days`` after its day of
    care, of a region with a bankgiro number."""
    made: list[Invoice] = []
    for rules in PaymentRules.objects.exclude(bankgiro="").select_related("region"):
        last_day = today - dt.timedelta(days=rules.invoice_after_days)
        fees = _unpaid(
            Fee.objects.filter(
                unit__administration__region=rules.region,
                source=FeeSource.PLATFORM,
                amount_charged__gt=0,
                date_of_care__lte=last_day,
                invoice__isnull=True,
            )
        ).select_related("patient", "unit")
        for fee in fees.distinct():
            invoice = _issue(fee, rules, today)
            if invoice is not None:
                made.append(invoice)
    return made


def _issue(fee: Fee, rules: PaymentRules, today: dt.date) -> Invoice | None:
    for _attempt in range(5):  # a random OCR already in use is drawn again
        reference = ocr.make(f"{secrets.randbelow(10**10):010d}")
        try:
            with transaction.atomic():
                locked = Fee.objects.select_for_update().get(pk=fee.pk)  # against a payment started meanwhile
                if Invoice.objects.filter(fee=locked).exists() or _unpaid(Fee.objects.filter(pk=fee.pk)).count() == 0:
                    return None
                invoice = Invoice.objects.create(
                    fee=fee,
                    region=rules.region,
                    ocr=reference,
                    bankgiro=rules.bankgiro,
                    amount=fee.amount_charged,
                    issued_on=today,
                    due_on=due_date(today, rules.due_days),
                )
                audit(
                    actor=SYSTEM,
                    action=INVOICE_ISSUE,
                    patient=fee.patient,
                    obj=invoice,
                    unit=fee.unit,
                    detail=f"{invoice.amount} OCR {invoice.ocr}",
                )
                return invoice
        except IntegrityError:
            if Invoice.objects.filter(fee=fee).exists():
                return None
    raise RuntimeError("no free OCR reference found")


def due_date(issued: dt.date, days: int) -> dt.date:
    """``days`` after issue, moved to the next working day when that is a weekend or holiday (a
    payment made on the first working day after is on time, as banks count it)."""
    due = issued + dt.timedelta(days=days)
    while not is_working_day(due):
        due += dt.timedelta(days=1)
    return due


def invoices_remind(*, today: dt.date) -> list[Invoice]:
    """A reminder, with the region's reminder fee, for each invoice still unpaid ``reminder_after_days``
    after its due date (once)."""
    reminded: list[Invoice] = []
    for rules in PaymentRules.objects.all().select_related("region"):
        overdue = Invoice.objects.filter(
            region=rules.region,
            reminded_on__isnull=True,
            due_on__lt=today - dt.timedelta(days=rules.reminder_after_days - 1),
        ).exclude(fee__payments__status=Status.PAID)
        for invoice in overdue.select_related("fee", "fee__patient", "fee__unit").distinct():
            with transaction.atomic():
                changed = Invoice.objects.filter(pk=invoice.pk, reminded_on__isnull=True).update(
                    reminded_on=today, reminder_fee=rules.reminder_fee
                )
                if not changed:
                    continue
                audit(
                    actor=SYSTEM,
                    action=INVOICE_REMIND,
                    patient=invoice.fee.patient,
                    obj=invoice,
                    unit=invoice.fee.unit,
                    detail=f"reminder fee {rules.reminder_fee}",
                )
            invoice.refresh_from_db()
            reminded.append(invoice)
    return reminded


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice (or its reminder) as a PDF, made without network access, in Swedish."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    with translation.override("sv"):
        html = render_to_string(
            "payments/invoice_document.html",
            {"invoice": invoice, "fee": invoice.fee, "service": settings.SERVICE_NAME_RESIDENTS},
        )
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf(
        pdf_variant="pdf/ua-1", pdf_tags=True
    )


def receipt_pdf(payment: Payment) -> bytes:
    """The receipt of a paid fee, in Swedish, made without network access."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    with translation.override("sv"):
        html = render_to_string(
            "payments/receipt_document.html",
            {"payment": payment, "fee": payment.fee, "service": settings.SERVICE_NAME_RESIDENTS},
        )
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf(
        pdf_variant="pdf/ua-1", pdf_tags=True
    )


def invoices_csv(invoices: list[Invoice]) -> str:
    """The day's file: one row per invoice issued or reminded that day (columns in docs/payments.md)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for invoice in invoices:
        fee = invoice.fee
        writer.writerow(
            [
                invoice.pk,
                invoice.ocr,
                invoice.bankgiro,
                invoice.issued_on.isoformat(),
                invoice.due_on.isoformat(),
                invoice.reminded_on.isoformat() if invoice.reminded_on else "",
                _money(invoice.amount),
                _money(invoice.reminder_fee),
                _money(invoice.total),
                fee.patient.personnummer,
                fee.patient.full_name,
                fee.unit.hsa_id if fee.unit else "",
                fee.pk,
                fee.date_of_care.isoformat(),
                fee.kind,
            ]
        )
    return out.getvalue()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"
