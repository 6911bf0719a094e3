"""Patient fees, the high-cost protection (högkostnadsskydd) and the frikort (docs/fees.md).

Money is Decimal kronor with two decimals (öre), never float. The rules read from these rows live
in ``ceiling.py`` (the arithmetic) and ``services.py`` (the writes, under a row lock).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Region, UnitKind

# HSL (2017:30) 17 kap. 6 §: the statutory maximum a region's ceiling may not pass (docs/fees.md).
STATUTORY_CEILING = Decimal("1400.00")


class FeeKind(models.TextChoices):
    DOCTOR = "doctor", _("visit to a doctor")
    OTHER_PROFESSION = "other_profession", _("visit to another profession")
    VIDEO = "video", _("video visit")
    PHONE = "phone", _("phone appointment")
    GROUP = "group", _("group visit")
    MISSED_VISIT = "missed_visit", _("missed visit")
    CERTIFICATE = "certificate", _("certificate")
    VACCINATION = "vaccination", _("vaccination")
    PREVENTIVE = "preventive", _("preventive care")
    RECORD_COPY = "record_copy", _("copy of the record")


class FeeRules(models.Model):
    """A region's settings for fees and the ceiling; a region without a row gets the defaults."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="fee_rules")
    ceiling = models.DecimalField(
        _("high-cost ceiling (kronor)"), default=STATUTORY_CEILING, max_digits=9, decimal_places=2
    )
    # Visit fees are not charged below this age or from that age (0 = no such exemption).
    free_under_age = models.PositiveSmallIntegerField(_("free of charge under the age of"), default=20)
    free_from_age = models.PositiveSmallIntegerField(_("free of charge from the age of"), default=85)
    # A booking cancelled later than this before its start is a missed visit (uteblivet besök).
    missed_visit_hours = models.PositiveSmallIntegerField(_("cancel at least (hours before)"), default=24)
    # The missed-visit fee (uteblivet besök) is charged from this age whatever the visit fees'
    # exemptions say: no upper exemption, and children under it are free of it (0 = nobody is).
    missed_visit_fee_age_exempt_under = models.PositiveSmallIntegerField(
        _("no missed-visit fee under the age of"), default=20
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ceiling__gte=0) & Q(ceiling__lte=STATUTORY_CEILING), name="fee_rules_ceiling_statutory"
            ),
        ]


class FeeSchedule(models.Model):
    """One fee of a region from a date: per fee kind and (optionally) per kind of unit.

    A change is a new row from a later date; the fee of a visit is the row in force on the day of
    care, so a change never reaches back.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="fee_schedule")
    kind = models.CharField(_("fee kind"), max_length=24, choices=FeeKind.choices)
    # Empty: every kind of unit without a row of its own.
    unit_kind = models.CharField(_("kind of unit"), max_length=32, choices=UnitKind.choices, blank=True)
    amount = models.DecimalField(_("amount (kronor)"), max_digits=9, decimal_places=2)
    counts_toward_ceiling = models.BooleanField(_("counts toward the high-cost protection"), default=True)
    effective_from = models.DateField(_("in force from"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "kind", "unit_kind", "effective_from"], name="fee_schedule_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_schedule_amount_positive"),
        ]
        ordering = ["kind", "unit_kind", "-effective_from"]


class CeilingHolder(models.Model):
    """Whose ceiling: one person, or the children under 18 of the same guardians (a family).

    Exists to be locked: every fee that may count locks its holder's row first, so two fees at once
    for the same ceiling are decided one after the other (docs/fees.md, "Concurrency").
    """

    key = models.CharField(max_length=80, unique=True)


class HighCostPeriod(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    holder = models.ForeignKey(CeilingHolder, on_delete=models.CASCADE, related_name="periods")
    start = models.DateField()  # the day of the first counted visit
    end = models.DateField()  # start + 12 months - 1 day (shorter only before an existing later period)
    ceiling = models.DecimalField(max_digits=9, decimal_places=2)  # the region's ceiling when the period began
    used = models.DecimalField(default=Decimal("0.00"), max_digits=9, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["holder", "start"], name="period_start_once"),
            models.CheckConstraint(condition=Q(used__lte=models.F("ceiling")), name="period_never_past_ceiling"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="period_ends_after_start"),
        ]
        ordering = ["-start"]


class Frikort(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    period = models.OneToOneField(HighCostPeriod, on_delete=models.CASCADE, related_name="frikort")
    valid_from = models.DateField()  # the day of care of the fee that reached the ceiling
    valid_until = models.DateField()  # the period's last day: the day before its anniversary
    issued_at = models.DateTimeField()


class FeeSource(models.TextChoices):
    PLATFORM = "platform", _("charged here")
    REGISTERED = "registered", _("registered from a receipt")


class Fee(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="fees")
    unit = models.ForeignKey(CareUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("fee kind"), max_length=24, choices=FeeKind.choices)
    date_of_care = models.DateField(_("date of care"))
    amount_before = models.DecimalField(max_digits=9, decimal_places=2)  # what the schedule (or the receipt) said
    amount_charged = models.DecimalField(max_digits=9, decimal_places=2)  # after age, frikort and the exact ceiling
    counts = models.BooleanField()
    period = models.ForeignKey(HighCostPeriod, null=True, blank=True, on_delete=models.PROTECT, related_name="fees")
    source = models.CharField(max_length=12, choices=FeeSource.choices, default=FeeSource.PLATFORM)
    booking_id = models.UUIDField(null=True, blank=True)  # one fee per booking (the check-in's entry point)
    provider = models.CharField(_("paid to"), max_length=200, blank=True)  # another region or a private unit
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    registered_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    form_key = models.CharField(max_length=64, blank=True)  # a staff form sent twice registers once
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking_id", "kind"], condition=Q(booking_id__isnull=False), name="fee_once_per_booking"
            ),
            models.UniqueConstraint(fields=["form_key"], condition=~Q(form_key=""), name="fee_form_once"),
            models.CheckConstraint(condition=Q(amount_charged__gte=0), name="fee_charged_positive"),
            models.CheckConstraint(
                condition=Q(amount_charged__lte=models.F("amount_before")), name="fee_charged_at_most_before"
            ),
        ]
        ordering = ["date_of_care", "created_at"]
