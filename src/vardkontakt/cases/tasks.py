from __future__ import annotations

import datetime as dt

from django.utils import timezone

from vardkontakt.cases.attachments import attachments_remove_abandoned
from vardkontakt.cases.models import OPEN_STATUSES, Case
from vardkontakt.core.calendar import STOCKHOLM, is_working_day
from vardkontakt.notifications.models import NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.organisation.models import CareUnit, Membership, MembershipRole

DIGEST_FROM_HOUR = 7
NEAR = dt.timedelta(hours=24)


def remove_abandoned_uploads() -> int:
    """Run on the worker heartbeat: files of cases that were never sent go after a day."""
    return attachments_remove_abandoned()


def deadline_digest(*, now: dt.datetime | None = None) -> int:
    """Once per working day from 07:00, tell each unit's administrators that cases are near or past
    their deadline (a content-free notice; the cases are read after logging in)."""
    now = now or timezone.now()
    local = now.astimezone(STOCKHOLM)
    if not is_working_day(local.date()) or local.hour < DIGEST_FROM_HOUR:
        return 0
    unit_ids = (
        Case.objects.filter(
            status__in=OPEN_STATUSES, first_answered_at__isnull=True, deadline_passes_at__lte=now + NEAR
        )
        .values_list("unit_id", flat=True)
        .distinct()
    )
    sent = 0
    for unit in CareUnit.objects.filter(pk__in=list(unit_ids)).prefetch_related("memberships__staff"):
        for membership in unit.memberships.all():
            if membership.role != MembershipRole.UNIT_ADMIN or not _in_force(membership, local.date()):
                continue
            notification_create(
                recipient=membership.staff,
                kind=NotificationKind.DEADLINE_DIGEST,
                cause=f"digest:{unit.id}:{local.date().isoformat()}",
            )
            sent += 1
    return sent


def _in_force(membership: Membership, today: dt.date) -> bool:
    return (membership.starts_on is None or membership.starts_on <= today) and (
        membership.ends_on is None or today <= membership.ends_on
    )
