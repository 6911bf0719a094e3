"""Periods are Stockholm calendar dates, both included."""

from __future__ import annotations

import datetime as dt

from django.http import QueryDict

from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.usage_statistics.periods import Period, days_back, last_full_month, parse_period


def test_the_default_is_the_last_full_month():
    assert last_full_month(dt.date(2027, 1, 1)) == Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert last_full_month(dt.date(2027, 3, 31)) == Period(dt.date(2027, 2, 1), dt.date(2027, 2, 28))


def test_a_period_runs_from_local_midnight_to_local_midnight():
    october = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert october.start == dt.datetime(2026, 9, 30, 22, 0, tzinfo=dt.UTC)  # summer time
    assert october.end == dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC)  # winter time again
    assert (october.end - october.start) == dt.timedelta(days=31, hours=1)  # the autumn hour


def test_the_last_90_days_include_today():
    assert days_back(90, dt.date(2026, 12, 20)) == Period(dt.date(2026, 9, 22), dt.date(2026, 12, 20))


def test_parsing():
    _form, period = parse_period(QueryDict("from=2026-12-01&to=2026-12-31"))
    assert period == Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert period is not None and period.end == dt.datetime(2027, 1, 1, tzinfo=STOCKHOLM)
    _form, period = parse_period(QueryDict("from=2026-12-01&to=2026-11-30"))
    assert period is None
    _form, period = parse_period(QueryDict(""))
    assert period == last_full_month()
