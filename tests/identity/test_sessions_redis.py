"""Sessions on Redis (VK_REDIS_URL, issue 20): no database statement for them, a logout on one web
node ends the session on every node, and the idle and absolute limits hold as with database
sessions — on the real Redis at 127.0.0.1:6379 (its database 11, a key prefix of each test's own,
removed afterwards); skipped where none runs."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.helpers import login_as
from vardkontakt.identity.models import User
from vardkontakt.identity.sessions import GRACE_SECONDS

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("VK_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
START = dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC)  # the night clocks go back in Sweden


@dataclass
class Stored:
    redis: redis.Redis
    prefix: str

    def keys(self) -> list[bytes]:
        return list(self.redis.scan_iter(f"{self.prefix}:*"))

    def ttl(self, session_key: str) -> int:
        (key,) = [k for k in self.keys() if k.decode().endswith(session_key)]
        return int(self.redis.ttl(key))


@pytest.fixture
def on_redis(settings) -> Iterator[Stored]:
    """What settings.py configures when VK_REDIS_URL is set, under a prefix of this test's own."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"vk-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    settings.SESSION_CACHE_ALIAS = "sessions"
    settings.SESSION_ENGINE = "vardkontakt.identity.sessions"
    stored = Stored(client, prefix)
    yield stored
    leftover = stored.keys()
    if leftover:
        client.delete(*leftover)
    client.close()


@pytest.fixture
def tolvan_user(personas) -> User:
    return User.objects.get_or_create_for_patient(personas.tolvan)


def node_with(cookie: str) -> Client:
    """Another web node: its own client and middleware, the same browser cookie."""
    node = Client()
    node.cookies["vk_session"] = cookie
    return node


def test_a_logged_in_request_reads_no_session_from_the_database(on_redis, tolvan_user):
    client = login_as(Client(), tolvan_user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/patient/").status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert Session.objects.count() == 0
    assert len(on_redis.keys()) == 1


def test_logout_on_one_node_ends_the_session_on_every_node(on_redis, tolvan_user):
    first = login_as(Client(), tolvan_user)
    cookie = first.cookies["vk_session"].value
    second = node_with(cookie)
    assert first.get("/patient/").status_code == 200
    assert second.get("/patient/").status_code == 200

    assert first.post("/logout/").status_code == 302
    assert on_redis.keys() == []
    # The other node, and the old cookie replayed anywhere, find no session.
    answer = second.get("/patient/")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert node_with(cookie).get("/patient/").status_code == 302
    # ...and a request with the dead cookie does not bring it back to life.
    assert on_redis.keys() == []


def test_the_idle_limit_holds_and_the_key_lives_only_a_little_longer(on_redis, tolvan_user):
    with time_machine.travel(START, tick=False) as traveller:
        first = login_as(Client(), tolvan_user)
        cookie = first.cookies["vk_session"].value
        second = node_with(cookie)
        limit = 30 * 60
        assert limit < on_redis.ttl(cookie) <= limit + GRACE_SECONDS
        for node in (first, second, first, second, first):  # 5 × 25 minutes across the DST change
            traveller.shift(dt.timedelta(minutes=25))
            assert node.get("/patient/").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        answer = second.get("/patient/")
        assert answer.status_code == 302 and answer["Location"] == "/"
        assert on_redis.keys() == []
        assert first.get("/patient/").status_code == 302


def test_the_absolute_limit_holds_however_active(on_redis, tolvan_user):
    with time_machine.travel(START, tick=False) as traveller:
        first = login_as(Client(), tolvan_user)
        cookie = first.cookies["vk_session"].value
        nodes = [first, node_with(cookie)]
        answers = []
        for step in range(12 * 4 + 1):  # a request every 15 minutes for 12 h 15 min, on either node
            traveller.shift(dt.timedelta(minutes=15))
            answers.append(nodes[step % 2].get("/patient/").status_code)
            if step == 46:  # 11 h 45 min in: the key lives to the absolute limit, not 30 more minutes
                assert on_redis.ttl(cookie) <= 15 * 60 + GRACE_SECONDS
        assert answers[:48] == [200] * 48
        assert answers[48] == 302
        assert on_redis.keys() == []
