"""The daily digest to a unit's administrators when cases near or pass their deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from vardkontakt.cases.services import case_reply
from vardkontakt.cases.tasks import deadline_digest
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.notifications.models import Notification

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def test_the_units_head_gets_one_digest_a_day(tolvans_case, personas):
    morning = tolvans_case.deadline_passes_at - dt.timedelta(hours=10)
    morning = morning.astimezone(STOCKHOLM).replace(hour=8)
    assert deadline_digest(now=morning) == 1
    assert deadline_digest(now=morning + dt.timedelta(hours=3)) == 1  # the same notice: stored once
    notices = Notification.objects.filter(recipient_staff=personas.unit_admin, kind="deadline_digest")
    assert notices.count() == 1
    assert not Notification.objects.filter(recipient_staff=personas.staff_x, kind="deadline_digest").exists()


def test_no_digest_before_seven_or_on_a_day_off(tolvans_case):
    assert deadline_digest(now=at(2026, 11, 24, 6, 59)) == 0
    assert deadline_digest(now=at(2026, 12, 24, 9, 0)) == 0  # julafton
    assert deadline_digest(now=at(2026, 11, 28, 9, 0)) == 0  # a Saturday


def test_answered_cases_need_no_digest(tolvans_case, personas):
    last_day_morning = dt.datetime.combine(tolvans_case.deadline_last_day, dt.time(9), tzinfo=STOCKHOLM)
    assert deadline_digest(now=last_day_morning) == 1  # a working day, the case near its deadline
    Notification.objects.filter(kind="deadline_digest").delete()
    case_reply(case=tolvans_case, by=personas.staff_x, body="Svar", version=1)
    assert deadline_digest(now=last_day_morning) == 0
