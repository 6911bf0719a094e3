"""Faults of the multi-node layout (issue #20 part 3, ``make faults``): web nodes killed, the
database restarted, Redis gone, each in the middle of residents booking and writing cases.

Not part of the normal suite: only with VK_FAULTS set. The layout (tests/faults/conftest.py) is
deploy/nodes' on a PostgreSQL cluster, PgBouncer, Redis and nginx of the test's own; the clients
(tests/faults/clients.py) retry as a browser would: the same form with the same key after a
connection error or a 502/503/504. In the order of the file (Redis last: its sessions go with it).

- **kill -9 of a web node**, FAULTS_WEB_KILLS times (default FAULTS_KILLS): a node's master and
  workers killed with SIGKILL a random moment into the rush while the other node answers,
  restarted by the test as systemd's Restart=always would; at the end every submission answered
  302 has exactly one row, and no submission has two (bookings by slot, cases by idempotency key).
- **PostgreSQL restart**, FAULTS_PG_RESTARTS times: the cluster stopped (fast) for
  FAULTS_PG_DOWN_SECONDS during the rush and started again: every answer meanwhile is the page's
  own or a 503 with Retry-After, never a 500 or a traceback; the first answer from the database
  comes within 5 s of the cluster accepting connections (measured and reported); nothing lost.
- **Redis down**: the degraded mode of docs/operations.md ("Redis down").
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bench.rush_http import Browser
from deploy.nodes.layout import Layout, _group_alive, _reap
from tests.faults.clients import (
    BOOKING_KEY,
    TOKEN,
    Seen,
    Slots,
    Submission,
    all_rows,
    assert_nothing_lost_nothing_twice,
    booking_client,
    case_client,
    nothing_lost_nothing_twice,
)
from tests.faults.conftest import NodesData

KILLS = int(os.environ.get("FAULTS_WEB_KILLS", os.environ.get("FAULTS_KILLS", "200")))
PG_RESTARTS = int(os.environ.get("FAULTS_PG_RESTARTS", "3"))
PG_DOWN_SECONDS = float(os.environ.get("FAULTS_PG_DOWN_SECONDS", "5"))
RECOVERY_LIMIT = 5.0  # seconds: the guarantee
BOOKING_CLIENTS = 8
CASE_CLIENTS = 4

pytestmark = [pytest.mark.skipif(not os.environ.get("VK_FAULTS"), reason="fault injection: make faults")]


def _report(name: str, summary: dict[str, Any]) -> None:
    print(f"\nFAULTS {name}: " + json.dumps(summary))
    directory = os.environ.get("FAULTS_REPORT_DIR")
    if directory:
        Path(directory).joinpath(f"faults-{name.replace(' ', '-')}.json").write_text(json.dumps(summary, indent=1))


def _answers(port: int, timeout: float = 60) -> None:
    """Until the node answers /healthz (a restarted gunicorn takes seconds to import Django)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # answering (503: unhealthy, e.g. no worker heartbeat here), which is enough
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError(f"the node on {port} did not come back within {timeout:.0f} s")


def _kill_9(layout: Layout, name: str) -> None:
    pid = layout.services[name].pid
    assert pid is not None
    layout.kill(name, signal.SIGKILL)
    while _group_alive(pid):
        _reap(pid)
        time.sleep(0.01)


@pytest.fixture(scope="module")
def slots(nodes: tuple[Layout, NodesData]) -> Slots:
    return Slots(nodes[1].pool)


def _rush(layout: Layout, data: NodesData, slots: Slots, fault: Any) -> tuple[dict[str, Any], Seen, Any]:
    """Clients booking and writing cases until ``fault`` (a coroutine) is over; then each finishes
    the submission it is in. The database against their answers (nothing_lost_nothing_twice)."""
    where = {"port": layout.ports["primary"], "database": layout.database}
    ids = {"visit_type_id": data.visit_type_id, "service_id": data.service_id}
    before = all_rows(**where, **ids)  # type: ignore[arg-type]
    submissions, seen, result = asyncio.run(_clients(layout, data, slots, fault))
    return nothing_lost_nothing_twice(submissions, **where, **ids, before=before), seen, result  # type: ignore[arg-type]


