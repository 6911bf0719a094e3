"""Answer deadlines over Swedish working days (target: two working days, SPEC §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vardkontakt.core.calendar import STOCKHOLM, add_working_days, answer_deadline, is_working_day


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("received", "last_day"),
    [
        (at(2026, 11, 24), dt.date(2026, 11, 26)),  # Tuesday → Thursday
        (at(2026, 11, 27), dt.date(2026, 12, 1)),  # Friday → Tuesday
        (at(2026, 11, 28), dt.date(2026, 12, 1)),  # Saturday → Tuesday
        (at(2026, 11, 29), dt.date(2026, 12, 1)),  # Sunday → Tuesday
        (at(2026, 4, 2), dt.date(2026, 4, 8)),  # Maundy Thursday: Good Friday, Easter Monday off
        (at(2026, 6, 18), dt.date(2026, 6, 23)),  # the day before midsommarafton
        (at(2026, 12, 23), dt.date(2026, 12, 29)),  # julafton and juldagen off
        (at(2026, 12, 30), dt.date(2027, 1, 5)),  # nyårsafton, nyårsdagen and a weekend off, across the year
        (at(2027, 1, 5), dt.date(2027, 1, 8)),  # trettondedag jul (Wednesday) off
    ],
)
def test_two_working_days_after_the_day_of_receipt(received, last_day):
    assert answer_deadline(received, 2).last_day == last_day


def test_one_minute_before_and_after_midnight():
    assert answer_deadline(at(2026, 11, 23, 23, 59), 2).last_day == dt.date(2026, 11, 25)
    assert answer_deadline(at(2026, 11, 24, 0, 1), 2).last_day == dt.date(2026, 11, 26)


def test_the_day_of_receipt_is_swedish_local_not_utc():
    # 23:30 UTC on Monday is 00:30 on Tuesday in Stockholm (winter time).
    received = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)
    assert answer_deadline(received, 2).last_day == dt.date(2026, 11, 26)


def test_the_deadline_passes_at_local_midnight_across_the_spring_dst_change():
    # Received Thursday 26 March 2026; last day Monday 30 March, after clocks went forward on the 29th.
    deadline = answer_deadline(at(2026, 3, 26), 2)
    assert deadline.last_day == dt.date(2026, 3, 30)
    assert deadline.passes_at == dt.datetime(2026, 3, 30, 22, 0, tzinfo=dt.UTC)  # 00:00 CEST


def test_the_deadline_passes_at_local_midnight_across_the_autumn_dst_change():
    deadline = answer_deadline(at(2026, 10, 22), 2)
    assert deadline.last_day == dt.date(2026, 10, 26)
    assert deadline.passes_at == dt.datetime(2026, 10, 26, 23, 0, tzinfo=dt.UTC)  # 00:00 CET


def test_arrival_in_the_repeated_hour_of_the_autumn_night():
    first = dt.datetime(2026, 10, 25, 2, 30, tzinfo=STOCKHOLM, fold=0)
    second = dt.datetime(2026, 10, 25, 2, 30, tzinfo=STOCKHOLM, fold=1)
    assert answer_deadline(first, 2).last_day == answer_deadline(second, 2).last_day == dt.date(2026, 10, 27)


def test_the_target_is_configurable():
    assert answer_deadline(at(2026, 11, 24), 1).last_day == dt.date(2026, 11, 25)
    assert answer_deadline(at(2026, 11, 24), 5).last_day == dt.date(2026, 12, 1)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        answer_deadline(dt.datetime(2026, 11, 24, 12), 2)
    with pytest.raises(ValueError):
        add_working_days(dt.date(2026, 11, 24), 0)


@pytest.mark.parametrize(
    "day",
    [dt.date(2026, 6, 19), dt.date(2026, 12, 24), dt.date(2026, 12, 31), dt.date(2026, 5, 1), dt.date(2026, 11, 28)],
)
def test_days_off(day):
    assert not is_working_day(day)


@given(
    st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(STOCKHOLM))
)
def test_the_last_day_is_a_working_day_and_never_too_early(received):
    deadline = answer_deadline(received, 2)
    assert is_working_day(deadline.last_day)
    assert deadline.last_day >= received.date() + dt.timedelta(days=2)
    assert deadline.passes_at > received
