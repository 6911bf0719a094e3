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
from django.utils import translation

STOCKHOLM = ZoneInfo("Europe/Stockholm")


# The holidays package names the days in these languages; Django's language picks one.
_HOLIDAY_LANGUAGES = {"sv": "sv", "en": "en_US"}


@functools.lru_cache(maxsize=64)
def _days_off(year: int, language: str = "sv") -> dict[dt.date, str]:
    found = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"), language=language)
    return dict(found)


def _holidays(year: int) -> frozenset[dt.date]:
    return frozenset(_days_off(year))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def is_day_off(day: dt.date) -> bool:
    """A public holiday or a de facto day off (midsommarafton, julafton, nyårsafton), any weekday.
    Sundays as such are not days off here: whether a unit works on Sundays is its schedule's affair."""
    return day in _holidays(day.year)


def day_off_name(day: dt.date) -> str:
    """The day off's name in the active language ("Juldagen", "Christmas Day"); "" for another day."""
    language = _HOLIDAY_LANGUAGES.get((translation.get_language() or "sv")[:2], "sv")
    return _days_off(day.year, language).get(day, "")


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
