from __future__ import annotations

from django.http import Http404

from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import Notification, PushSubscription


def unread_notifications(*, patient: Patient, limit: int = 50) -> list[Notification]:
    """The person's own notices not yet opened or dismissed, the newest ``limit`` of them, newest first."""
    unread = Notification.objects.filter(recipient=patient, read_at__isnull=True)
    return list(unread.order_by("-created_at", "-id")[:limit])


def notification_of(*, patient: Patient, notification_id: str) -> Notification:
    """One of the person's own notices; anyone else's is not found."""
    found = Notification.objects.filter(pk=notification_id, recipient=patient).first()
    if found is None:
        raise Http404
    return found


def push_devices(*, patient: Patient) -> list[PushSubscription]:
    """The person's own devices with push notices on (their own settings: nothing to log)."""
    return list(PushSubscription.objects.filter(patient=patient).order_by("created_at", "id"))
