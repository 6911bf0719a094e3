"""The read replica for real: a PostgreSQL primary and its streaming replica made for this test
session (deploy/nodes/layout.py's make_primary and make_replica: initdb, pg_basebackup -R), the
application's connections pointed at them for each test. Skipped only where PostgreSQL's server
binaries are missing."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deploy.nodes.layout import Cluster, make_primary, make_replica, migrate, pg_bin
from vardkontakt.core import replica
from vardkontakt.core.databases import REPLICA, replica_settings
from vardkontakt.core.models import Heartbeat
from vardkontakt.core.tasks import WORKER

DATABASE = "vk_replica_test"


@dataclass
class Pair:
    primary: Cluster
    replica: Cluster


@pytest.fixture(scope="session")
def pair() -> Iterator[Pair]:
    if pg_bin() is None:
        pytest.skip("PostgreSQL's server binaries are not installed (make postgresql-server)")
    with tempfile.TemporaryDirectory(prefix="vardkontakt-replica-test.") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 (the clusters run as postgres below it)
        base = Path(tmp)
        ports = [_free_port(), _free_port()]
        # A throw-away cluster (no fsync: it dies with the session), its schema from the layout's
        # cache when there is one (deploy/nodes/layout.py, migrate()).
        primary = make_primary(base / "primary", ports[0], max_connections=50, durable=False)
        replica_cluster: Cluster | None = None
        try:
            primary.sql(f"CREATE DATABASE {DATABASE}")
            primary.sql(f"ALTER DATABASE {DATABASE} SET timezone TO 'UTC'")
            env = {
                **os.environ,
                "VK_DEMO": "true",
                "DJANGO_SETTINGS_MODULE": "vardkontakt.settings",
                "DATABASE_URL": primary.url(DATABASE),
                "VK_VAR_DIR": str(base / "var"),
            }
            env.pop("VK_REPLICA_DATABASE_URL", None)
            migrate(primary, DATABASE, env, base / "migrate.log")
            replica_cluster = make_replica(primary, base / "replica", ports[1])
            yield Pair(primary, replica_cluster)
        finally:
            if replica_cluster is not None:
                replica_cluster.stop("immediate")
            primary.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def on_pair(pair: Pair, django_db_blocker, settings) -> Iterator[Pair]:
    """The application's "default" on the pair's primary and "replica" on its replica."""
    settings.REPLICA_STATE_SECONDS = 0  # measure at every read: the tests move the replica
    # The pair's primary is idle between tests: the replica's first replay after a pause would
    # count from the last transaction before it (the lag's definition, core/replica.py).
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    original = connections.settings
    with django_db_blocker.unblock():
        connections.close_all()
        for alias in list(original):
            _drop(alias)
        primary_settings = dict(dj_database_url.parse(pair.primary.url(DATABASE), conn_max_age=0))
        connections.settings = connections.configure_settings(
            {
                DEFAULT_DB_ALIAS: primary_settings,
                REPLICA: replica_settings(pair.replica.url(DATABASE), connect_timeout=2),
            }
        )
        replica.forget_state()
        try:
            yield pair
        finally:
            _resume(pair)
            connections.close_all()
            for alias in list(connections.settings):
                _drop(alias)
            connections.settings = original
            replica.forget_state()


def _drop(alias: str) -> None:
    """Forget this thread's connection object of ``alias`` (made again from the settings)."""
    with contextlib.suppress(AttributeError):  # never opened in this thread
        del connections[alias]


def _pause(pair: Pair) -> None:
    pair.replica.sql("SELECT pg_wal_replay_pause()")


def _resume(pair: Pair) -> None:
    pair.replica.sql("SELECT pg_wal_replay_resume()")


def _caught_up(pair: Pair) -> None:
    """Until the replica has replayed everything the primary has committed so far (the insert
    position: with synchronous_commit off a commit may not be written out yet)."""
    target = pair.primary.sql("SELECT pg_current_wal_insert_lsn()::text")[0][0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = pair.replica.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0]
        if done:
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up within 30 s")


def _beat() -> str:
    name = uuid.uuid4().hex[:30]
    Heartbeat.objects.create(name=name, beat_at=timezone.now())
    return name


