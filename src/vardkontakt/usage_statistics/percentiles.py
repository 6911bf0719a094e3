"""Medians and 90th percentiles of handling times, in the database where it can.

Definition (the same on every engine): the continuous percentile with linear interpolation between
the closest ranks, as PostgreSQL's ``percentile_cont`` and Excel's PERCENTILE.INC compute it. For n
values sorted ascending x[0] … x[n-1], the p-th percentile lies at position h = (n - 1) · p and is
x[⌊h⌋] + (h - ⌊h⌋) · (x[⌈h⌉] - x[⌊h⌋]). So the median of an odd count is the middle value, of an
even count the mean of the two middle values; the 90th percentile of 1 … 10 is 9.1. No values, no
percentile (None), never zero.

PostgreSQL computes it in the aggregate query itself (``PercentileCont``); SQLite has no such
aggregate, so there the values are fetched and ``percentile_cont`` below applies the same formula.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Aggregate, DurationField
from django.db.models.expressions import Combinable

MEDIAN = 0.5
P90 = 0.9


def in_database() -> bool:
    return connection.vendor == "postgresql"


class PercentileCont(Aggregate):
    """``percentile_cont(p) WITHIN GROUP (ORDER BY expression)`` over an interval (PostgreSQL).
    NULLs are skipped, as by every aggregate; a FILTER clause narrows the rows further."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression: Combinable, fraction: float, **extra: Any) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("a percentile is between 0 and 1")
        # A float literal in the SQL: it never comes from input, and repr() keeps it exact.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile_cont(values: Sequence[dt.timedelta], fraction: float) -> dt.timedelta | None:
    """The same percentile as PercentileCont, in Python."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
