"""Redis down (sessions and the cache on it): the degraded mode of docs/operations.md.

A redis-server of the test's own on a free port (never the machine's 6379), stopped and started
again under the running application: pages that need a session and logins answer 503 with
Retry-After and a translated page, never a 500 or a silent logout; the public pages and /healthz
still answer (healthz saying Redis is down); once Redis is back the same process serves again.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

from tests.helpers import login_as
from vardkontakt.identity.models import User

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed (make redis)"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedis:
    def __init__(self, tmp_path) -> None:
        self.port = _free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [str(shutil.which("redis-server")), "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def redis_sessions(settings, tmp_path) -> Iterator[OwnRedis]:
    original = settings.CACHES
    redis = OwnRedis(tmp_path)
    redis.start()
    url = f"redis://127.0.0.1:{redis.port}/0"
    options = {"socket_connect_timeout": 2, "socket_timeout": 2}
    backend = "django.core.cache.backends.redis.RedisCache"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": "t", "OPTIONS": options},
        "sessions": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": "t-session", "OPTIONS": options},
    }
    settings.SESSION_ENGINE = "vardkontakt.identity.sessions"
    settings.SESSION_CACHE_ALIAS = "sessions"
    try:
        yield redis
    finally:
        # Back to the suite's cache before Redis goes (the suite clears the cache after each test).
        settings.CACHES = original
        redis.stop()


def test_redis_down_closes_logins_and_the_pages_that_need_one_with_503_and_opens_them_again(redis_sessions, personas):
    resident = login_as(Client(raise_request_exception=False), User.objects.get_or_create_for_patient(personas.tolvan))
    visitor = Client(raise_request_exception=False)
    assert resident.get("/patient/").status_code == 200

    redis_sessions.stop()
    page = resident.get("/patient/")
    assert page.status_code == 503, page.content[:300]
    assert page["Retry-After"] == "5" and page["Cache-Control"] == "no-store"
    assert "Tjänsten är tillfälligt otillgänglig" in page.text
    assert "håller dig inloggad" in page.text and "Traceback" not in page.text
    # Not a silent logout: no redirect to the login page, the person is told to come back shortly.
    login = visitor.get("/login/resident/")
    assert login.status_code == 503 and login["Retry-After"] == "5"
    # The public pages and the health check still answer; the check says what is wrong.
    assert visitor.get("/").status_code == 200
    health = visitor.get("/healthz")
    assert health.status_code in (200, 503)  # 503 only for the worker heartbeat (none in this test)
    assert health.json()["checks"]["redis"].startswith("down (ConnectionError)")

    redis_sessions.start()  # the same port, empty: the sessions it held are gone
    assert visitor.get("/healthz").json()["checks"]["redis"] == "ok"
    again = resident.get("/patient/")
    assert again.status_code == 302 and "/login/" in again["Location"]
    # The login goes on to the identity provider (none answers in this test: its own 503 page).
    login = visitor.get("/login/resident/")
    assert "håller dig inloggad" not in login.text and "identity/login_refused.html" in [
        t.name for t in login.templates
    ]
    fresh = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    assert fresh.get("/patient/").status_code == 200


def test_the_redis_page_speaks_english_to_someone_who_chose_english(redis_sessions, personas):
    resident = login_as(Client(raise_request_exception=False), User.objects.get_or_create_for_patient(personas.tolvan))
    resident.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    redis_sessions.stop()
    page = resident.get("/patient/")
    assert page.status_code == 503
    assert "The service is briefly unavailable" in page.text
    assert "keeps you logged in" in page.text
