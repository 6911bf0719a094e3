"""The booking rush through the multi-node layout: nginx in front of one and of two web nodes.

deploy/nodes/layout.py brings up, in a temporary directory on free ports: a PostgreSQL primary
of its own (database ``vk_bench_nodes``) with a streaming replica, PgBouncer in transaction
pooling mode in front of the primary, Redis, two task workers, two gunicorn web nodes
(deploy/gunicorn.conf.py, each its own master and workers) and nginx balancing them
(least_conn). The bench data and the clients are booking_rush's (imported from
bench/booking_rush.py: the same residents, hot slots, confirmation page then POST, Retry-After
honoured); every request goes through nginx.

Per client count, a round with nginx sending to **one** web node, then one with **two** (the
other node idle but running, so both rounds have the same processes), slots reset between
rounds. Per round: bookings/s, POST latency, statuses, and the CPU of each part from /proc: the
web nodes, the primary's backends serving ``vk_bench_nodes`` (the **database CPU per booking**),
the rest of the primary (WAL writer, checkpointer, the WAL sender to the replica), the replica,
PgBouncer, nginx, the task workers (they deliver the bookings' confirmations meanwhile), the load
generator and the whole machine.

Nothing lost: after each round, no slot has two bookings, and every 302 the clients got names a
slot that has its booking row in the database (a POST whose answer never came may have booked:
counted apart, as "booked without an answer seen").

On a 2-core machine the two nodes share the same cores with PostgreSQL and the load generator:
throughput does not double. The figure that must hold is the database CPU per booking (ratio two
nodes / one node about 1) and nothing lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import booking_rush as rush  # noqa: E402
from bench.rush_http import Browser  # noqa: E402
from deploy.nodes.layout import Layout  # noqa: E402

DB_NAME = "vk_bench_nodes"
CLIENTS = rush._env_ints("BENCH_CLIENTS", [32, 64])
NODE_COUNTS = (1, 2)
TICK = rush.TICK


def log(message: str) -> None:
    rush.log(message)


# --- CPU of the layout's parts ------------------------------------------------------------------


def _postmaster(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


@dataclass
class Parts:
    """Which processes are which, looked up at each snapshot (backends come and go)."""

    layout: Layout

    def groups(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        webs = [n for n in self.layout.services if n.startswith("web")]
        found["web_nodes"] = [pid for name in webs for pid in self.layout.pids(name)]
        found["workers"] = [
            pid for name in self.layout.services if name.startswith("worker") for pid in self.layout.pids(name)
        ]
        found["pgbouncer"] = self.layout.pids("pgbouncer")
        found["nginx"] = self.layout.pids("nginx")
        primary = _postmaster(self.layout.primary().data)
        marker = f" {DB_NAME} ".encode()
        backends, rest = [], []
        if primary is not None:
            for pid in rush._children(primary):
                (backends if marker in _cmdline(pid) else rest).append(pid)
            rest.append(primary)
        found["primary_backends"] = backends
        found["primary_other"] = rest
        replica = _postmaster(self.layout.replica_cluster().data)
        found["replica"] = [] if replica is None else [replica, *rush._children(replica)]
        return found


@dataclass
class Snapshot:
    at: float
    generator: float
    ticks: dict[str, dict[int, int]]
    busy: int
    total: int


def snapshot(parts: Parts) -> Snapshot:
    ticks = {group: {pid: rush._ticks(pid) for pid in pids} for group, pids in parts.groups().items()}
    busy, total = rush._machine()
    return Snapshot(time.perf_counter(), time.process_time(), ticks, busy, total)


def between(a: Snapshot, b: Snapshot) -> dict[str, float]:
    """Cores used between two snapshots per part (1.0 = one CPU all the time)."""
    seconds = b.at - a.at
    cores = {
        group: sum(after - a.ticks.get(group, {}).get(pid, 0) for pid, after in pids.items()) / TICK / seconds
        for group, pids in b.ticks.items()
    }
    cores["load_generator"] = (b.generator - a.generator) / seconds
    machine = (b.busy - a.busy) / max(1, b.total - a.total) * (os.cpu_count() or 1)
    cores["whole_machine"] = machine
    cores["other"] = max(0.0, machine - sum(v for k, v in cores.items() if k != "whole_machine"))
    # Under booking_rush's names too (its summary reads them).
    cores["server"] = cores["web_nodes"]
    cores["postgres_backends"] = cores["primary_backends"]
    return {k: round(v, 3) for k, v in cores.items()}


# --- a round through nginx -----------------------------------------------------------------------


async def nodes_round(
    layout: Layout, data: rush.Data, clients: int, parts: Parts, ramp: float, seconds: float
) -> tuple[list[rush.Record], rush.Hot, float, float, dict[str, float]]:
    port = layout.ports["nginx"]
    hot = rush.Hot(data.pool, rush.HOT_SLOTS)
    browsers = [Browser("127.0.0.1", port, {"vk_session": r.session}) for r in data.residents[:clients]]
    records: list[rush.Record] = []
    start = time.perf_counter()
    t0, t1 = start + ramp, start + ramp + seconds
    snapshots: list[Snapshot] = []

    async def meter() -> None:
        await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
        snapshots.append(snapshot(parts))
        await asyncio.sleep(max(0.0, t1 - time.perf_counter()))
        snapshots.append(snapshot(parts))

    rngs = [random.Random(rush.SEED + clients * 1000 + i) for i in range(clients)]
    people = itertools.cycle(data.residents)  # each attempt the next resident's, as in booking_rush
    await asyncio.gather(
        meter(),
        *(
            rush.browse(i, b, hot, layout.url, data.unit_id, t1, records, rngs[i], people)
            for i, b in enumerate(browsers)
        ),
    )
    for browser in browsers:
        browser.close()
    return records, hot, t0, t1, between(snapshots[0], snapshots[1])


def nothing_lost(data: rush.Data, hot: rush.Hot) -> dict[str, int]:
    """Every slot a client got a 302 for has its active booking row; booking rows beyond those
    (a POST that booked but whose answer the client never saw) are counted apart."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.slot_id::text FROM booking_booking b JOIN booking_slot s ON s.id = b.slot_id"
            " WHERE s.visit_type_id = %s AND b.status = 'active'",
            [data.visit_type_id],
        )
        booked_rows = [row[0] for row in cursor.fetchall()]
    answered = set(hot.booked)
    in_database = set(booked_rows)
    return {
        "answered_302": len(answered),
        "active_booking_rows": len(booked_rows),
        "302_without_booking_row": len(answered - in_database),
        "booked_without_an_answer_seen": len(in_database - answered),
    }


