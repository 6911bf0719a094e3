"""How many cases wait in the inboxes of a staff member's units: the staff home and the header's
inbox link. Figures only (they name no patient), so nothing is logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import IntegerField, OuterRef, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from vardkontakt.cases.models import OPEN_STATUSES, Case
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import CareUnit

# The inbox's figures are counted up to here; past it they show as "999+". A unit with 100,000 open
# cases would otherwise count them all on every staff page (the header shows them), and the exact
# size of a queue that long tells its staff nothing the statistics page does not (bench/inbox.py).
COUNT_LIMIT = 999


class CappedCount(Subquery):
    """How many rows the subquery has, reading no more than its LIMIT (COUNT_LIMIT + 1)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


def capped(rows: Any) -> CappedCount:
    return CappedCount(rows.order_by().values("pk")[: COUNT_LIMIT + 1])


def shown_count(count: int) -> str:
    """A figure as the pages show it: the number, or "999+" past the limit."""
    return f"{COUNT_LIMIT}+" if count > COUNT_LIMIT else str(count)


@dataclass(frozen=True)
class InboxCounts:
    unit: CareUnit
    unassigned: int  # open and nobody's yet (up to COUNT_LIMIT + 1)
    overdue: int  # open, unanswered and past the unit's promised answer time (up to COUNT_LIMIT + 1)

    @property
    def unassigned_shown(self) -> str:
        return shown_count(self.unassigned)

    @property
    def overdue_shown(self) -> str:
        return shown_count(self.overdue)


def inbox_counts_for_staff(*, staff: Staff) -> list[InboxCounts]:
    """Per unit the staff member works in (the units whose inbox they may work), in one query."""
    now = timezone.now()
    open_cases = Case.objects.filter(unit=OuterRef("pk"), status__in=OPEN_STATUSES)
    units = (
        CareUnit.objects.filter(memberships__staff=staff)
        .annotate(
            unassigned=capped(open_cases.filter(assigned_to__isnull=True)),
            overdue=capped(open_cases.filter(first_answered_at__isnull=True, deadline_passes_at__lte=now)),
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
    unassigned = sum(count.unassigned for count in counts)
    overdue = sum(count.overdue for count in counts)
    return {
        "staff_inbox": {
            "url": url,
            "unassigned": unassigned,
            "overdue": overdue,
            # A unit past the limit makes the sum pass it too: "999+", as that unit's own figure shows.
            "unassigned_shown": shown_count(unassigned),
            "overdue_shown": shown_count(overdue),
        }
    }
