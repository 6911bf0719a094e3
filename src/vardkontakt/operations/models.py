"""Running the service: operational messages (planned downtime, disturbances) and a record of logins.

An operational message is shown as a banner to its audience while it is current (start ≤ now < end).
Login records let support answer "why can't I log in?" and "when did I last log in?" without
reading anything medical.
"""

from __future__ import annotations

import re
import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.codes import one_of
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import Region


class MessageKind(models.TextChoices):
    PLANNED_DOWNTIME = "planned_downtime", _("planned downtime")
    DISTURBANCE = "disturbance", _("disturbance")


class Audience(models.TextChoices):
    RESIDENTS = "residents", _("residents")
    STAFF = "staff", _("staff")
    ALL = "all", _("everyone")


class OperationalMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="operational_messages")
    kind = models.CharField(_("kind of message"), max_length=20, choices=MessageKind.choices)
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"), max_length=1000)
    starts_at = models.DateTimeField(_("shown from"))
    ends_at = models.DateTimeField(_("shown until"))
    audience = models.CharField(_("shown to"), max_length=10, choices=Audience.choices, default=Audience.ALL)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    # A create form carries a key: a double click or a resent form publishes one message.
    idempotency_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="message_ends_after_start"),
            models.CheckConstraint(condition=one_of("kind", MessageKind.values), name="message_kind_valid"),
            models.CheckConstraint(condition=one_of("audience", Audience.values), name="message_audience_valid"),
        ]
        # Every page asks for the messages current now: a range on the end (few end in the future).
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="message_current")]

    def __str__(self) -> str:
        return self.title


class LoginSide(models.TextChoices):
    EID = "eid", _("e-ID")
    SITHS = "siths", _("SITHS card")


class LoginOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("logged in")
    REFUSED = "refused", _("refused")


# Why a recorded login was refused, in words for support (keys: identity.oidc.Refusal values). Only
# refusals after a verified ID token name a person, so only those can be recorded.
REFUSAL_LABELS = {
    "acr": _("the e-ID's level of assurance was too low"),
}


class LoginRecord(models.Model):
    """One login, or one refused login of a person we know (the identity provider vouched for them).

    It names the person (patient or staff member), not the User: a refused login may come from
    someone who has never logged in and so has no User yet.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    side = models.CharField(max_length=8, choices=LoginSide.choices)
    # The assurance level the identity provider stated (acr), as it said it.
    acr = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=LoginOutcome.choices)
    # Why it was refused (identity.oidc.Refusal); empty for a login that succeeded.
    reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(patient__isnull=False, staff__isnull=True) | Q(patient__isnull=True, staff__isnull=False),
                name="login_record_one_person",
            ),
            models.CheckConstraint(condition=one_of("side", LoginSide.values), name="login_record_side_valid"),
            models.CheckConstraint(
                condition=Q(outcome=LoginOutcome.SUCCEEDED, reason="")
                | (Q(outcome=LoginOutcome.REFUSED) & ~Q(reason="")),
                name="login_record_reason_iff_refused",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "-at"], name="login_record_patient"),
            models.Index(fields=["staff", "-at"], name="login_record_staff"),
            # The retention job (operations.tasks) finds the oldest records by time alone.
            models.Index(fields=["at"], name="login_record_at"),
        ]

    @property
    def reason_label(self) -> str:
        return str(REFUSAL_LABELS.get(self.reason, self.reason))

    @property
    def assurance_label(self) -> str:
        """The Swedish e-ID framework's level (…/loa/1.0/loa3 → "3"), or the value as the provider sent it."""
        level = re.search(r"loa(\d)$", self.acr)
        return level[1] if level else self.acr


class InformationPage(models.TextChoices):
    """The footer's pages about the service itself, each a region may word as its own."""

    ACCESSIBILITY = "accessibility", _("accessibility statement")
    PRIVACY = "privacy", _("personal data and cookies")
    ABOUT = "about", _("about the service")


class InformationText(models.Model):
    """A region's own wording of one part of an information page. A part without a row shows the
    default of ``operations/information.py``; an empty English text falls back to the Swedish one."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="information_texts")
    page = models.CharField(max_length=16, choices=InformationPage.choices)
    part = models.CharField(max_length=32)
    text_sv = models.TextField(max_length=5000)
    text_en = models.TextField(max_length=5000, blank=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "page", "part"], name="information_text_once"),
            models.CheckConstraint(
                condition=one_of("page", InformationPage.values), name="information_text_page_valid"
            ),
        ]
