"""Login records are kept LOGIN_RECORD_RETENTION_DAYS (VK_LOGIN_RECORD_RETENTION_DAYS, default 365,
at least 30): the worker removes older ones, everybody's alike, in bounded batches; support then no
longer sees them."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import import_string

from tests.operations.conftest import client_of
from vardkontakt.core.tasks import schedule_heartbeat
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.operations.models import LoginOutcome, LoginRecord, LoginSide
from vardkontakt.operations.tasks import login_records_cutoff, remove_old_login_records

LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
JOB = "vardkontakt.operations.tasks.remove_old_login_records"


def record(person: Patient | Staff, at: dt.datetime, *, refused: bool = False) -> LoginRecord:
    who = {"patient": person} if isinstance(person, Patient) else {"staff": person}
    return LoginRecord.objects.create(
        **who,
        at=at,
        side=LoginSide.EID if isinstance(person, Patient) else LoginSide.SITHS,
        acr=LOA2 if refused else LOA3,
        outcome=LoginOutcome.REFUSED if refused else LoginOutcome.SUCCEEDED,
        reason="acr" if refused else "",
    )


def left() -> set[str]:
    return set(LoginRecord.objects.values_list("acr", flat=True))


# --- the setting --------------------------------------------------------------------------------------

PROBE = "import django; django.setup(); from django.conf import settings as s; print(s.LOGIN_RECORD_RETENTION_DAYS)"


def settings_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VK_"))}
    clean["DJANGO_SETTINGS_MODULE"] = "vardkontakt.settings"
    clean["VK_DEMO"] = "true"  # production (the default) would first ask for its secrets
    return subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_a_year_by_default_a_region_may_choose_its_own_but_not_under_30_days():
    assert settings_with({}).stdout.split() == ["365"]
    assert settings_with({"VK_LOGIN_RECORD_RETENTION_DAYS": "90"}).stdout.split() == ["90"]
    assert settings_with({"VK_LOGIN_RECORD_RETENTION_DAYS": "30"}).stdout.split() == ["30"]
    for bad in ("29", "0", "a year"):
        refused = settings_with({"VK_LOGIN_RECORD_RETENTION_DAYS": bad})
        assert refused.returncode != 0 and "VK_LOGIN_RECORD_RETENTION_DAYS" in refused.stderr


def test_the_job_runs_on_the_worker_heartbeat():
    assert JOB in django_settings.PERIODIC_JOBS
    assert import_string(JOB) is remove_old_login_records


# --- what goes and what stays ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("days", [365, 30])
def test_records_before_the_cutoff_go_and_ones_at_or_after_it_stay(personas, settings, days):
    settings.LOGIN_RECORD_RETENTION_DAYS = days
    cutoff = NOW - dt.timedelta(days=days)
    assert login_records_cutoff(NOW) == cutoff
    tolvan = personas.tolvan
    for at, label in [
        (cutoff - dt.timedelta(days=400), "long ago"),
        (cutoff - dt.timedelta(seconds=1), "a second too old"),
        (cutoff - dt.timedelta(microseconds=1), "a microsecond too old"),
        (cutoff, "at the cutoff"),
        (cutoff + dt.timedelta(microseconds=1), "a microsecond inside"),
        (cutoff + dt.timedelta(days=1), "a day inside"),
        (NOW, "now"),
    ]:
        LoginRecord.objects.create(patient=tolvan, at=at, side=LoginSide.EID, acr=label, outcome=LoginOutcome.SUCCEEDED)
    assert remove_old_login_records(now=NOW) == 3
    assert left() == {"at the cutoff", "a microsecond inside", "a day inside", "now"}
    assert remove_old_login_records(now=NOW) == 0  # a second run finds nothing more


@pytest.mark.django_db
def test_everybodys_records_on_both_sides_and_refusals_are_handled_alike(personas, settings):
    old = NOW - dt.timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS, hours=1)
    recent = NOW - dt.timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS - 1)
    people: list[Patient | Staff] = [personas.tolvan, personas.other_patient, personas.nurse, personas.support]
    for person in people:
        for refused in (False, True):
            record(person, old, refused=refused)
            record(person, recent, refused=refused)
    assert remove_old_login_records(now=NOW) == 8
    assert LoginRecord.objects.count() == 8
    assert set(LoginRecord.objects.values_list("at", flat=True)) == {recent}
    for person in people:
        mine = LoginRecord.objects.filter(**({"patient": person} if isinstance(person, Patient) else {"staff": person}))
        assert sorted(mine.values_list("outcome", flat=True)) == ["refused", "succeeded"]


@pytest.mark.django_db
def test_it_deletes_in_bounded_batches_and_leaves_a_backlog_to_the_next_run(personas, settings, caplog):
    old = NOW - dt.timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS + 10)
    for minutes in range(7):
        record(personas.tolvan, old + dt.timedelta(minutes=minutes))
    keep = record(personas.tolvan, NOW)

    with CaptureQueriesContext(connection) as queries, caplog.at_level(logging.INFO, "vardkontakt.operations.tasks"):
        assert remove_old_login_records(now=NOW, batch_size=3, max_batches=2) == 6
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 2  # one statement per batch, each naming at most three rows
    assert LoginRecord.objects.count() == 2
    # Oldest first: what is left of the backlog is the newest of the old records.
    assert LoginRecord.objects.exclude(pk=keep.pk).get().at == old + dt.timedelta(minutes=6)
    assert "Removed 6 login records" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.INFO, "vardkontakt.operations.tasks"):
        assert remove_old_login_records(now=NOW, batch_size=3, max_batches=2) == 1
        assert remove_old_login_records(now=NOW, batch_size=3, max_batches=2) == 0
    assert "Removed 1 login records" in caplog.text
    assert caplog.text.count("Removed") == 1  # a run that removes nothing stays quiet
    assert list(LoginRecord.objects.all()) == [keep]


@pytest.mark.django_db(transaction=True)
def test_the_worker_removes_them_when_its_heartbeat_runs(personas, settings):
    now = timezone.now()
    record(personas.tolvan, now - dt.timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS, minutes=1))
    kept = record(personas.tolvan, now - dt.timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS - 1))
    schedule_heartbeat()
    call_command("db_worker", batch=True, queue_name="*", interval=0, reload=False, startup_delay=False)
    assert list(LoginRecord.objects.all()) == [kept]


# --- what support sees --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_support_lookup_no_longer_shows_removed_logins(personas, settings):
    settings.LOGIN_RECORD_RETENTION_DAYS = 90
    now = timezone.now()
    old = record(personas.tolvan, now - dt.timedelta(days=91))
    old_refusal = record(personas.tolvan, now - dt.timedelta(days=95), refused=True)
    recent = record(personas.tolvan, now - dt.timedelta(days=89))
    support = client_of(personas.support)

    def shown(login: LoginRecord) -> bool:
        stamp = timezone.localtime(login.at).strftime("%Y-%m-%d %H:%M")
        return f'<td class="nhsuk-table__cell">{stamp}</td>' in body

    body = support.post("/staff/support/lookup/", {"personnummer": "19121212-1212"}).text
    assert "Logins are kept for 90 days; older ones are removed." in body
    assert shown(old) and shown(old_refusal) and shown(recent)
    assert "Refused: the e-ID&#x27;s level of assurance was too low" in body

    assert remove_old_login_records() == 2
    body = support.post("/staff/support/lookup/", {"personnummer": "19121212-1212"}).text
    assert not shown(old) and not shown(old_refusal) and shown(recent)
    assert "Refused" not in body

    LoginRecord.objects.filter(pk=recent.pk).update(at=now - dt.timedelta(days=90, seconds=1))
    assert remove_old_login_records() == 1
    body = support.post("/staff/support/lookup/", {"personnummer": "19121212-1212"}).text
    assert "No logins recorded." in body