async def _clients(layout: Layout, data: NodesData, slots: Slots, fault: Any) -> tuple[list[Submission], Seen, Any]:
    base = layout.url
    stop = asyncio.Event()
    seen = Seen()
    browsers = [Browser("127.0.0.1", layout.ports["nginx"], {"vk_session": s}) for s in data.sessions]
    booking = [booking_client(i, browsers[i], base, data.unit_id, slots, stop, seen) for i in range(BOOKING_CLIENTS)]
    cases = [
        case_client(i, browsers[BOOKING_CLIENTS + i], base, data.unit_id, data.service_id, stop, seen)
        for i in range(CASE_CLIENTS)
    ]

    async def run_fault() -> Any:
        try:
            return await fault
        finally:
            stop.set()

    results = await asyncio.gather(run_fault(), *booking, *cases)
    for browser in browsers:
        browser.close()
    return [s for found in results[1:] for s in found], seen, results[0]


def test_kill_9_of_web_nodes_mid_rush_loses_no_booking_or_case_and_makes_none_twice(nodes, slots):
    layout, data = nodes
    rng = random.Random(2020)  # noqa: S311 (timing, not secrets)
    began = time.monotonic()

    async def killing() -> dict[str, Any]:
        """Each node on its own: a random 0.2-2 s after it answers (into the requests in flight),
        kill -9 of its master and workers, then started again at once (systemd's Restart=always).
        A node is killed only while the other one answers: a region loses a node, not all of them
        (a run that killed them independently left both down most of the time on this machine,
        and clients gave up after two minutes of 502s; docs/operations.md)."""
        kills: list[str] = []
        restart_seconds: list[float] = []
        up = {"web1": asyncio.Event(), "web2": asyncio.Event()}
        for event in up.values():
            event.set()

        async def node(name: str, rng: random.Random) -> None:
            other = "web2" if name == "web1" else "web1"
            while len(kills) < KILLS:
                await asyncio.sleep(rng.uniform(0.2, 2.0))
                await up[other].wait()
                if len(kills) >= KILLS:
                    return
                up[name].clear()
                kills.append(name)
                await asyncio.to_thread(_kill_9, layout, name)
                started = time.monotonic()
                layout.start(name)
                await asyncio.to_thread(_answers, layout.ports[name])
                restart_seconds.append(time.monotonic() - started)
                up[name].set()

        one, two = random.Random(rng.random()), random.Random(rng.random())  # noqa: S311 (timing, not secrets)
        await asyncio.gather(node("web1", one), node("web2", two))
        return {
            "kills": len(kills),
            "kills_per_node": dict(collections.Counter(kills)),
            "restart_seconds_median": round(sorted(restart_seconds)[len(restart_seconds) // 2], 1),
            "restart_seconds_max": round(max(restart_seconds, default=0), 1),
        }

    rows, seen, kills = _rush(layout, data, slots, killing())
    summary = {
        **kills,
        "seconds": round(time.monotonic() - began, 1),
        **rows,
        "answers": dict(seen.statuses),
        "server_errors": len(seen.server_errors),
    }
    _report("web node kill", summary)
    assert kills["kills"] == KILLS
    assert_nothing_lost_nothing_twice(summary)
    # The kills hit requests in flight: some answers were lost and sent again.
    assert summary["booking_submissions_retried"] + summary["case_submissions_retried"] > 0 or KILLS < 20
    assert not seen.server_errors, seen.server_errors[:3]


async def _probe(
    port: int,
    session: str,
    path: str,
    until: asyncio.Event,
    log: list[tuple[float, int | str, str, bool]],
    odd: list[str],
) -> None:
    """Residents reloading a page that reads the database: a request every 50 ms, each on a
    connection of its own and not waiting for the one before, (when answered, status,
    Retry-After, a traceback in the body). A request can wait inside PgBouncer through a short
    restart and be answered 200 after it; one probe waiting on its answers alone then saw nothing
    of the restart (2026-12-07: no answer at all in the window in 4 of 6 restarts), these see
    the answers everyone else gets meanwhile."""

    async def reload() -> None:
        browser = Browser("127.0.0.1", port, {"vk_session": session})
        try:
            answer = await browser.request("GET", path, timeout=15)
            log.append((time.monotonic(), answer.status, answer.header("retry-after"), b"Traceback" in answer.body))
            if answer.status not in (200, 503):
                odd.append(f"{answer.status}: {answer.body[:2000].decode(errors='replace')}")
        except Exception as error:
            log.append((time.monotonic(), error.__class__.__name__, "", False))
        finally:
            browser.close()

    pending: set[asyncio.Task[None]] = set()
    while not until.is_set():
        if len(pending) < 20:
            task = asyncio.create_task(reload())
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.sleep(0.05)
    await asyncio.gather(*pending)


def test_postgresql_restart_mid_rush_answers_503_with_retry_after_and_recovers_within_5_s(nodes, slots):
    layout, data = nodes
    primary = layout.primary()
    began = time.monotonic()

    async def restarting() -> dict[str, Any]:
        restarts: list[dict[str, Any]] = []
        for _ in range(PG_RESTARTS):
            await asyncio.sleep(2.0)  # the rush under way
            done = asyncio.Event()
            log: list[tuple[float, int | str, str, bool]] = []
            odd: list[str] = []  # the bodies of answers other than 200 and 503, for the report
            probing = asyncio.create_task(_probe(layout.ports["nginx"], data.sessions[-1], "/cases/", done, log, odd))
            await asyncio.sleep(0.5)
            stopped_at = time.monotonic()
            await asyncio.to_thread(primary.stop, "fast")
            down_at = time.monotonic()
            await asyncio.sleep(PG_DOWN_SECONDS)
            await asyncio.to_thread(primary.start)  # pg_ctl -w: returns once it accepts connections
            back_at = time.monotonic()
            deadline = back_at + 30
            while time.monotonic() < deadline and not any(t > back_at and s == 200 for t, s, _, _ in log):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            done.set()
            await probing
            first = next((t for t, s, _, _ in log if t > back_at and s == 200), None)
            while_down = [entry for entry in log if down_at <= entry[0] <= back_at]
            restarts.append(
                {
                    "stop_seconds": round(down_at - stopped_at, 2),
                    "down_seconds": round(back_at - down_at, 2),
                    "recovery_seconds": None if first is None else round(first - back_at, 2),
                    "probe_answers_while_down": dict(
                        collections.Counter(f"{s} Retry-After {r or '-'}" for _, s, r, _ in while_down)
                    ),
                    "probe_tracebacks": len([entry for entry in log if entry[3]]),
                    "probe_other_than_200_or_503": sorted({str(s) for _, s, _, _ in log if s not in (200, 503)}),
                    "probe_other_bodies": odd[:3],
                }
            )
        return {"restarts": restarts}

    rows, seen, figures = _rush(layout, data, slots, restarting())
    summary = {
        **figures,
        "recovery_seconds_max": max(float(r["recovery_seconds"] or 99) for r in figures["restarts"]),
        "seconds": round(time.monotonic() - began, 1),
        **rows,
        "answers": dict(seen.statuses),
        "answers_503_without_retry_after": seen.without_retry_after,
        "bodies_with_traceback": seen.bodies_with_traceback,
    }
    _report("postgresql restart", summary)
    # While it was down the page answered 503 with Retry-After, and nothing else (or 200: a request
    # that waited inside PgBouncer through a short restart is answered after it), in every restart.
    for restart in figures["restarts"]:
        assert any(k.startswith("503") for k in restart["probe_answers_while_down"]), restart
        assert all(k.startswith(("503 Retry-After 5", "200")) for k in restart["probe_answers_while_down"]), restart
        assert restart["probe_tracebacks"] == 0 and not restart["probe_other_than_200_or_503"], restart
        assert restart["recovery_seconds"] is not None and restart["recovery_seconds"] <= RECOVERY_LIMIT, restart
    assert not seen.server_errors, seen.server_errors[:3]
    assert seen.bodies_with_traceback == 0 and seen.without_retry_after == 0
    assert_nothing_lost_nothing_twice(summary)


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def test_redis_down_closes_logins_and_pages_that_need_one_with_503_keeps_the_public_ones_and_recovers(nodes, slots):
    """The degraded mode of docs/operations.md ("Redis down"), through nginx on both nodes."""
    layout, data = nodes
    webs = {name: layout.pids(name) for name in ("web1", "web2")}
    slot = slots.take()
    assert slot is not None
    path = f"/bookings/book/{data.unit_id}/slot/{slot}/"
    headers = {"Origin": layout.url, "Referer": layout.url + path}

    async def scenario() -> dict[str, Any]:
        resident = Browser("127.0.0.1", layout.ports["nginx"], {"vk_session": data.sessions[0]})
        visitor = Browser("127.0.0.1", layout.ports["nginx"])
        page = await resident.request("GET", path)
        assert page.status == 200
        token, key = TOKEN.search(page.body), BOOKING_KEY.search(page.body)
        assert token and key
        form = {"csrfmiddlewaretoken": token[1].decode(), "submission_key": key[1].decode()}
        await asyncio.to_thread(_kill_9, layout, "redis")
        down = {
            "patient_page": await resident.request("GET", "/cases/"),
            "booking_post": await resident.request("POST", path, form=form, headers=headers),
            "login": await visitor.request("GET", "/login/resident/"),
            "public_start_page": await visitor.request("GET", "/"),
            "healthz": await visitor.request("GET", "/healthz"),
        }
        layout.start("redis")  # the same port, empty (no persistence in the layout)
        await asyncio.to_thread(_wait_port, layout.ports["redis"])
        back_at = time.monotonic()
        up = {
            "patient_page": await resident.request("GET", "/cases/"),
            "login": await visitor.request("GET", "/login/resident/"),
            "healthz": await visitor.request("GET", "/healthz"),
        }
        seconds = time.monotonic() - back_at
        resident.close()
        visitor.close()
        return {"down": down, "up": up, "seconds_to_answer_after": seconds}

    found = asyncio.run(scenario())
    down, up = found["down"], found["up"]
    booked = all_rows(layout.ports["primary"], layout.database, data.visit_type_id, data.service_id)[0]
    summary = {
        "while_down": {
            name: f"{answer.status} Retry-After {answer.header('retry-after') or '-'}" for name, answer in down.items()
        },
        "healthz_while_down": json.loads(down["healthz"].body)["checks"].get("redis"),
        "after": {name: f"{answer.status} {answer.header('location')}".strip() for name, answer in up.items()},
        "healthz_after": json.loads(up["healthz"].body)["checks"].get("redis"),
        "web_node_processes_unchanged": webs == {name: layout.pids(name) for name in ("web1", "web2")},
        "booking_rows_for_the_refused_post": sum(1 for row in booked if row[0] == slot),
    }
    _report("redis down", summary)
    for name in ("patient_page", "booking_post", "login"):
        answer = down[name]
        assert answer.status == 503 and answer.header("retry-after") == "5", (name, answer.status, answer.body[:300])
        assert "Tjänsten är tillfälligt otillgänglig".encode() in answer.body and b"Traceback" not in answer.body
    assert summary["booking_rows_for_the_refused_post"] == 0
    assert down["public_start_page"].status == 200
    assert down["healthz"].status == 200 and summary["healthz_while_down"].startswith("down")
    # Back without a restart of anything but Redis: the sessions it held are gone (log in again).
    assert up["patient_page"].status == 302 and "/login/" in up["patient_page"].header("location")
    assert up["login"].status == 302
    assert summary["healthz_after"] == "ok"
    assert summary["web_node_processes_unchanged"]
