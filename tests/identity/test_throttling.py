"""Throttling (issue 14 item 8): login starts and the demo provider are limited per address with
lockout and back-off; a login never finished leaves a short session; expired sessions are removed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from vardkontakt.core.ratelimit import Limit, register, reset, retry_after
from vardkontakt.identity.tasks import remove_expired_sessions

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_provider(monkeypatch):
    """Login starts answer without calling an identity provider (its redirect is not the point)."""
    monkeypatch.setattr(
        "vardkontakt.identity.views.start_login", lambda request, side, step_up=False: HttpResponse("to the provider")
    )


def test_login_starts_are_limited_per_address_with_back_off(no_provider, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_start": (5, 60, 60, 900)}
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client(REMOTE_ADDR="203.0.113.7")
        statuses = [client.get("/login/resident/").status_code for _ in range(6)]
        assert statuses == [200, 200, 200, 200, 429, 429]
        refused = client.get("/login/staff/")
        assert refused.status_code == 429 and refused["Retry-After"] == "60"
        assert "För många inloggningar har påbörjats från din anslutning" in refused.text
        assert Client(REMOTE_ADDR="198.51.100.9").get("/login/resident/").status_code == 200  # another address
        traveller.shift(dt.timedelta(seconds=61))
        statuses = [client.get("/login/resident/").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        assert client.get("/login/resident/")["Retry-After"] == "120"  # the second lockout is twice as long


def test_behind_the_tls_proxy_the_forwarded_address_counts(no_provider, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_start": (2, 60, 60, 900)}
    settings.BEHIND_TLS_PROXY = True
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    assert proxy.get("/login/resident/", HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.7").status_code == 200
    assert proxy.get("/login/resident/", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert proxy.get("/login/resident/", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


def test_the_demo_provider_is_limited_per_address(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "demo_idp": (3, 60, 60, 900)}
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [client.get("/demo-idp/eid/authorize").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert client.post("/demo-idp/eid/token", {"grant_type": "authorization_code"}).status_code == 429


def test_a_login_never_finished_leaves_a_session_of_minutes(no_provider, settings):
    client = Client()
    client.get("/login/resident/")
    session = Session.objects.get()
    lifetime = session.expire_date - timezone.now()
    assert lifetime <= dt.timedelta(seconds=settings.LOGIN_PENDING_SESSION_SECONDS)
    assert lifetime > dt.timedelta(seconds=settings.LOGIN_PENDING_SESSION_SECONDS - 60)


def test_expired_sessions_are_removed_by_the_worker(settings):
    assert "vardkontakt.identity.tasks.remove_expired_sessions" in settings.PERIODIC_JOBS
    now = timezone.now()
    for minutes in (-30, -1, 5):
        store = SessionStore()
        store["x"] = minutes
        store.set_expiry(now + dt.timedelta(minutes=minutes))
        store.save()
    with time_machine.travel(now, tick=False):
        assert remove_expired_sessions(batch_size=1) == 2
    assert [SessionStore(session_key=s.session_key).load()["x"] for s in Session.objects.all()] == [5]


def test_a_reset_forgives_failures_but_not_a_lockout():
    limit = Limit("test", attempts=3, window=60, lockout=30, max_lockout=60)
    assert register(limit, "k") == 0 and register(limit, "k") == 0
    reset(limit, "k")
    assert register(limit, "k") == 0 and register(limit, "k") == 0
    assert register(limit, "k") == 30
    reset(limit, "k")
    assert retry_after(limit, "k") == 30
