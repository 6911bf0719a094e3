"""The unit's figures against hand-computed values (statistics/figures.py states the rules).

December 2026 at Vårdcentralen Lindängen, all times Stockholm time; the figures are read on
15 January 2027 at 12:00, when every December deadline has passed.

| case | received            | handled                                              | type    |
|------|---------------------|------------------------------------------------------|---------|
| A    | Tue 1 Dec 09:00     | answered 11:00 (2 h), closed 2 Dec 09:00 (24 h)       | advice  |
| B    | Wed 2 Dec 10:00     | answered Thu 14:00 (28 h), closed Fri 10:00 (48 h)    | advice  |
| C    | Fri 4 Dec 16:00     | answered Wed 9 Dec 16:00 (120 h): late (due Tue 8)    | advice  |
| D    | Wed 23 Dec 10:00    | answered Mon 28 Dec 15:00 (125 h): in time, Christmas | advice  |
|      |                     | eve and day are not working days (due Tue 29); closed |         |
|      |                     | Tue 29 Dec 10:00 (144 h)                              |         |
| E    | Thu 31 Dec 23:30    | answered Mon 4 Jan 09:00 (81.5 h), closed Tue 5 Jan   | advice  |
|      |                     | 12:00 (108.5 h): spans two periods, counts in December|         |
| F    | Fri 11 Dec 09:00    | withdrawn 10:00, before its deadline: left out        | contact |
| G    | Mon 14 Dec 09:00    | withdrawn Mon 21 Dec, after its deadline: missed      | contact |
| H    | Tue 15 Dec 09:00    | answered 12:00 (3 h), closed 16 Dec, reopened 17 Dec, | contact |
|      |                     | closed again Fri 18 Dec 09:00 (72 h)                  |         |
| I    | Wed 16 Dec 09:00    | answered 13:00 (4 h), closed 15:00, reopened 17 Dec:  | contact |
|      |                     | open now, no closing time                             |         |
| J    | Mon 28 Dec 09:00    | never answered, open: missed, overdue now             | contact |
| K    | Mon 30 Nov 23:59    | November (answered 1 Dec 08:00)                       | advice  |
| L    | Thu 14 Jan 10:00    | January, open and unanswered, not yet due             | advice  |

Hand-computed for December:
- received 10 (A-J): advice 5, contact me 5;
- status now: closed 5 (A, B, D, E, H), answered 1 (C), withdrawn 2 (F, G), being handled 1 (I),
  received 1 (J);
- time to first answer, 7 values 2, 3, 4, 28, 81.5, 120, 125 h: median 28 h (the middle one),
  90th percentile at position 6 × 0.9 = 5.4: 120 + 0.4 × (125 - 120) = 122 h;
- time to closing, 5 values 24, 48, 72, 108.5, 144 h: median 72 h, 90th percentile at position
  4 × 0.9 = 3.6: 108.5 + 0.6 × 35.5 = 129.8 h;
- in time 6 (A, B, D, E, H, I), missed 3 (C, G, J), F left out: share 6/9 = 66.6 % (rounded down);
- now: open 3 (I, J, L), of them unanswered 2 (J, L), overdue 1 (J).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
import time_machine

from tests.usage_statistics.conftest import at
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Case
from vardkontakt.usage_statistics.figures import (
    TOTAL,
    WITHDRAWN,
    handling_times,
    kind_and_status_counts,
    unanswered_now,
)
from vardkontakt.usage_statistics.periods import Period
from vardkontakt.usage_statistics.unit_page import unit_statistics

pytestmark = pytest.mark.django_db

DECEMBER = Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
JANUARY = Period(dt.date(2027, 1, 1), dt.date(2027, 1, 31))
NOVEMBER = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
NOW = at(2027, 1, 15, 12)


def hours(value: float) -> dt.timedelta:
    return dt.timedelta(hours=value)


@pytest.fixture
def december(desk, services) -> dict[str, Case]:
    advice, contact = services[ServiceKind.ADVICE], services[ServiceKind.CONTACT_ME]
    c: dict[str, Case] = {}
    c["A"] = desk.send(advice, at(2026, 12, 1, 9))
    desk.answer(c["A"], at(2026, 12, 1, 11))
    desk.close(c["A"], at(2026, 12, 2, 9))
    c["B"] = desk.send(advice, at(2026, 12, 2, 10))
    desk.answer(c["B"], at(2026, 12, 3, 14))
    desk.close(c["B"], at(2026, 12, 4, 10))
    c["C"] = desk.send(advice, at(2026, 12, 4, 16))
    desk.answer(c["C"], at(2026, 12, 9, 16))
    c["D"] = desk.send(advice, at(2026, 12, 23, 10))
    desk.answer(c["D"], at(2026, 12, 28, 15))
    desk.close(c["D"], at(2026, 12, 29, 10))
    c["E"] = desk.send(advice, at(2026, 12, 31, 23, 30))
    desk.answer(c["E"], at(2027, 1, 4, 9))
    desk.close(c["E"], at(2027, 1, 5, 12))
    c["F"] = desk.send(contact, at(2026, 12, 11, 9))
    desk.withdraw(c["F"], at(2026, 12, 11, 10))
    c["G"] = desk.send(contact, at(2026, 12, 14, 9))
    desk.withdraw(c["G"], at(2026, 12, 21, 9))
    c["H"] = desk.send(contact, at(2026, 12, 15, 9))
    desk.answer(c["H"], at(2026, 12, 15, 12))
    desk.close(c["H"], at(2026, 12, 16, 9))
    desk.reopen(c["H"], at(2026, 12, 17, 9))
    desk.close(c["H"], at(2026, 12, 18, 9))
    c["I"] = desk.send(contact, at(2026, 12, 16, 9))
    desk.answer(c["I"], at(2026, 12, 16, 13))
    desk.close(c["I"], at(2026, 12, 16, 15))
    desk.reopen(c["I"], at(2026, 12, 17, 9))
    c["J"] = desk.send(contact, at(2026, 12, 28, 9))
    c["K"] = desk.send(advice, at(2026, 11, 30, 23, 59))
    desk.answer(c["K"], at(2026, 12, 1, 8))
    c["L"] = desk.send(advice, at(2027, 1, 14, 10))
    return {key: Case.objects.get(pk=case.pk) for key, case in c.items()}


def of_unit(unit_x):
    return [unit_x.pk]


def test_the_fixture_is_what_the_table_says(december):
    # The real calendar: Christmas eve and day are not working days, nor is New Year's day.
    assert december["D"].deadline_last_day == dt.date(2026, 12, 29)
    assert december["E"].deadline_last_day == dt.date(2027, 1, 5)
    assert december["C"].deadline_last_day == dt.date(2026, 12, 8)
    assert (december["H"].status, december["I"].status) == ("closed", "in_progress")
    assert december["I"].closed_at is None
    assert (december["F"].status, december["F"].outcome) == ("closed", "withdrawn")


def test_cases_per_type_and_status(december, unit_x):
    counts = kind_and_status_counts(of_unit(unit_x), DECEMBER, None)[TOTAL]
    assert counts.received == 10
    assert counts.by_kind[ServiceKind.ADVICE] == 5
    assert counts.by_kind[ServiceKind.CONTACT_ME] == 5
    assert sum(counts.by_kind.values()) == 10
    assert counts.by_status == {
        "received": 1,
        "in_progress": 1,
        "answered": 1,
        "waiting_for_patient": 0,
        "will_call": 0,
        "closed": 5,
        WITHDRAWN: 2,
    }


def test_handling_times(december, unit_x):
    found = handling_times(of_unit(unit_x), DECEMBER, NOW, None)[TOTAL]
    assert (found.received, found.answered, found.closed) == (10, 7, 5)
    assert found.answer_median == hours(28)
    assert found.answer_p90 == hours(122)
    assert found.close_median == hours(72)
    assert found.close_p90 == hours(129.8)


def test_answered_in_time_follows_the_calendar_and_the_withdrawals(december, unit_x):
    found = handling_times(of_unit(unit_x), DECEMBER, NOW, None)[TOTAL]
    assert (found.in_time, found.missed, found.decided) == (6, 3, 9)
    assert found.share_in_time == Fraction(2, 3)


def test_unanswered_now(december, unit_x):
    found = unanswered_now(of_unit(unit_x), NOW, None)[TOTAL]
    assert (found.open, found.unanswered, found.overdue) == (3, 2, 1)


def test_a_case_spanning_two_periods_counts_only_in_the_one_it_arrived_in(december, unit_x):
    january = handling_times(of_unit(unit_x), JANUARY, NOW, None)[TOTAL]
    assert (january.received, january.answered, january.closed) == (1, 0, 0)  # only L, not E
    assert january.answer_median is None
    november = handling_times(of_unit(unit_x), NOVEMBER, NOW, None)[TOTAL]
    assert (november.received, november.answered) == (1, 1)
    assert november.answer_median == dt.timedelta(hours=8, minutes=1)  # K, answered on 1 December


def test_a_case_not_yet_due_is_not_counted_either_way(december, unit_x):
    # L: received 14 January, due at the end of Monday 18 January.
    before = handling_times(of_unit(unit_x), JANUARY, NOW, None)[TOTAL]
    assert (before.in_time, before.missed) == (0, 0)
    after = handling_times(of_unit(unit_x), JANUARY, at(2027, 1, 19, 0, 1), None)[TOTAL]
    assert (after.in_time, after.missed) == (0, 1)


def test_reopened_case_counts_once_and_its_closing_time_runs_to_the_last_closing(desk, services, unit_x):
    case = desk.send(services[ServiceKind.ADVICE], at(2026, 12, 1, 9))
    desk.answer(case, at(2026, 12, 1, 10))
    desk.close(case, at(2026, 12, 1, 11))
    desk.reopen(case, at(2026, 12, 2, 9))
    desk.close(case, at(2026, 12, 3, 9))
    found = handling_times(of_unit(unit_x), DECEMBER, NOW, None)[TOTAL]
    assert (found.received, found.closed, found.close_median) == (1, 1, hours(48))
    assert kind_and_status_counts(of_unit(unit_x), DECEMBER, None)[TOTAL].by_status["closed"] == 1


def test_medians_and_percentiles_of_an_even_count(desk, services, unit_x):
    for n, answer_after in enumerate([1, 2, 4, 10]):
        case = desk.send(services[ServiceKind.ADVICE], at(2026, 12, 1 + n, 8))
        desk.answer(case, at(2026, 12, 1 + n, 8 + answer_after))
    found = handling_times(of_unit(unit_x), DECEMBER, NOW, None)[TOTAL]
    assert found.answer_median == hours(3)  # (2 + 4) / 2
    assert found.answer_p90 == hours(8.2)  # position 2.7: 4 + 0.7 × 6


def test_a_single_value_is_its_own_median_and_percentile(desk, services, unit_x):
    case = desk.send(services[ServiceKind.ADVICE], at(2026, 12, 1, 8))
    desk.answer(case, at(2026, 12, 1, 9, 30))
    found = handling_times(of_unit(unit_x), DECEMBER, NOW, None)[TOTAL]
    assert found.answer_median == found.answer_p90 == hours(1.5)


def test_an_empty_period(unit_x):
    found = handling_times(of_unit(unit_x), DECEMBER, NOW, None)[TOTAL]
    assert (found.received, found.answered, found.closed, found.in_time, found.missed) == (0, 0, 0, 0, 0)
    assert found.answer_median is found.answer_p90 is found.close_median is found.close_p90 is None
    assert found.share_in_time is None
    assert TOTAL not in kind_and_status_counts(of_unit(unit_x), DECEMBER, None)
    with time_machine.travel(NOW, tick=False):
        page = unit_statistics(unit_x, DECEMBER)
    table = page.table("handling-times")
    assert table is not None
    assert [row[1:] for row in table.rows] == [["0", "–", "–"], ["0", "–", "–"]]


def test_midsummer_eve_is_not_a_working_day(desk, services, unit_x):
    # Thursday 18 June 2026, the day before midsommarafton: due Tuesday 23 June.
    case = desk.send(services[ServiceKind.ADVICE], at(2026, 6, 18, 12))
    assert case.deadline_last_day == dt.date(2026, 6, 23)
    desk.answer(case, at(2026, 6, 23, 15))
    june = Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    found = handling_times(of_unit(unit_x), june, NOW, None)[TOTAL]
    assert (found.in_time, found.missed) == (1, 0)


def test_other_units_cases_are_not_counted(december, unit_x):
    from vardkontakt.organisation.models import CareUnit

    other = CareUnit.objects.get(name="Vårdcentralen Kärnan")
    assert handling_times([other.pk], DECEMBER, NOW, None)[TOTAL].received == 0


def test_the_page_tables_carry_the_figures(december, unit_x):
    with time_machine.travel(NOW, tick=False):
        page = unit_statistics(unit_x, DECEMBER)
    assert [f.key for f in page.figures] == [
        "case-types",
        "handling-times",
        "answered-in-time",
        "unanswered",
        "statuses",
        "bookings",
        "online-bookable",
        "video-evaluations",
    ]
    handling = page.table("handling-times")
    in_time = page.table("answered-in-time")
    unanswered = page.table("unanswered")
    assert handling is not None and in_time is not None and unanswered is not None
    # The interface speaks Swedish by default: a decimal comma.
    assert [row[1:] for row in handling.rows] == [["7", "28,0", "122,0"], ["5", "72,0", "129,8"]]
    assert in_time.rows == [["9", "6", "3", "66,6"]]
    assert [row[1] for row in unanswered.rows] == ["3", "2", "1"]


def test_a_case_closed_without_an_answer_is_not_answered_in_time(desk, services, unit_x):
    case = desk.send(services[ServiceKind.ADVICE], at(2026, 12, 1, 9))  # due at the end of 3 December
    desk.close(case, at(2026, 12, 1, 10), outcome="booked")
    before = handling_times(of_unit(unit_x), DECEMBER, at(2026, 12, 3, 12), None)[TOTAL]
    assert (before.answered, before.closed, before.in_time, before.missed) == (0, 1, 0, 0)
    assert before.close_median == hours(1)
    after = handling_times(of_unit(unit_x), DECEMBER, NOW, None)[TOTAL]
    assert (after.in_time, after.missed) == (0, 1)
