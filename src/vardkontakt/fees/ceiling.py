"""The arithmetic of the high-cost protection, free of the database (so hypothesis can run it fast).

Sources and the exact rules: docs/fees.md.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ADULT_AGE = 18  # children under 18 of the same guardians share one ceiling


def money(value: Decimal | int | str) -> Decimal:
    """Kronor with öre; refuses floats, whose binary fractions are not money."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def anniversary(start: dt.date) -> dt.date:
    """The same day a year later; a 29 February start has its anniversary on 1 March."""
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return dt.date(start.year + 1, 3, 1)


def period_end(start: dt.date) -> dt.date:
    """The last day of the 12-month period that starts on ``start``: the day before its anniversary
    (first visit 25 April → last day 24 April the next year)."""
    return anniversary(start) - dt.timedelta(days=1)


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_exempt(*, born: dt.date, day: dt.date, free_under: int, free_from: int) -> bool:
    age = age_on(born, day)
    return (free_under > 0 and age < free_under) or (free_from > 0 and age >= free_from)


def charge(*, before: Decimal, counts: bool, used: Decimal, ceiling: Decimal) -> Decimal:
    """What is charged of a fee of ``before`` when ``used`` of ``ceiling`` has counted so far.

    A fee that does not count is charged in full, frikort or not. One that counts is charged up to
    what remains: "beloppsgränsen ska tillämpas exakt", so the fee that reaches the ceiling is
    reduced to exactly the rest, and after it nothing more is charged in the period.
    """
    if not counts:
        return before
    return min(before, max(ceiling - used, ZERO))
