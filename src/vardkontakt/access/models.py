"""Who may act for whom (guardianships, adult proxies), the seal, and the append-only audit log."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.access.actions import action_label
from vardkontakt.core.codes import one_of
from vardkontakt.identity.models import Patient, Staff


class Guardianship(models.Model):
    """A guardian (vårdnadshavare) of a child, as imported from the population register."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    guardian = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="guardianships")
    child = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="guardians")
    imported_at = models.DateTimeField()
    # Ended when a later import no longer lists the relation (custody changed).
    ended_at = models.DateTimeField(null=True, blank=True)
    # Blockering: a unit head may stop a guardian acting for the child online.
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    block_reason = models.TextField(_("reason"), blank=True, max_length=1000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guardian", "child"], name="guardianship_once"),
            models.CheckConstraint(condition=~Q(guardian=models.F("child")), name="guardianship_not_self"),
        ]


class ProxyStatus(models.TextChoices):
    INVITED = "invited", _("invited")
    ACTIVE = "active", _("active")
    DECLINED = "declined", _("declined")
    REVOKED = "revoked", _("revoked")


OPEN_PROXY_STATUSES = [ProxyStatus.INVITED, ProxyStatus.ACTIVE]


class Proxy(models.Model):
    """An adult (agent) appointed by an adult patient (principal) to act for them (ombud)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    principal = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="proxies_given")
    agent = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="proxies_held")
    scope_record = models.BooleanField(_("read the record"), default=False)
    scope_cases = models.BooleanField(_("messages and cases"), default=False)
    scope_bookings = models.BooleanField(_("bookings"), default=False)
    expires_on = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(max_length=16, choices=ProxyStatus.choices, default=ProxyStatus.INVITED)
    invited_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    idempotency_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-invited_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "agent"],
                condition=Q(status__in=OPEN_PROXY_STATUSES),
                name="one_open_proxy_per_pair",
            ),
            models.CheckConstraint(condition=~Q(principal=models.F("agent")), name="proxy_not_self"),
            models.CheckConstraint(
                condition=Q(scope_record=True) | Q(scope_cases=True) | Q(scope_bookings=True), name="proxy_has_a_scope"
            ),
            models.CheckConstraint(condition=one_of("status", ProxyStatus.values), name="proxy_status_valid"),
        ]

    @property
    def scopes(self) -> list[str]:
        return [name for name in ("record", "cases", "bookings") if getattr(self, f"scope_{name}")]


class RecordSeal(models.Model):
    """Försegling: the patient closed all online access to their record. Only an archivist reopens."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="seals")
    sealed_at = models.DateTimeField()
    sealed_by = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reopen_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient"], condition=Q(reopened_at__isnull=True), name="one_active_seal"),
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True) | (Q(reopened_by__isnull=False) & ~Q(reopen_reason="")),
                name="seal_reopen_needs_archivist_and_reason",
            ),
        ]


class AuditOutcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")


class HashVersion(models.IntegerChoices):
    SHA256 = 0, "SHA-256"  # entries written before keyed hashes; only ever at the start of the chain
    HMAC_SHA256 = 1, "HMAC-SHA256"


class AuditEntry(models.Model):
    """One read or write of patient data. Append-only, hash-chained (see access/audit.py).

    Identifiers are stored as values, not foreign keys: the log must outlive what it describes.
    """

    sequence = models.BigIntegerField(unique=True)
    at = models.DateTimeField()  # asked for with an actor, a patient or a unit (the composites below)
    actor_kind = models.CharField(max_length=16)  # patient, staff, system
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    on_behalf_of_id = models.CharField(max_length=64, blank=True)
    patient_id = models.CharField(max_length=64, blank=True)  # found by (patient_id, at)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    unit_id = models.CharField(max_length=64, blank=True)  # found by (unit_id, at)
    unit_label = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=8, choices=AuditOutcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)
    hash_version = models.PositiveSmallIntegerField(choices=HashVersion.choices, default=HashVersion.HMAC_SHA256)

    class Meta:
        ordering = ["sequence"]
        # Every read of patient data appends a row, so each index here is paid on every read: the
        # identifiers are found by these composites (their first column serves an equality alone),
        # and no text index gets the pattern-ops twin a db_index or unique field would add, since
        # nothing here is searched by prefix.
        constraints = [models.UniqueConstraint(fields=["entry_hash"], name="audit_entry_hash_unique")]
        indexes = [
            models.Index(fields=["actor_id", "at"]),
            models.Index(fields=["patient_id", "at"]),
            models.Index(fields=["unit_id", "at"], name="audit_entry_unit_at"),
        ]

    @property
    def action_label(self) -> str:
        return action_label(self.action)


class AuditHead(models.Model):
    """The chain's head: locked for each append so that entries form one unbroken sequence."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_head_singleton")]
