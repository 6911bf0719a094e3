"""The public page of response times: each live unit's median time to first answer over the last
90 days, for anyone, without logging in (SPEC §11; not linked from anywhere, reachable by URL).

A unit with fewer than ``MIN_CASES`` answered cases in those days shows "too few cases" instead of
a number. Small numbers can identify people: with a handful of cases the median is one or two
particular cases' times, and someone who knows who wrote to a small clinic, and when, could read
from it how that person's case was handled. They are also too few to say anything about the unit.

The figures are counted over the whole region, so they are kept in the cache for a quarter of an
hour: a page open to everyone must not let anyone start a region-wide aggregate with each request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.utils import timezone

from vardkontakt.core.degraded import cache_quietly, cached
from vardkontakt.core.replica import reads_from_replica
from vardkontakt.organisation.models import CareUnit
from vardkontakt.usage_statistics.figures import ResponseTime, response_times
from vardkontakt.usage_statistics.periods import Period, days_back
from vardkontakt.usage_statistics.selectors import live_units

MIN_CASES = 10
DAYS = 90
CACHE_SECONDS = 15 * 60


@dataclass(frozen=True)
class PublicRow:
    unit: CareUnit
    median: dt.timedelta | None  # None: too few cases (or none) to show

    @property
    def too_few(self) -> bool:
        return self.median is None


@reads_from_replica
def public_response_times(today: dt.date | None = None) -> tuple[Period, list[PublicRow]]:
    period = days_back(DAYS, today or timezone.localdate())
    key = f"usage_statistics:public:{period.first_day.isoformat()}"
    found: dict[uuid.UUID, ResponseTime] | None = cached(key)
    if found is None:
        found = response_times(period)
        cache_quietly(key, found, CACHE_SECONDS)
    rows = []
    for unit in live_units():
        figure = found.get(unit.pk)
        enough = figure is not None and figure.answered >= MIN_CASES
        rows.append(PublicRow(unit, figure.median if enough and figure is not None else None))
    return period, rows
