"""Extracts of the HSA catalogue a region imports (docs/hsa-import.md), and who came from them."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Region


class CatalogueImport(models.Model):
    """One uploaded extract: kept as uploaded so that its preview and its application read the same
    text; applied once at most (``applied_at``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="catalogue_imports")
    uploaded_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    content = models.TextField()
    digest = models.CharField(max_length=64)  # SHA-256 of the content: the same extract twice is seen
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # what the application changed, by kind
    # The day the nightly job last ended the access of persons missing from this (the latest) extract.
    swept_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["region", "-applied_at"], name="catalogue_import_latest")]


class CataloguePerson(models.Model):
    """A person the catalogue has listed for the region, and the last applied extract they were in:
    someone missing from the latest extract loses their access at the nightly run."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    last_import = models.ForeignKey(CatalogueImport, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "staff"], name="catalogue_person_once")]
