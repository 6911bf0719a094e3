"""Swedish working days and answer deadlines, computed in Europe/Stockholm.

Working days are Monday to Friday except public holidays and the de facto holidays that
workplaces treat as such (midsommarafton, julafton, nyårsafton), from the `holidays` package.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@functools.lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[dt.date]:
    found = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    return frozenset(found.keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    current = day
    remaining = count
    while remaining:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


@dataclass(frozen=True)
class Deadline:
    """The last day to answer (shown to people) and the instant it passes (for 'overdue')."""

    last_day: dt.date
    passes_at: dt.datetime  # 00:00 Stockholm time the day after the last day, aware


def answer_deadline(received_at: dt.datetime, working_days: int) -> Deadline:
    """The end of the N-th Swedish working day after the day of receipt, in Stockholm time."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    received_day = received_at.astimezone(STOCKHOLM).date()
    last_day = add_working_days(received_day, working_days)
    passes_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=STOCKHOLM)
    return Deadline(last_day=last_day, passes_at=passes_at)
