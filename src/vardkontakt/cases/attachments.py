"""Files patients send with a case: PDF, JPEG or PNG by content (not by name), at most 10 MB
each and 5 per case, stored under settings.UPLOAD_ROOT (never a served folder)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.cases.models import Attachment, Case
from vardkontakt.identity.models import Patient

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
]
PENDING_LIFETIME = dt.timedelta(days=1)


def sniff(head: bytes) -> tuple[str, str] | None:
    for signature, content_type, suffix in SIGNATURES:
        if head.startswith(signature):
            return content_type, suffix
    return None


def _root() -> Path:
    root = Path(settings.UPLOAD_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _safe_name(name: str) -> str:
    base = Path(name).name
    cleaned = re.sub(r"[^\w.\- ]", "_", base)[:150].strip() or "fil"
    return cleaned


def check_files(files: list[UploadedFile], *, already: int = 0) -> list[tuple[UploadedFile, str]]:
    """Validate every file; all or none. Returns (file, content type) pairs."""
    errors: list[ValidationError] = []
    if already + len(files) > MAX_FILES:
        errors.append(ValidationError(_("You can attach at most %(max)d files.") % {"max": MAX_FILES}, code="too_many"))
    checked = []
    for upload in files:
        name = _safe_name(upload.name or "")
        if (upload.size or 0) > MAX_BYTES:
            errors.append(ValidationError(_("%(name)s is larger than 10 MB.") % {"name": name}, code="too_large"))
            continue
        upload.seek(0)
        found = sniff(upload.read(16))
        upload.seek(0)
        if found is None:
            errors.append(
                ValidationError(_("%(name)s is not a PDF, JPEG or PNG file.") % {"name": name}, code="wrong_type")
            )
            continue
        checked.append((upload, found[0]))
    if errors:
        raise ValidationError(errors)
    return checked


@transaction.atomic
def store_pending(*, files: list[UploadedFile], uploader: Patient, submission_key: str) -> list[Attachment]:
    already = Attachment.objects.filter(uploaded_by=uploader, submission_key=submission_key, case__isnull=True).count()
    stored = []
    for upload, content_type in check_files(files, already=already):
        digest = hashlib.sha256()
        stored_as = f"{uuid.uuid4().hex}.bin"
        target = _root() / stored_as
        with target.open("xb") as handle:
            for chunk in upload.chunks():
                digest.update(chunk)
                handle.write(chunk)
        stored.append(
            Attachment.objects.create(
                uploaded_by=uploader,
                submission_key=submission_key,
                original_name=_safe_name(upload.name or ""),
                content_type=content_type,
                size=upload.size or 0,
                sha256=digest.hexdigest(),
                stored_as=stored_as,
                created_at=timezone.now(),
            )
        )
    return stored


def pending(*, uploader: Patient, submission_key: str) -> list[Attachment]:
    return list(Attachment.objects.filter(uploaded_by=uploader, submission_key=submission_key, case__isnull=True))


def attach_pending(*, case: Case, uploader: Patient, submission_key: str) -> int:
    return Attachment.objects.filter(uploaded_by=uploader, submission_key=submission_key, case__isnull=True).update(
        case=case
    )


def path_of(attachment: Attachment) -> Path:
    return _root() / attachment.stored_as


def remove_abandoned(*, now: dt.datetime | None = None, scan_files: bool = False) -> int:
    """Files uploaded for a case that was never sent, after a day. With ``scan_files`` also files
    left without a row (a transaction that rolled back after writing): a walk of the whole folder,
    so it runs from `manage.py cleanup_uploads`, not on every heartbeat."""
    now = now or timezone.now()
    removed = 0
    for attachment in Attachment.objects.filter(case__isnull=True, created_at__lt=now - PENDING_LIFETIME):
        path_of(attachment).unlink(missing_ok=True)
        attachment.delete()
        removed += 1
    if not scan_files:
        return removed
    known = set(Attachment.objects.values_list("stored_as", flat=True))
    for path in _root().glob("*.bin"):
        if path.name not in known and path.stat().st_mtime < (now - PENDING_LIFETIME).timestamp():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