def per_booking(cpu: dict[str, float], bookings: int, seconds: float) -> dict[str, float | None]:
    if not bookings:
        return dict.fromkeys(cpu)
    return {k: round(v * seconds * 1000 / bookings, 2) for k, v in cpu.items()}


def services_after(layout: Layout) -> dict[str, Any]:
    """Each service still running, and what the workers and PgBouncer logged that went wrong."""
    found: dict[str, Any] = {}
    for name, service in layout.services.items():
        text = Path(service.log).read_text(errors="replace") if Path(service.log).exists() else ""
        found[name] = {
            "running": bool(layout.pids(name)),
            "tracebacks": text.count("Traceback (most recent call last)"),
            "errors": [line[-300:] for line in text.splitlines() if "ERROR" in line or "Error" in line][-5:],
        }
    pgbouncer_log = layout.root / "pgbouncer" / "pgbouncer.log"
    if pgbouncer_log.exists():
        text = pgbouncer_log.read_text(errors="replace")
        found["pgbouncer"]["warnings"] = [line[-300:] for line in text.splitlines() if "WARNING" in line][-5:]
    return found


# --- the run -------------------------------------------------------------------------------------


def step(label: str, action: Callable[[], Any]) -> Any:
    return rush.step(label, action)


def run() -> dict[str, object]:
    began = time.perf_counter()
    load_before = os.getloadavg()
    rush.DB_NAME = DB_NAME  # booking_rush's helpers that name the database
    with tempfile.TemporaryDirectory(prefix="vardkontakt-bench-nodes.") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 (PostgreSQL and PgBouncer run as postgres below it)
        layout = Layout(
            Path(tmp) / "layout", web_nodes=2, workers=2, replica=True, wsgi="bench.rush_wsgi", database=DB_NAME
        )
        step("layout up (primary, replica, PgBouncer, Redis, 2 workers, 2 web nodes, nginx)", layout.up)
        try:
            return measure(layout, Path(tmp), began, load_before)
        finally:
            from django.db import connections

            connections.close_all()
            step("layout down", layout.down)


