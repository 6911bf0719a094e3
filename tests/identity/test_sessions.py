"""Session limits: 30 minutes idle, 12 hours absolute (both configurable)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from tests.helpers import login_as
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)  # the night clocks go forward in Sweden


def logged_in(client: Client, user: User) -> None:
    login_as(client, user)  # under time_machine, so the login happened at the frozen time


@pytest.fixture
def tolvan_user(personas) -> User:
    return User.objects.get_or_create_for_patient(personas.tolvan)


def test_activity_within_the_idle_limit_keeps_the_session(client, tolvan_user):
    with time_machine.travel(START, tick=False) as traveller:
        logged_in(client, tolvan_user)
        for _ in range(5):  # 5 × 25 minutes of steady use: 2 h 5 min, across the DST change
            traveller.shift(dt.timedelta(minutes=25))
            assert client.get("/patient/").status_code == 200


def test_thirty_one_idle_minutes_end_the_session(client, tolvan_user):
    with time_machine.travel(START, tick=False) as traveller:
        logged_in(client, tolvan_user)
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get("/patient/")
        assert response.status_code == 302
        assert response["Location"] == "/"
        # The session is gone on the server too: going back does not revive it.
        assert client.get("/patient/").status_code == 302


def test_twelve_hours_end_the_session_however_active(client, tolvan_user):
    with time_machine.travel(START, tick=False) as traveller:
        logged_in(client, tolvan_user)
        answers = []
        for _ in range(12 * 4 + 1):  # a request every 15 minutes for 12 h 15 min
            traveller.shift(dt.timedelta(minutes=15))
            answers.append(client.get("/patient/").status_code)
        # Never idle, yet the 49th request (12 h 15 min after login) finds the session ended.
        assert answers[:48] == [200] * 48
        assert answers[48] == 302


def test_the_limits_are_configurable(client, tolvan_user, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    with time_machine.travel(START, tick=False) as traveller:
        logged_in(client, tolvan_user)
        traveller.shift(dt.timedelta(minutes=6))
        assert client.get("/patient/").status_code == 302


def test_an_htmx_request_after_timeout_is_told_where_to_go(client, tolvan_user):
    with time_machine.travel(START, tick=False) as traveller:
        logged_in(client, tolvan_user)
        traveller.shift(dt.timedelta(minutes=45))
        response = client.get("/patient/", headers={"HX-Request": "true"})
        assert response.status_code == 204
        assert response["HX-Redirect"] == "/"
