from __future__ import annotations

from django.utils import timezone

from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import Notification, NotificationKind


def notification_create(*, recipient: Patient, kind: NotificationKind, cause: str) -> Notification:
    """Queue a notice for ``recipient``; the same (kind, cause) for the same person is stored once."""
    notification, _ = Notification.objects.get_or_create(
        recipient=recipient, kind=kind, cause=cause, defaults={"created_at": timezone.now()}
    )
    return notification
