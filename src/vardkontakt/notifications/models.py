"""The outbox: one row per thing a person should be told, written in the same transaction as
the change that causes it. The platform shows it at once; delivery by e-mail and SMS (which never
carries medical content) reads the same rows.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Patient


class NotificationKind(models.TextChoices):
    PROXY_INVITED = "proxy_invited", _("You have been asked to act for someone")
    PROXY_ACCEPTED = "proxy_accepted", _("Your proxy has accepted")
    PROXY_DECLINED = "proxy_declined", _("Your proxy request was declined")
    PROXY_REVOKED = "proxy_revoked", _("A proxy arrangement has ended")
    RECORD_SEALED = "record_sealed", _("Your record is sealed")
    RECORD_REOPENED = "record_reopened", _("Your record has been reopened")


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # What caused it, so the same event never notifies the same person twice.
    cause = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "cause"], name="notification_once"),
            models.CheckConstraint(
                condition=models.Q(kind__in=NotificationKind.values), name="notification_kind_valid"
            ),
        ]
