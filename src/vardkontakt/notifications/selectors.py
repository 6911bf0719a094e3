from __future__ import annotations

from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import Notification


def recent_notifications(*, patient: Patient, limit: int = 5) -> list[Notification]:
    """The person's own latest notices (never someone else's, also when acting for them)."""
    return list(Notification.objects.filter(recipient=patient).order_by("-created_at")[:limit])
