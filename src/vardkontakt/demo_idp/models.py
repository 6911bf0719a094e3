from __future__ import annotations

from django.db import models


class AuthorizationCode(models.Model):
    """A code the demo provider issued: single use, short-lived, bound to client, redirect and PKCE."""

    code_hash = models.CharField(max_length=64, unique=True)
    tenant = models.CharField(max_length=16)
    client_id = models.CharField(max_length=100)
    redirect_uri = models.CharField(max_length=500)
    code_challenge = models.CharField(max_length=128)
    nonce = models.CharField(max_length=255, blank=True)
    claims = models.JSONField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
