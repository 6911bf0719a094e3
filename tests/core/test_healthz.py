from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from vardkontakt.core.models import Heartbeat
from vardkontakt.core.tasks import schedule_heartbeat, worker_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


def test_without_a_worker_heartbeat_it_answers_503(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    assert body["checks"]["worker"] == "no recent heartbeat"


def test_after_the_worker_ran_the_heartbeat_it_answers_200(client):
    schedule_heartbeat()
    call_command("db_worker", batch=True, queue_name="*", interval=0, reload=False, startup_delay=False)
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker_heartbeat_age_seconds"] < 60
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_heartbeat_schedules_exactly_one_successor(client):
    from django_tasks_db.models import DBTaskResult

    schedule_heartbeat()
    schedule_heartbeat()  # a second worker start must not fork the chain
    assert DBTaskResult.objects.filter(task_path=worker_heartbeat.module_path, status="READY").count() == 1


def test_a_stale_heartbeat_answers_503(client, settings):
    start = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        Heartbeat.objects.create(name="worker", beat_at=start)
        assert client.get("/healthz").status_code == 200
        traveller.shift(dt.timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS + 1))
        assert client.get("/healthz").status_code == 503


def test_it_is_public_and_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
