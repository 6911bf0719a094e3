"""How many cases wait in the inboxes of a staff member's units: the staff home and the header's
inbox link. Figures only (they name no patient), so nothing is logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from vardkontakt.cases.models import OPEN_STATUSES
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import CareUnit


@dataclass(frozen=True)
class InboxCounts:
    unit: CareUnit
    unassigned: int  # open and nobody's yet
    overdue: int  # open, unanswered and past the unit's promised answer time


def inbox_counts_for_staff(*, staff: Staff) -> list[InboxCounts]:
    """Per unit the staff member works in (the units whose inbox they may work), in one query."""
    now = timezone.now()
    open_cases = Q(cases__status__in=OPEN_STATUSES)
    units = (
        CareUnit.objects.filter(memberships__staff=staff)
        .annotate(
            unassigned=Count("cases", filter=open_cases & Q(cases__assigned_to__isnull=True)),
            overdue=Count(
                "cases",
                filter=open_cases & Q(cases__first_answered_at__isnull=True, cases__deadline_passes_at__lte=now),
            ),
        )
        .order_by("name")
    )
    return [InboxCounts(unit, unit.unassigned, unit.overdue) for unit in units]


def inbox_link(request: HttpRequest) -> dict[str, Any]:
    """The header's inbox link for staff: to the unit's inbox when they work in one unit, else to their
    start page, which lists each unit's figures."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_staff_member", False):
        return {}
    counts = inbox_counts_for_staff(staff=user.staff)
    if not counts:
        return {}
    if len(counts) == 1:
        url = reverse("cases_staff:inbox", args=[counts[0].unit.id])
    else:
        url = reverse("home:staff_home") + "#inboxes"
    return {
        "staff_inbox": {
            "url": url,
            "unassigned": sum(count.unassigned for count in counts),
            "overdue": sum(count.overdue for count in counts),
        }
    }
