"""The suite's own clock shift (`--clock-shift`) and the comparison of two runs."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.clock_shift import destination_for
from tests.same_outcomes import differences, outcomes

NOON = dt.time(12, 0, tzinfo=dt.UTC)


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), NOON)


@pytest.mark.parametrize(
    ("spec", "now", "expected"),
    [
        ("400d", "2026-12-06", "2028-01-10"),
        ("400d,feb29", "2026-12-06", "2028-02-29"),  # 2028-01-10 is 400 days on; the next 29 February
        ("400d,feb29", "2027-03-01", "2032-02-29"),  # 400 days on is April 2028, past that year's leap day
        ("400d,feb29", "2026-01-25", "2028-02-29"),  # 400 days on is 2027-03-01; 2027 has no 29 February
        ("0d", "2026-12-06", "2026-12-06"),
        ("2031-12-31", "2026-12-06", "2031-12-31"),
    ],
)
def test_the_shift_lands_on_the_day_asked_for_at_the_same_time_of_day(spec, now, expected):
    assert destination_for(spec, at(now)) == at(expected)


@pytest.mark.parametrize("spec", ["400", "d", "-3d", "400d,feb30", "tomorrow", "2027-02-29"])
def test_a_shift_that_cannot_be_read_stops_the_run_with_a_clear_message(spec):
    with pytest.raises(pytest.UsageError, match="--clock-shift"):
        destination_for(spec, at("2026-12-06"))


def test_the_shifted_run_differs_when_a_test_ends_otherwise_or_goes_missing(tmp_path):
    report = tmp_path / "shifted.xml"
    report.write_text(
        '<?xml version="1.0"?><testsuites><testsuite>'
        '<testcase classname="tests.a" name="test_ok"/>'
        '<testcase classname="tests.a" name="test_dates"><failure message="x"/></testcase>'
        '<testcase classname="tests.a" name="test_pg"><skipped message="PostgreSQL"/></testcase>'
        "</testsuite></testsuites>"
    )
    shifted = outcomes(report)
    assert shifted == {"tests.a::test_ok": "passed", "tests.a::test_dates": "failed", "tests.a::test_pg": "skipped"}
    today = {
        "tests.a::test_ok": "passed",
        "tests.a::test_dates": "passed",
        "tests.a::test_pg": "skipped",
        "tests.a::test_gone": "passed",
        "tests.browser.test_page::test_click": "passed",
    }
    assert differences(today, shifted, ("tests.browser.",)) == [
        "tests.a::test_dates: passed today, failed with the clock moved",
        "tests.a::test_gone: passed today, not run with the clock moved",
    ]
    assert differences(today, {**today, "tests.a::test_pg": "skipped"}, ()) == []
