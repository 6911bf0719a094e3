"""The database settings for PgBouncer's transaction pooling, and the router without a replica or
with one that cannot be reached (these run on SQLite as well; the real replica is in
tests/core/test_replica.py)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from vardkontakt.core import replica
from vardkontakt.core.databases import REPLICA, pooled, replica_settings
from vardkontakt.core.models import Heartbeat
from vardkontakt.core.tasks import WORKER

SRC = Path(__file__).resolve().parents[2] / "src" / "vardkontakt"
POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "vardkontakt", "OPTIONS": {"sslmode": "prefer"}}


def test_behind_pgbouncer_no_server_side_cursors_and_no_prepared_statements():
    settings_dict = pooled(POSTGRES, "pgbouncer")
    assert settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert settings_dict["OPTIONS"] == {"sslmode": "prefer", "prepare_threshold": None}
    assert pooled(POSTGRES, "") == POSTGRES  # a direct connection keeps Django's defaults


def test_behind_pgbouncer_the_default_prepared_statements_are_off_again():
    """The settings turn prepared statements and server-side binding on for a direct connection;
    behind PgBouncer (1.18 cannot follow them in transaction mode) both go."""
    direct = {**POSTGRES, "OPTIONS": {"sslmode": "prefer", "server_side_binding": True, "prepare_threshold": 5}}
    assert pooled(direct, "")["OPTIONS"]["prepare_threshold"] == 5
    assert pooled(direct, "pgbouncer")["OPTIONS"] == {"sslmode": "prefer", "prepare_threshold": None}


def test_a_pooler_it_does_not_know_or_on_sqlite_stops_the_process():
    with pytest.raises(ImproperlyConfigured, match="VK_DB_POOLER"):
        pooled(POSTGRES, "pgpool")
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL"):
        pooled({"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}, "pgbouncer")


def test_the_replica_connects_with_a_short_timeout_and_mirrors_the_test_database():
    settings_dict = replica_settings("postgres://reader@10.0.0.2:5433/vardkontakt", connect_timeout=2)
    assert settings_dict["HOST"] == "10.0.0.2" and settings_dict["PORT"] == 5433
    assert settings_dict["OPTIONS"]["connect_timeout"] == 2
    assert settings_dict["TEST"] == {"MIRROR": "default"}
    with pytest.raises(ImproperlyConfigured, match="streaming replica"):
        replica_settings("sqlite:///replica.sqlite3", connect_timeout=2)


# What would break under transaction pooling: state that outlives a transaction on a server
# connection. Row locks (SELECT ... FOR UPDATE) and SET LOCAL live in the transaction and are fine.
SESSION_STATE = re.compile(
    r"pg_advisory_lock|pg_try_advisory_lock\(|\bLISTEN\b|\bNOTIFY\b|\bUNLISTEN\b|CREATE\s+TEMP|\bPREPARE\s+\w+\s+AS"
    r"|[\"']SET\s+(?!LOCAL\b)(SESSION\s+)?[a-z_]+\s*(=|TO\b)|DISCARD\s+ALL",
)  # SQL keywords in capitals, as this code writes them (a model's "notify_by_sms" is not NOTIFY)


def test_the_code_keeps_no_session_state_on_a_database_connection():
    offenders = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SESSION_STATE.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []
    # The pattern does find what it is for.
    assert SESSION_STATE.search('cursor.execute("SET statement_timeout = 5000")')
    assert SESSION_STATE.search("SELECT pg_advisory_lock(42)")
    assert not SESSION_STATE.search('cursor.execute("SET LOCAL statement_timeout = 5000")')


class TestWithoutAReplica:
    @pytest.mark.django_db
    def test_declared_reads_and_everything_else_use_the_primary(self):
        assert not replica.configured()
        router = replica.ReplicaRouter()
        with replica.replica_reads():
            assert router.db_for_read(Heartbeat) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Heartbeat) == DEFAULT_DB_ALIAS

    @pytest.mark.django_db
    def test_no_cookie_and_no_replica_in_healthz(self, client):
        response = client.post("/healthz")
        assert replica.WROTE_COOKIE not in response.cookies
        assert "replica" not in client.get("/healthz").json()["checks"]


@pytest.fixture
def unreachable_replica(django_db_setup, django_db_blocker) -> Iterator[None]:
    """A replica alias whose server is not there (nothing listens on port 1). Outside a Django
    test case, whose guard would refuse an alias added after it began: the test removes what it
    wrote itself."""
    down = replica_settings("postgres://postgres@127.0.0.1:1/vardkontakt", connect_timeout=1)
    with django_db_blocker.unblock():
        connections.settings[REPLICA] = connections.configure_settings(
            {DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS], REPLICA: down}
        )[REPLICA]
        replica.forget_state()
        try:
            yield
        finally:
            Heartbeat.objects.filter(name=WORKER).delete()
            connections[REPLICA].close()
            with contextlib.suppress(AttributeError):
                del connections[REPLICA]
            del connections.settings[REPLICA]
            replica.forget_state()


def test_a_replica_that_is_down_sends_the_declared_reads_to_the_primary_and_healthz_says_so(
    client, unreachable_replica
):
    Heartbeat.objects.create(name=WORKER, beat_at=timezone.now())

    @replica.reads_from_replica
    def workers() -> list[str]:
        return list(Heartbeat.objects.values_list("name", flat=True))

    assert workers() == [WORKER]  # answered by the primary
    assert replica.ReplicaRouter().db_for_write(Heartbeat) == DEFAULT_DB_ALIAS
    response = client.get("/healthz")
    assert response.status_code == 200  # degraded, not unhealthy: the balancer keeps the node
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["replica"].startswith("down (")
    assert body["checks"]["replica"].endswith("its reads go to the primary")
    assert body["checks"]["replica_lag_seconds"] is None
