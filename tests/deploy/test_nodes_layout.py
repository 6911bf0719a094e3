"""deploy/nodes/: the multi-node layout comes up, balances, survives a killed web node, and goes
away completely. The benchmark (bench/booking_rush_nodes.py) and the fault tests load it; this is
the short form of the check. Its primary is a throw-away cluster (no fsync: it dies with the test),
and the schema comes from the dump of an earlier layout when var/cache/ has one for the current
migrations (deploy/nodes/layout.py, migrate())."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from deploy.nodes.layout import Layout, Service, pg_bin

NEEDED = ("nginx", "pgbouncer", "redis-server")


def _installed(name: str) -> bool:
    return bool(shutil.which(name)) or Path(f"/usr/sbin/{name}").exists()


pytestmark = pytest.mark.skipif(
    pg_bin() is None or not all(_installed(n) for n in NEEDED),
    reason="needs nginx, pgbouncer, redis-server and PostgreSQL's server binaries (make nginx pgbouncer redis"
    " postgresql-server)",
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_the_layout_balances_survives_a_killed_node_and_goes_away():
    with tempfile.TemporaryDirectory(prefix="vardkontakt-nodes-test.") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 (PostgreSQL and PgBouncer run as postgres below it)
        root = Path(tmp) / "layout"
        layout = Layout(root, web_nodes=2, workers=2, replica=True, durable=False)
        with layout:
            health = requests.get(f"{layout.url}/healthz", timeout=10)
            assert health.status_code == 200, health.text
            checks = health.json()["checks"]
            assert checks["database"] == "ok" and checks["worker"] == "ok"
            assert checks["replica"] == "ok" and checks["replica_lag_bytes"] is not None

            # The nodes reach PostgreSQL through PgBouncer, in transaction pooling.
            admin = ["-h", "127.0.0.1", "-p", str(layout.ports["pgbouncer"]), "-U", "postgres", "pgbouncer"]
            pools = subprocess.run(
                ["psql", "-X", "-At", *admin, "-c", "SHOW POOLS"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = next(line.split("|") for line in pools.splitlines() if line.startswith("vardkontakt|"))
            assert row[-1] == "transaction"
            assert int(row[2]) + int(row[9]) >= 1  # clients active, or server connections idle

            # A node killed with SIGKILL: nginx takes the requests to the other one.
            killed = layout.pids("web1")
            layout.kill("web1")
            answers = [requests.get(f"{layout.url}/healthz", timeout=10).status_code for _ in range(20)]
            assert answers == [200] * 20
            assert not any(_alive(pid) for pid in killed)
            everything = [pid for name in layout.services for pid in layout.pids(name)]
            primary_pid = int((layout.primary().data / "postmaster.pid").read_text().split()[0])
            assert everything and _alive(primary_pid)
        # Down: no process of the layout is left, and nothing on disk.
        assert not any(_alive(pid) for pid in [*everything, primary_pid])
        assert not root.exists()


def test_a_service_whose_process_has_ended_is_not_counted_as_running(tmp_path):
    """A task worker whose loop has ended stays a zombie of the layout's until it is collected: it
    still has its process group, but the layout must not report it as running."""
    ended = subprocess.Popen(["true"], start_new_session=True)
    running = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{ended.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the process did not end"
            time.sleep(0.05)
        layout = Layout(tmp_path)
        layout.services = {
            "worker1": Service("worker1", ["true"], {}, str(tmp_path / "worker1.log"), ended.pid),
            "worker2": Service("worker2", ["sleep", "60"], {}, str(tmp_path / "worker2.log"), running.pid),
        }
        assert layout.pids("worker1") == []
        assert layout.pids("worker2") == [running.pid]
    finally:
        running.kill()
        running.wait()
        ended.wait()
