"""Payments on invoices, matched by OCR from the bank's file (docs/payments.md, "Payments on invoices").

The file is a simple documented CSV that a region's bank or accounting system produces from
Bankgirot's deposit report: ``ocr;amount;paid_on;reference`` with a header row, where ``reference``
is the bank's own unique id of the deposit. Importing the same file twice changes nothing (each
deposit is one payment, keyed by its reference).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Region
from vardkontakt.payments import ocr
from vardkontakt.payments.models import Invoice, Method, Payment, Status

INVOICE_PAID = "payments.invoice.paid"
COLUMNS = ["ocr", "amount", "paid_on", "reference"]


def bankgiro_valid(value: str) -> bool:
    """7 or 8 digits (written 123-4567 or 1234-5678) whose last is a modulus-10 check digit."""
    digits = value.replace("-", "").replace(" ", "")
    return digits.isascii() and digits.isdigit() and len(digits) in (7, 8) and ocr.is_luhn(digits)


@dataclass
class Outcome:
    matched: list[str] = field(default_factory=list)  # OCR references now paid
    already: list[str] = field(default_factory=list)  # deposits imported before: nothing done
    paid_twice: list[str] = field(default_factory=list)  # the fee was already paid: pay back by the bank
    too_little: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # no invoice of the region with this OCR
    bad_rows: list[int] = field(default_factory=list)  # line numbers that are not a deposit


def invoices_match_bank_file(*, staff: Staff, region: Region, content: str) -> Outcome:
    result = Outcome()
    reader = csv.reader(io.StringIO(content), delimiter=";")
    for number, row in enumerate(reader, start=1):
        if number == 1 and [cell.strip().lower() for cell in row] == COLUMNS:
            continue
        parsed = _row(row)
        if parsed is None:
            result.bad_rows.append(number)
            continue
        reference, amount, paid_on, bank_id = parsed
        _deposit(staff, region, reference, amount, paid_on, bank_id, result)
    return result


def _row(row: list[str]) -> tuple[str, Decimal, dt.date, str] | None:
    if len(row) != len(COLUMNS):
        return None
    reference, amount_text, day_text, bank_id = (cell.strip() for cell in row)
    try:
        amount = Decimal(amount_text.replace(",", ".").replace(" ", ""))
        day = dt.date.fromisoformat(day_text)
    except (InvalidOperation, ValueError):
        return None
    if amount <= 0 or not bank_id or len(bank_id) > 50:
        return None
    return reference, amount.quantize(Decimal("0.01")), day, bank_id


def _deposit(
    staff: Staff, region: Region, reference: str, amount: Decimal, paid_on: dt.date, bank_id: str, result: Outcome
) -> None:
    key = f"bank-{region.pk.hex[:8]}-{bank_id}"
    if Payment.objects.filter(idempotency_key=key).exists():
        result.already.append(reference)
        return
    invoice = (
        Invoice.objects.filter(region=region, ocr=reference).select_related("fee", "fee__patient", "fee__unit").first()
        if ocr.is_valid(reference)
        else None
    )
    if invoice is None:
        result.unknown.append(reference)
        return
    if amount < invoice.total:
        result.too_little.append(reference)
        return
    try:
        with transaction.atomic():
            twice = Payment.objects.filter(fee=invoice.fee, status=Status.PAID).exists()
            payment = Payment.objects.create(
                fee=invoice.fee,
                method=Method.INVOICE,
                status=Status.PAID_TWICE if twice else Status.PAID,
                amount=amount,
                idempotency_key=key,
                provider_ref=reference,
                provider_charge=bank_id,
                provider_status=f"deposit {paid_on.isoformat()}",
                paid_at=timezone.now(),
            )
            audit(
                actor=Actor.of_staff(staff),
                action=INVOICE_PAID,
                patient=invoice.fee.patient,
                obj=payment,
                unit=invoice.fee.unit,
                detail=f"OCR {reference} {amount} on {paid_on.isoformat()}{' (already paid)' if twice else ''}",
            )
    except IntegrityError:  # the same deposit imported at the same moment elsewhere
        result.already.append(reference)
        return
    (result.paid_twice if twice else result.matched).append(reference)
