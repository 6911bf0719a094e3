"""Integration clients of the FHIR API: OAuth2 client credentials with scopes per resource type.

Secrets and tokens are long random strings shown once; only their SHA-256 is stored
(vardkontakt.core.tokens).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from vardkontakt.organisation.models import CareUnit


class IntegrationClient(models.Model):
    """A source system (journal, lab, pharmacy) allowed to push record data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.SlugField(_("client id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Rows it sends are keyed by (source_system, business identifier).
    source_system = models.SlugField(_("source system"), max_length=64)
    secret_digest = models.CharField(max_length=64)
    # SMART backend-services scopes, e.g. "system/Observation.write".
    scopes = models.JSONField(_("scopes"), default=list)
    # The care units whose record data it may write; none registered, none written (docs/api.md).
    units = models.ManyToManyField(CareUnit, verbose_name=_("care units"), related_name="+", blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client_id"]

    def __str__(self) -> str:
        return self.client_id


class IntegrationToken(models.Model):
    token_digest = models.CharField(max_length=64, primary_key=True)
    client = models.ForeignKey(IntegrationClient, on_delete=models.CASCADE, related_name="tokens")
    scopes = models.JSONField(default=list)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
