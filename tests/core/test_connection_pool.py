"""Database connections from a pool in the process (VK_DB_POOL_SIZE): the ASGI workers' sockets
would otherwise open a PostgreSQL connection for each database call. The settings' rules run
anywhere; the pool itself on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper

from vardkontakt.core.databases import POOL_WAIT_SECONDS, pooled, with_pool

POSTGRES = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "vardkontakt",
    "CONN_MAX_AGE": 60,
    "OPTIONS": {"sslmode": "prefer"},
}
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(json.dumps([d['CONN_MAX_AGE'], d['OPTIONS'].get('pool')]))"
)


def settings_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VK_", "DATABASE_URL"))}
    demo = {"DJANGO_SETTINGS_MODULE": "vardkontakt.settings", "VK_DEMO": "true"}
    return subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **demo, **env}, capture_output=True, text=True, timeout=60
    )


def test_a_pool_size_gives_a_pool_and_no_persistent_connections():
    settings_dict = with_pool(POSTGRES, 8)
    assert settings_dict["OPTIONS"] == {
        "sslmode": "prefer",
        "pool": {"min_size": 2, "max_size": 8, "timeout": POOL_WAIT_SECONDS},
    }
    assert settings_dict["CONN_MAX_AGE"] == 0
    assert with_pool(POSTGRES, 0) == POSTGRES  # 0: no pool, the settings as they were
    # In front of PgBouncer the pool keeps PgBouncer's rules (no prepared statements).
    assert with_pool(pooled(POSTGRES, "pgbouncer"), 4)["OPTIONS"]["prepare_threshold"] is None


def test_a_pool_on_sqlite_stops_the_process():
    with pytest.raises(ImproperlyConfigured, match="VK_DB_POOL_SIZE"):
        with_pool({"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}, 4)


def test_the_settings_read_the_pool_size_from_the_environment():
    url = {"DATABASE_URL": "postgres://vardkontakt@127.0.0.1:5432/vardkontakt"}
    pooled_run = settings_with({**url, "VK_DB_POOL_SIZE": "6", "VK_DB_CONN_MAX_AGE": "60"})
    assert pooled_run.returncode == 0, pooled_run.stderr
    assert json.loads(pooled_run.stdout.strip().splitlines()[-1]) == [
        0,
        {"min_size": 2, "max_size": 6, "timeout": POOL_WAIT_SECONDS},
    ]
    direct = settings_with({**url, "VK_DB_CONN_MAX_AGE": "60"})
    assert direct.returncode == 0, direct.stderr
    assert json.loads(direct.stdout.strip().splitlines()[-1]) == [60, None]
    on_sqlite = settings_with({"VK_DB_POOL_SIZE": "6"})
    assert on_sqlite.returncode != 0
    assert "VK_DB_POOL_SIZE needs a PostgreSQL DATABASE_URL" in on_sqlite.stderr


@pytest.mark.django_db
def test_a_closed_connection_goes_back_to_the_pool_and_is_handed_out_again():
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's (DATABASE_URL=postgres://...)")
    settings_dict = with_pool({**connection.settings_dict, "CONN_MAX_AGE": 0}, 2)
    first, second = DatabaseWrapper(settings_dict, alias="pool_test"), DatabaseWrapper(settings_dict, alias="pool_test")

    def backend(wrapper: DatabaseWrapper) -> int:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    try:
        held = {backend(first), backend(second)}
        assert len(held) == 2  # two calls at once: two server connections
        second.close()
        first.close()  # back to the pool, not closed: the same server processes serve the next calls
        assert {backend(first), backend(second)} == held
        assert first.pool.get_stats()["pool_size"] == 2
    finally:
        first.close()
        second.close()
        first.close_pool()
