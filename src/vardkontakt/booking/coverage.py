"""How much of a unit's schedule is open for online booking, per ISO week (SPEC §6.6).

The region's target is that 80 % of all outpatient slots are bookable online at least 8 weeks
ahead. A slot counts as open when a patient could book it on the web: its channel is online and
phone, it is not held back, and its visit type is published and in use — the same conditions the
resident's slot list applies (services.online_slots), so the figure and the web page never
disagree. Whether it is already booked does not matter: a booked online slot was open.

Weeks are ISO weeks in Europe/Stockholm, bounded at local midnight on Mondays, so the week with
the spring or autumn clock change is a week of 167 or 169 hours and a slot at 00:30 on a Monday
belongs to that Monday's week whatever its UTC date.

The figures for every unit come from one aggregate query (the statistics use them for a whole
region); the shares are exact fractions, shown rounded down so a unit at 79.6 % never reads 80 %.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from vardkontakt.booking.models import Channel, Slot
from vardkontakt.booking.schedule import local_instant
from vardkontakt.organisation.models import CareUnit

# The seed's target (ARCHITECTURE.md: configurable rules carry the seed's values as defaults).
TARGET = Fraction(80, 100)
WEEKS_AHEAD = 8

OPEN_ONLINE = Q(
    channel=Channel.ONLINE_AND_PHONE, held_back="", visit_type__bookable_online=True, visit_type__active=True
)


@dataclass(frozen=True)
class WeekCoverage:
    year: int  # ISO year
    week: int  # ISO week number
    starts_on: dt.date  # the Monday
    slots: int
    open_online: int

    @property
    def ends_on(self) -> dt.date:
        return self.starts_on + dt.timedelta(days=6)

    @property
    def share(self) -> Fraction | None:
        """None for a week without slots: nothing to measure is not 0 % (nor 100 %)."""
        return Fraction(self.open_online, self.slots) if self.slots else None

    @property
    def percent(self) -> int | None:
        """Whole per cent, rounded down."""
        return None if self.slots == 0 else self.open_online * 100 // self.slots

    @property
    def meets_target(self) -> bool:
        share = self.share
        return share is not None and share >= TARGET


def week_starts(today: dt.date, weeks: int = WEEKS_AHEAD) -> list[dt.date]:
    """The Mondays of the ISO week containing ``today`` and the ``weeks - 1`` after it."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday + dt.timedelta(weeks=n) for n in range(weeks)]


def coverage_by_unit(
    units: Iterable[CareUnit] | None = None, *, today: dt.date | None = None, weeks: int = WEEKS_AHEAD
) -> dict[uuid.UUID, list[WeekCoverage]]:
    """Per unit (all units with slots, or the ones given), its weeks from this one on."""
    mondays = week_starts(today or timezone.localdate(), weeks)
    bounds = [local_instant(monday, dt.time()) for monday in [*mondays, mondays[-1] + dt.timedelta(weeks=1)]]
    counts = {}
    for n in range(weeks):
        in_week = Q(starts_at__gte=bounds[n], starts_at__lt=bounds[n + 1])
        counts[f"slots_{n}"] = Count("pk", filter=in_week)
        counts[f"open_{n}"] = Count("pk", filter=in_week & OPEN_ONLINE)
    rows = Slot.objects.filter(starts_at__gte=bounds[0], starts_at__lt=bounds[-1])
    wanted: list[uuid.UUID] | None = None
    if units is not None:
        wanted = [unit.pk for unit in units]
        rows = rows.filter(unit_id__in=wanted)
    found: dict[uuid.UUID, dict[str, Any]] = {
        row["unit_id"]: dict(row) for row in rows.order_by().values("unit_id").annotate(**counts)
    }
    result = {}
    for unit_id in wanted if wanted is not None else sorted(found, key=str):
        row: dict[str, Any] = found.get(unit_id, {})
        result[unit_id] = [
            WeekCoverage(
                year=monday.isocalendar().year,
                week=monday.isocalendar().week,
                starts_on=monday,
                slots=row.get(f"slots_{n}", 0),
                open_online=row.get(f"open_{n}", 0),
            )
            for n, monday in enumerate(mondays)
        ]
    return result


def unit_coverage(unit: CareUnit, *, today: dt.date | None = None, weeks: int = WEEKS_AHEAD) -> list[WeekCoverage]:
    return coverage_by_unit([unit], today=today, weeks=weeks)[unit.pk]