@replica.reads_from_replica
def _seen(name: str) -> bool:
    return Heartbeat.objects.filter(name=name).exists()


def test_a_declared_read_goes_to_the_replica_and_a_write_to_the_primary(on_pair):
    name = _beat()
    _caught_up(on_pair)
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        assert _seen(name)
        Heartbeat.objects.filter(name=name).update(beat_at=timezone.now())
        undeclared = Heartbeat.objects.filter(name=name).exists()
    assert undeclared
    replica_sql = [q["sql"] for q in on_replica.captured_queries]
    primary_sql = [q["sql"] for q in on_primary.captured_queries]
    assert any("core_heartbeat" in sql for sql in replica_sql)
    assert not any("UPDATE" in sql for sql in replica_sql)
    assert any(sql.startswith("UPDATE") and "core_heartbeat" in sql for sql in primary_sql)
    # The undeclared read went to the primary as well.
    assert sum("core_heartbeat" in sql and sql.startswith("SELECT") for sql in primary_sql) == 1


def test_a_paused_replica_is_stale_for_others_but_the_writer_reads_their_write(on_pair):
    factory = RequestFactory()
    written: dict[str, str] = {}

    def write(request: HttpRequest) -> HttpResponse:
        written["name"] = _beat()
        return HttpResponse("written")

    def read(request: HttpRequest) -> HttpResponse:
        return HttpResponse("yes" if _seen(written["name"]) else "no")

    _caught_up(on_pair)
    _pause(on_pair)
    wrote = replica.ReadYourWritesMiddleware(write)(factory.post("/write"))
    cookie = wrote.cookies[replica.WROTE_COOKIE]
    assert cookie["max-age"] == replica.WROTE_COOKIE_SECONDS and cookie["httponly"]
    reader = replica.ReadYourWritesMiddleware(read)
    # Someone else reads the replica, which has not replayed the write: proof the replica answers.
    assert reader(factory.get("/read")).content == b"no"
    # The writer's browser sends its cookie back: the primary answers.
    mine = factory.get("/read")
    mine.COOKIES[replica.WROTE_COOKIE] = cookie.value
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert reader(mine).content == b"yes"
    assert not any("core_heartbeat" in q["sql"] for q in on_replica.captured_queries)
    # Once the replica has replayed the write, the writer reads the replica again.
    _resume(on_pair)
    _caught_up(on_pair)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert reader(mine).content == b"yes"
    assert any("core_heartbeat" in q["sql"] for q in on_replica.captured_queries)


def test_a_damaged_cookie_keeps_the_reader_on_the_primary(on_pair):
    name = _beat()
    _caught_up(on_pair)
    request = RequestFactory().get("/read")
    request.COOKIES[replica.WROTE_COOKIE] = "not a position"
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        replica.ReadYourWritesMiddleware(lambda r: HttpResponse(str(_seen(name))))(request)
    assert not any("core_heartbeat" in q["sql"] for q in on_replica.captured_queries)


def test_healthz_shows_the_lag_and_is_degraded_beyond_the_limit(on_pair, client, settings):
    Heartbeat.objects.update_or_create(name=WORKER, defaults={"beat_at": timezone.now()})
    _caught_up(on_pair)
    body = client.get("/healthz").json()
    assert body["status"] == "ok", body
    assert body["checks"]["replica"] == "ok"
    assert body["checks"]["replica_lag_seconds"] >= 0
    assert body["checks"]["replica_lag_bytes"] >= 0

    settings.REPLICA_MAX_LAG_SECONDS = 1
    _pause(on_pair)
    name = _beat()
    Heartbeat.objects.update_or_create(name=WORKER, defaults={"beat_at": timezone.now()})
    time.sleep(1.5)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded", body
    assert body["checks"]["replica"] == "lagging more than 1 s: its reads go to the primary"
    assert body["checks"]["replica_lag_seconds"] > 1
    assert body["checks"]["replica_lag_bytes"] > 0
    # Meanwhile the declared reads are answered by the primary, so they are not stale.
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert _seen(name)
    assert not any("core_heartbeat" in q["sql"] for q in on_replica.captured_queries)
