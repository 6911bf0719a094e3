"""Paying a patient fee: by Swish, by card on a payment provider's hosted page, or by invoice with an
OCR reference; refunds by staff (docs/payments.md).

What must never happen is written as constraints: one successful payment per fee, one payment
under way per fee (two tabs paying at once make one request to the provider), never more refunded
than was paid. Money is Decimal kronor with öre, as in the fees app.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.fees.models import Fee
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import Region


class Method(models.TextChoices):
    SWISH = "swish", _("Swish")
    CARD = "card", _("card")
    INVOICE = "invoice", _("invoice")


class Status(models.TextChoices):
    # Sent (or being sent) to the provider and not yet decided: the only state that may still change
    # into another, apart from a paid payment found to pay a fee twice (then refunded at once).
    PENDING = "pending", _("under way")
    PAID = "paid", _("paid")
    FAILED = "failed", _("not paid")
    PAID_TWICE = "paid_twice", _("paid twice, paid back")


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # Swish's instruction UUID
    fee = models.ForeignKey(Fee, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=8, choices=Method.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    refunded = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0.00"))
    # The form's key: a double click or a resent form starts one payment.
    idempotency_key = models.CharField(max_length=64, unique=True)
    payer_alias = models.CharField(max_length=20, blank=True)  # Swish: the payer's number, 46701234567
    # The provider's names for it: Swish's paymentReference; the card provider's session and charge.
    provider_ref = models.CharField(max_length=100, blank=True)
    provider_charge = models.CharField(max_length=100, blank=True)
    callback_secret = models.CharField(max_length=64, blank=True)  # Swish's callbackIdentifier
    redirect_url = models.URLField(max_length=1000, blank=True)  # the hosted payment page
    provider_status = models.CharField(max_length=40, blank=True)  # the provider's own word, as last told
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    started_by = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fee"], condition=Q(status="paid"), name="payment_one_paid_per_fee"),
            models.UniqueConstraint(fields=["fee"], condition=Q(status="pending"), name="payment_one_open_per_fee"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("amount")), name="payment_refund_at_most_paid"
            ),
        ]
        ordering = ["-created_at"]


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("under way")
    DONE = "done", _("paid back")
    FAILED = "failed", _("failed")


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # Swish's instruction UUID
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    reason = models.TextField(max_length=1000)
    by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # none: the system
    status = models.CharField(max_length=8, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_ref = models.CharField(max_length=100, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    form_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]
        ordering = ["-created_at"]


class PaymentRules(models.Model):
    """A region's invoicing: a region without a row gets these defaults (and no bankgiro: no invoices)."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="payment_rules")
    bankgiro = models.CharField(_("bankgiro number"), max_length=9, blank=True)  # 123-4567 or 1234-5678
    invoice_after_days = models.PositiveSmallIntegerField(_("invoice a fee unpaid after (days)"), default=14)
    due_days = models.PositiveSmallIntegerField(_("days to pay an invoice"), default=30)
    reminder_after_days = models.PositiveSmallIntegerField(_("remind after the due date (days)"), default=10)
    # Lag (1981:739) om ersättning för inkassokostnader m.m.: a reminder fee of at most 60 kronor.
    reminder_fee = models.DecimalField(_("reminder fee (kronor)"), max_digits=6, decimal_places=2, default=60)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(reminder_fee__gte=0) & Q(reminder_fee__lte=60), name="payment_rules_reminder_fee_by_law"
            ),
            models.CheckConstraint(condition=Q(due_days__gte=10), name="payment_rules_due_days_min"),
        ]


class Invoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    fee = models.OneToOneField(Fee, on_delete=models.PROTECT, related_name="invoice")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    ocr = models.CharField(max_length=25, unique=True)
    bankgiro = models.CharField(max_length=9)  # as printed, kept when the region's number changes later
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    issued_on = models.DateField()
    due_on = models.DateField()
    reminder_fee = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0.00"))
    reminded_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(due_on__gt=models.F("issued_on")), name="invoice_due_after_issue"),
        ]
        ordering = ["issued_on", "ocr"]

    @property
    def total(self) -> Decimal:
        return self.amount + self.reminder_fee
