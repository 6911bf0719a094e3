"""The unit's check-in kiosks (issue 19 §2.2): registered devices and the short visits on them.

A kiosk is a device the unit administrator registered: a one-time code (a link opened on the
device) gives it a long random token, set as a cookie on that device only; only digests of the
code and the token are kept. Revoking the device makes its cookie worthless.

Nobody logs in on a kiosk. A person identifies for one short visit (``KioskVisit``): its own random
token in a cookie, ended at check-in, on "Klar" or by the idle script, and expired by the server
anyway after ``VISIT_SECONDS``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit

REGISTRATION_HOURS = 24  # a registration code not used by then is worthless
VISIT_SECONDS = 180  # a person's visit at the kiosk ends by then, whatever the page does


class KioskDevice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="kiosks")
    name = models.CharField(_("name"), max_length=80)
    created_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    # The one-time registration code's digest, until it is used or runs out.
    registration_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    registration_expires_at = models.DateTimeField()
    token_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The same "add a kiosk" form sent twice makes one device.
    form_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["unit", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(token_digest__isnull=True) | Q(registered_at__isnull=False),
                name="kiosk_token_when_registered",
            ),
            models.UniqueConstraint(fields=["form_key"], condition=~Q(form_key=""), name="kiosk_form_once"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.registered_at is not None and self.revoked_at is None


class IdentifiedBy(models.TextChoices):
    NUMBER_AND_TIME = "number", _("personal identity number and the time of the visit")
    BANKID = "bankid", _("mobile BankID")


class KioskVisit(models.Model):
    """One person at the kiosk, from identifying to the reset."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(KioskDevice, on_delete=models.CASCADE, related_name="visits")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True)
    identified_by = models.CharField(max_length=8, choices=IdentifiedBy.choices)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("started_at")), name="kiosk_visit_expires_after")
        ]


class KioskLogin(models.Model):
    """A mobile BankID login begun at the kiosk: the QR code carries its start link (with a random
    secret), the phone logs in through the same OIDC provider, and the kiosk, polling, takes the
    person from here into a visit. Nobody's session is made, on the phone or on the kiosk."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(KioskDevice, on_delete=models.CASCADE, related_name="logins")
    secret_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)  # made into a visit on the kiosk: once