def measure(layout: Layout, tmp: Path, began: float, load_before: tuple[float, float, float]) -> dict[str, object]:
    var = tmp / "var"
    var.mkdir()
    # This process prepares the data directly on the primary, with the nodes' cache (sessions may
    # live there, depending on the settings).
    os.environ["DATABASE_URL"] = layout.primary_url
    os.environ["VK_REDIS_URL"] = layout.redis_url
    # The sessions made here must be valid on the nodes (their hash is keyed by the secret).
    os.environ["DJANGO_SECRET_KEY"] = layout.app_env()["DJANGO_SECRET_KEY"]
    rush.django_setup(str(var))
    from django.core.management import call_command
    from django.db import connection

    step("load_demo", lambda: call_command("load_demo", "--no-activity", verbosity=0, stdout=io.StringIO()))
    data = step("bench data", rush.make_data)
    rush.reset(data)
    connection.close()
    parts = Parts(layout)
    step("warm-up", lambda: asyncio.run(nodes_round(layout, data, 16, parts, 1.0, 3.0)))
    rush.reset(data)
    rounds: list[dict[str, Any]] = []
    for clients in CLIENTS:
        for nodes in NODE_COUNTS:
            layout.use_web_nodes(nodes)
            records, hot, t0, t1, cpu = step(
                f"{nodes} web node(s), {clients} clients",
                lambda c=clients: asyncio.run(  # type: ignore[misc]
                    nodes_round(layout, data, c, parts, rush.RAMP_SECONDS, rush.ROUND_SECONDS)
                ),
            )
            figures = rush.summarise_round(records, hot, t0, t1, cpu, clients)
            booked = figures["post_status"]["302"]
            figures["web_nodes"] = nodes
            figures["cpu_ms_per_booking"] = per_booking(cpu, booked, figures["seconds"])
            figures["double_bookings_in_database"] = rush.double_bookings(data)
            figures["nothing_lost"] = nothing_lost(data, hot)
            per = figures["cpu_ms_per_booking"]
            log(
                f"  {figures['bookings_per_second']} bookings/s, POST p50 {figures['post_latency'].get('p50_ms')}"
                f" p99 {figures['post_latency'].get('p99_ms')} ms, {figures['post_status']};"
                f" ms CPU per booking: database {per.get('primary_backends')}, web {per.get('web_nodes')},"
                f" pgbouncer {per.get('pgbouncer')}; {figures['nothing_lost']}"
            )
            rounds.append(figures)
            rush.reset(data)
            connection.close()
    health = layout.wait_healthy(30)
    services = services_after(layout)
    comparison = []
    for clients in CLIENTS:
        one = next(r for r in rounds if r["clients"] == clients and r["web_nodes"] == 1)
        two = next(r for r in rounds if r["clients"] == clients and r["web_nodes"] == 2)

        def ratio(key: str, a: dict[str, Any] = one, b: dict[str, Any] = two) -> float | None:
            x, y = a["cpu_ms_per_booking"].get(key), b["cpu_ms_per_booking"].get(key)
            return round(y / x, 3) if x and y else None

        comparison.append(
            {
                "clients": clients,
                "bookings_per_second_one_node": one["bookings_per_second"],
                "bookings_per_second_two_nodes": two["bookings_per_second"],
                "throughput_two_over_one": round(two["bookings_per_second"] / one["bookings_per_second"], 3)
                if one["bookings_per_second"]
                else None,
                "database_cpu_ms_per_booking_one_node": one["cpu_ms_per_booking"]["primary_backends"],
                "database_cpu_ms_per_booking_two_nodes": two["cpu_ms_per_booking"]["primary_backends"],
                "database_cpu_per_booking_two_over_one": ratio("primary_backends"),
                "web_cpu_ms_per_booking_one_node": one["cpu_ms_per_booking"]["web_nodes"],
                "web_cpu_ms_per_booking_two_nodes": two["cpu_ms_per_booking"]["web_nodes"],
                "post_p99_ms_one_node": one["post_latency"].get("p99_ms"),
                "post_p99_ms_two_nodes": two["post_latency"].get("p99_ms"),
            }
        )
    doubles = sum(
        r["double_bookings_in_database"]["slots_with_two_bookings"]
        + r["double_bookings_in_database"]["slots_with_two_active"]
        + r["slots_booked_twice_seen_by_clients"]
        for r in rounds
    )
    lost = sum(r["nothing_lost"]["302_without_booking_row"] for r in rounds)
    at = comparison[-1]
    return {
        "what": "booking rush (bench/booking_rush.py's clients) through nginx to one and to two gunicorn web nodes, "
        "PgBouncer (transaction pooling) in front of a PostgreSQL primary with a streaming replica; CPU per "
        "booking from /proc",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "unit": "ms of database CPU per booking (two nodes / one node)",
        "value": at["database_cpu_ms_per_booking_two_nodes"],
        "baseline": at["database_cpu_ms_per_booking_one_node"],
        "ratio": at["database_cpu_per_booking_two_over_one"],
        "double_bookings": doubles,
        "lost_bookings": lost,
        "goal": {
            "database_cpu_per_booking_two_over_one_at_most": 1.2,
            "double_bookings": 0,
            "lost_bookings": 0,
            "met": doubles == 0
            and lost == 0
            and all((c["database_cpu_per_booking_two_over_one"] or 9) <= 1.2 for c in comparison),
        },
        "comparison": comparison,
        "rounds": rounds,
        "setup": {
            "web_nodes": "gunicorn, deploy/gunicorn.conf.py each: " + str(rush.gunicorn_settings()),
            "balancer": "nginx least_conn, keepalive 32, proxy_next_upstream error timeout (deploy/nodes/nginx.conf)",
            "pgbouncer": "transaction pooling, default_pool_size 16 (deploy/nodes/pgbouncer.ini)",
            "django": "VK_DB_POOLER=pgbouncer (no server-side cursors, no prepared statements), CONN_MAX_AGE 60",
            "task_workers": 2,
            "replica": "streaming, hot_standby_feedback; not read by the booking pages",
            "clients": CLIENTS,
            "hot_slots": rush.HOT_SLOTS,
            "round_seconds": rush.ROUND_SECONDS,
            "ramp_seconds": rush.RAMP_SECONDS,
            "load_generator": "asyncio (bench/rush_http.py) in this process, same machine",
        },
        "healthz_after": health,
        "services_after": services,
        "run_seconds": round(time.perf_counter() - began, 1),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
    }
