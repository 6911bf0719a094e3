"""Every read of fees and payments for the payments pages: through the policy and into the log."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit, audit_each
from vardkontakt.fees.models import Fee, FeeSource
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Region
from vardkontakt.payments import card, policy, swish
from vardkontakt.payments.models import Invoice, Payment, Refund, Status

PAYMENTS_READ = "payments.list.read"
PAYMENT_READ = "payments.payment.read"
UNIT_PAYMENTS_READ = "payments.unit.read"
INVOICE_READ = "payments.invoice.read"
INVOICES_EXPORT = "payments.invoices.export"


@dataclass(frozen=True)
class FeeLine:
    fee: Fee
    paid: Payment | None  # the payment that paid it
    under_way: Payment | None
    invoice: Invoice | None

    @property
    def state(self) -> str:
        if self.fee.source == FeeSource.REGISTERED:
            return "elsewhere"
        if self.paid is not None:
            return "paid"
        if self.fee.amount_charged <= 0:
            return "free"
        if self.under_way is not None:
            return "under_way"
        return "invoiced" if self.invoice is not None else "unpaid"

    @property
    def payable(self) -> bool:
        return self.state in ("unpaid", "invoiced")


def _lines(fees: list[Fee]) -> list[FeeLine]:
    lines = []
    for fee in fees:
        payments = list(fee.payments.all())
        lines.append(
            FeeLine(
                fee=fee,
                paid=next((p for p in payments if p.status == Status.PAID), None),
                under_way=next((p for p in payments if p.status == Status.PENDING), None),
                invoice=getattr(fee, "invoice", None),
            )
        )
    return lines


def payments_for_reader(*, reader: Patient, subject: Patient, now: dt.datetime | None = None) -> list[FeeLine]:
    """Every fee of the subject, newest first, with its payment or invoice. 404 for someone the
    reader may not pay for (nothing logged)."""
    if not policy.may_pay_for(reader, subject, now=now):
        raise Http404
    fees = list(
        Fee.objects.filter(patient=subject)
        .select_related("unit", "invoice")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("-created_at")))
        .order_by("-date_of_care", "-created_at")
    )
    audit(
        actor=Actor.of_patient(reader), action=PAYMENTS_READ, patient=subject, on_behalf_of=subject, object_type="Fee"
    )
    return _lines(fees)


def fee_for_payer(*, reader: Patient, subject: Patient, fee_id: uuid.UUID, now: dt.datetime | None = None) -> FeeLine:
    """One fee of the subject, to pay. Another person's fee, or one of someone the reader may not pay
    for: 404."""
    if not policy.may_pay_for(reader, subject, now=now):
        raise Http404
    fee = (
        Fee.objects.filter(pk=fee_id, patient=subject)
        .select_related("unit", "invoice")
        .prefetch_related("payments")
        .first()
    )
    if fee is None:
        raise Http404
    audit(actor=Actor.of_patient(reader), action=PAYMENTS_READ, patient=subject, on_behalf_of=subject, obj=fee)
    return _lines([fee])[0]


def payment_for_payer(*, reader: Patient, payment_id: uuid.UUID, now: dt.datetime | None = None) -> Payment:
    """A payment of a fee of someone the reader may pay for (the one who started it, the person, a
    guardian or proxy); anyone else: 404."""
    payment = Payment.objects.filter(pk=payment_id).select_related("fee", "fee__patient", "fee__unit").first()
    if payment is None or not policy.may_pay_for(reader, payment.fee.patient, now=now):
        raise Http404
    audit(
        actor=Actor.of_patient(reader),
        action=PAYMENT_READ,
        patient=payment.fee.patient,
        on_behalf_of=payment.fee.patient,
        obj=payment,
        unit=payment.fee.unit,
    )
    return payment


def invoice_for_payer(*, reader: Patient, invoice_id: uuid.UUID, now: dt.datetime | None = None) -> Invoice:
    invoice = Invoice.objects.filter(pk=invoice_id).select_related("fee", "fee__patient", "fee__unit", "region").first()
    if invoice is None or not policy.may_pay_for(reader, invoice.fee.patient, now=now):
        raise Http404
    audit(
        actor=Actor.of_patient(reader),
        action=INVOICE_READ,
        patient=invoice.fee.patient,
        on_behalf_of=invoice.fee.patient,
        obj=invoice,
        unit=invoice.fee.unit,
    )
    return invoice


def methods_available() -> dict[str, bool]:
    return {"swish": swish.configured(), "card": card.configured()}


# --- staff -----------------------------------------------------------------------------------------


def unit_for_payments(*, staff: Staff, unit_id: uuid.UUID) -> CareUnit:
    unit = CareUnit.objects.filter(pk=unit_id).first()
    if unit is None or not policy.may_handle_unit_payments(staff, unit):
        raise Http404
    return unit


def unit_payments(*, staff: Staff, unit: CareUnit, limit: int = 200) -> list[Payment]:
    """The unit's latest payments (paid, under way or paid twice), each patient's read logged."""
    if not policy.may_handle_unit_payments(staff, unit):
        raise Http404
    payments = list(
        Payment.objects.filter(fee__unit=unit)
        .exclude(status=Status.FAILED)
        .select_related("fee", "fee__patient")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("created_at")))
        .order_by("-created_at")[:limit]
    )
    audit_each(
        actor=Actor.of_staff(staff),
        action=UNIT_PAYMENTS_READ,
        reads=[(p.fee.patient, p) for p in payments],
        unit=unit,
    )
    return payments


def payment_for_staff(*, staff: Staff, payment_id: uuid.UUID) -> Payment:
    """A payment of a fee the staff member's unit charged; any other: 404."""
    payment = Payment.objects.filter(pk=payment_id).select_related("fee", "fee__patient", "fee__unit").first()
    if payment is None or not policy.may_refund(staff, payment.fee):
        raise Http404
    audit(
        actor=Actor.of_staff(staff),
        action=PAYMENT_READ,
        patient=payment.fee.patient,
        obj=payment,
        unit=payment.fee.unit,
    )
    return payment


def region_for_invoices(*, staff: Staff, region_id: uuid.UUID) -> Region:
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not policy.may_export_invoices(staff, region):
        raise Http404
    return region


def invoices_of_day(*, staff: Staff, region: Region, day: dt.date) -> list[Invoice]:
    """The invoices the region issued or reminded on ``day``, for its accounting (each person logged)."""
    if not policy.may_export_invoices(staff, region):
        raise Http404
    from django.db.models import Q

    invoices = list(
        Invoice.objects.filter(Q(issued_on=day) | Q(reminded_on=day), region=region)
        .select_related("fee", "fee__patient", "fee__unit")
        .order_by("ocr")
    )
    audit_each(actor=Actor.of_staff(staff), action=INVOICES_EXPORT, reads=[(i.fee.patient, i) for i in invoices])
    return invoices


def today() -> dt.date:
    return timezone.localdate()
