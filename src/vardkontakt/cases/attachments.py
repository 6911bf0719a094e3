"""Files patients send with a case: PDF, JPEG or PNG by content (not by name), at most 10 MB
each and 5 per case, stored under settings.UPLOAD_ROOT (never a served folder).

A file is kept and handed out under a name the server makes, with the extension of the type its
content shows (``<uuid>.pdf`` on disk, ``bilaga-<date>-<id>.pdf`` as a download); the sender's name
is only display text, cleaned. Images are kept re-encoded without metadata, PDFs with JavaScript,
launch actions or embedded files are refused, and with ClamAV configured every file is scanned
(cases/file_safety.py, core/virus_scan.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.cases.file_safety import SUFFIX, Refused, check_pdf, clean_image, display_name, sniff
from vardkontakt.cases.models import Attachment, Case, CaseMessage
from vardkontakt.core.virus_scan import ScannerUnavailable, scan_bytes, scanning_configured
from vardkontakt.identity.models import Patient

logger = logging.getLogger(__name__)
MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
PENDING_LIFETIME = dt.timedelta(days=1)
REFUSALS = {
    "unreadable": _("%(name)s could not be read as a PDF, JPEG or PNG file."),
    "too_many_pixels": _("%(name)s is a picture of too many pixels (at most 60 megapixels)."),
    "javascript": _("%(name)s contains JavaScript, which files sent to the care unit may not."),
    "launch": _("%(name)s contains an action that starts other programs, which files sent to the care unit may not."),
    "embedded_file": _("%(name)s has other files embedded in it, which files sent to the care unit may not."),
    "encrypted": _("%(name)s is protected by a password. Save it without a password and attach it again."),
    "virus": _("%(name)s was stopped by the virus check and cannot be sent."),
}
SCANNER_UNAVAILABLE = _("The files could not be checked for viruses just now. Please try again in a few minutes.")


@dataclass(frozen=True)
class CheckedFile:
    name: str  # display text only
    content_type: str
    data: bytes  # what is stored: for images the re-encoded picture


def _root() -> Path:
    root = Path(settings.UPLOAD_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def served_name(attachment: Attachment) -> str:
    """The name a download gets: made by the server, with the extension of the type found."""
    made = timezone.localtime(attachment.created_at)
    return f"bilaga-{made:%Y%m%d}-{attachment.id.hex[:8]}{SUFFIX[attachment.content_type]}"


def _made_safe(data: bytes, content_type: str) -> bytes:
    if content_type == "application/pdf":
        check_pdf(data)
        cleaned = data
    else:
        cleaned = clean_image(data, content_type)
    if scanning_configured():
        verdict = scan_bytes(cleaned)
        if not verdict.clean:
            logger.warning("upload refused by the virus check: %s", verdict.signature)
            raise Refused("virus")
    return cleaned


def check_files(files: list[UploadedFile], *, already: int = 0) -> list[CheckedFile]:
    """Validate and clean every file; all or none."""
    errors: list[ValidationError] = []
    if already + len(files) > MAX_FILES:
        errors.append(ValidationError(_("You can attach at most %(max)d files.") % {"max": MAX_FILES}, code="too_many"))
    checked = []
    for upload in files:
        name = display_name(upload.name or "")
        if (upload.size or 0) > MAX_BYTES:
            errors.append(ValidationError(_("%(name)s is larger than 10 MB.") % {"name": name}, code="too_large"))
            continue
        upload.seek(0)
        data = upload.read(MAX_BYTES + 1)
        upload.seek(0)
        found = sniff(data[:16])
        if found is None or len(data) > MAX_BYTES:
            errors.append(
                ValidationError(_("%(name)s is not a PDF, JPEG or PNG file.") % {"name": name}, code="wrong_type")
            )
            continue
        try:
            cleaned = _made_safe(data, found[0])
        except Refused as refusal:
            errors.append(ValidationError(REFUSALS[refusal.code] % {"name": name}, code=refusal.code))
            continue
        except ScannerUnavailable as exc:
            logger.error("virus scanner unavailable: %s", exc)
            errors.append(ValidationError(SCANNER_UNAVAILABLE, code="scanner_unavailable"))
            continue
        checked.append(CheckedFile(name=name, content_type=found[0], data=cleaned))
    if errors:
        raise ValidationError(errors)
    return checked


@transaction.atomic
def attachments_store(*, files: list[UploadedFile], uploader: Patient, submission_key: str) -> list[Attachment]:
    already = Attachment.objects.filter(uploaded_by=uploader, submission_key=submission_key, case__isnull=True).count()
    return store_checked(check_files(files, already=already), uploader=uploader, submission_key=submission_key)


def store_checked(
    checked_files: list[CheckedFile],
    *,
    uploader: Patient,
    submission_key: str = "",
    case: Case | None = None,
    message: CaseMessage | None = None,
) -> list[Attachment]:
    """Write checked files to disk and their rows: waiting for a case (by submission key) or
    joined to a case and the answer they came with."""
    stored = []
    for checked in checked_files:
        stored_as = f"{uuid.uuid4().hex}{SUFFIX[checked.content_type]}"
        with (_root() / stored_as).open("xb") as handle:
            handle.write(checked.data)
        stored.append(
            Attachment.objects.create(
                case=case,
                message=message,
                uploaded_by=uploader,
                submission_key=submission_key or (f"message:{message.pk}" if message else ""),
                original_name=checked.name,
                content_type=checked.content_type,
                size=len(checked.data),
                sha256=hashlib.sha256(checked.data).hexdigest(),
                stored_as=stored_as,
                created_at=timezone.now(),
            )
        )
    return stored


def pending(*, uploader: Patient, submission_key: str) -> list[Attachment]:
    return list(Attachment.objects.filter(uploaded_by=uploader, submission_key=submission_key, case__isnull=True))


def attachments_remove_pending(*, uploader: Patient, submission_key: str, attachment_id: str) -> bool:
    """Take back a file attached to a case not yet sent (the "Ändra" step). Only the uploader's own
    pending file of this submission: anything else, or a second click, removes nothing."""
    try:
        found = Attachment.objects.filter(
            pk=attachment_id, uploaded_by=uploader, submission_key=submission_key, case__isnull=True
        ).first()
    except (ValueError, ValidationError):
        found = None
    if found is None:
        return False
    path_of(found).unlink(missing_ok=True)
    found.delete()
    return True


def attachments_attach(*, case: Case, uploader: Patient, submission_key: str) -> int:
    return Attachment.objects.filter(uploaded_by=uploader, submission_key=submission_key, case__isnull=True).update(
        case=case
    )


def path_of(attachment: Attachment) -> Path:
    return _root() / attachment.stored_as


def attachments_remove_abandoned(*, now: dt.datetime | None = None, scan_files: bool = False) -> int:
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
    for path in _root().iterdir():
        if path.is_file() and path.name not in known and path.stat().st_mtime < (now - PENDING_LIFETIME).timestamp():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
