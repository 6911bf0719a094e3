"""The multi-node layout the node fault tests share (tests/faults/test_nodes.py).

deploy/nodes/layout.py on free ports in a temporary directory: a PostgreSQL cluster of the
test's own (initdb; never the machine's on 5432, which other work uses), PgBouncer in transaction
pooling mode, a Redis of its own, two gunicorn web nodes behind nginx, one task worker (it delivers
the bookings' notices; /healthz wants its heartbeat); no replica (not part of these faults). Everything
is stopped and removed after the module, also when a test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from deploy.nodes.layout import PYTHON, Layout, schema_restore  # noqa: E402


@pytest.fixture(scope="session")
def django_db_keepdb(request: pytest.FixtureRequest) -> Iterator[bool]:
    """The test database of the worker and gateway faults (on PostgreSQL) from the cached schema
    of deploy/nodes/layout.py when var/cache/ has one for the current migrations: made here
    before pytest-django, which then keeps it (its ``migrate`` has nothing left to do) instead of
    migrating a new one (a minute on a busy machine; the short form runs in CI). Dropped here
    afterwards, as pytest-django would."""
    from django.conf import settings
    from django.db import connections

    database = settings.DATABASES["default"]
    if request.config.getvalue("reuse_db") or database["ENGINE"] != "django.db.backends.postgresql":
        yield bool(request.config.getvalue("reuse_db"))
        return
    import psycopg

    name = database.get("TEST", {}).get("NAME") or f"test_{database['NAME']}"
    where = {
        "host": database["HOST"] or "127.0.0.1",
        "port": int(database["PORT"] or 5432),
        "user": database["USER"],
        "password": database["PASSWORD"] or "",
    }

    def admin(statement: str) -> None:
        with psycopg.connect(**where, dbname="postgres", autocommit=True) as connection:
            connection.execute(statement)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    with tempfile.NamedTemporaryFile(prefix="vardkontakt-faults-restore.", suffix=".log") as log:
        if not schema_restore(where["port"], name, Path(log.name), **{k: v for k, v in where.items() if k != "port"}):
            admin(f'DROP DATABASE "{name}"')  # pytest-django makes and migrates it as usual
            yield False
            return
    yield True
    connections.close_all()
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class NodesData:
    unit_id: str
    visit_type_id: str
    pool: list[str]
    sessions: list[str]
    service_id: str


@pytest.fixture(scope="module")
def nodes() -> Iterator[tuple[Layout, NodesData]]:
    with tempfile.TemporaryDirectory(prefix="vardkontakt-faults.") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 (PostgreSQL and PgBouncer run as postgres below it)
        # One gunicorn worker process per node (12 threads): a killed node is back sooner on a
        # small machine, and each node still serves requests concurrently.
        layout = Layout(
            Path(tmp) / "layout",
            web_nodes=2,
            workers=1,
            replica=False,
            database="vk_faults_nodes",
            # A throw-away cluster (no fsync; it dies with the test) unless FAULTS_DURABLE_CLUSTER=1:
            # then as in production, where a stop's checkpoint takes longer and the restart's
            # window is wider (the full run uses it; the 500 of 2026-12-06 showed only there).
            durable=os.environ.get("FAULTS_DURABLE_CLUSTER") == "1",
            web_env={"VK_WEB_WORKERS": "1"},
        )
        layout.up()
        try:
            out = Path(tmp) / "data.json"
            env = {**layout.app_env(), "DATABASE_URL": layout.primary_url, "VK_DB_POOLER": ""}
            done = subprocess.run(
                [PYTHON, "-m", "tests.faults.nodes_data", str(out)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr.decode(errors="replace")[-4000:]
            yield layout, NodesData(**json.loads(out.read_text()))
        finally:
            # The processes' own logs (a web node's traceback, PgBouncer's view of a restart) go
            # with the layout's directory: kept beside the reports when FAULTS_REPORT_DIR is set.
            keep = os.environ.get("FAULTS_REPORT_DIR")
            if keep:
                target = Path(keep) / "logs"
                target.mkdir(parents=True, exist_ok=True)
                for log in [
                    *(layout.root / "logs").glob("*.log"),
                    layout.root / "primary" / "postgres.log",
                    layout.root / "nginx" / "log" / "error.log",
                ]:
                    if log.exists():
                        shutil.copy(log, target / log.name)
            layout.down()
