"""Residents waiting in drop-in video queues on one ASGI worker: 5,000 WebSockets, each told its
place every 5 s, and nurses taking callers, against a bare Channels echo consumer with the same
traffic measured in the same run (bench/waiting_room_echo.py).

- A throwaway PostgreSQL database (``vk_bench_waiting_room``): migrated, the demo region loaded,
  100 drop-in queues at Vårdcentralen Lindängen, each with the demo's 50 residents in it (5,000
  callers), a session per resident and a single-use ticket per caller, as the pages make them.
- The platform: ``uvicorn vardkontakt.asgi:application``, one process, the in-memory channel
  layer (one worker reaches all its sockets; ``VK_BENCH_LAYER=redis`` for production's layer of
  several processes), the file descriptors' limit raised. The baseline: the same uvicorn command with
  the echo application.
- This process opens the 5,000 sockets (through the origin check, the session, the ticket), then
  for ``MEASURE_SECONDS`` records each place message's delay (receipt − the server's send time,
  one clock), while a nurse's socket takes the next caller of a queue every half second; the
  admit-to-connected time is from the nurse's "take" to the caller's "taken".
- Goals: the place updates' p99 < 1 s and the take's p99 < 500 ms with 5,000 sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB = "vk_bench_waiting_room"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/7"
PER_QUEUE = 50
# 5,000 is the goal; VK_BENCH_SOCKETS scales the run down (a multiple of 50) on a machine too busy for it.
SOCKETS = int(os.environ.get("VK_BENCH_SOCKETS", "5000"))
QUEUES = SOCKETS // PER_QUEUE
MEASURE_SECONDS = int(os.environ.get("VK_BENCH_MEASURE_SECONDS", "40"))
TAKES = int(os.environ.get("VK_BENCH_TAKES", "60"))
UPDATE_SECONDS = 5
LAYER = os.environ.get("VK_BENCH_LAYER", "memory")


def raise_file_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "count": len(samples),
        "median_ms": round(statistics.median(samples), 1) if samples else float("nan"),
        "p99_ms": round(percentile(samples, 0.99), 1),
        "max_ms": round(max(samples), 1) if samples else float("nan"),
    }


@contextlib.contextmanager
def database() -> Iterator[str]:
    import psycopg

    admin = psycopg.connect(f"{PG}/postgres", autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {DB}")
    try:
        yield f"{PG}/{DB}"
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.close()


def prepare() -> dict[str, Any]:
    """The queues, the callers, their sessions and tickets, and a nurse's ticket per queue."""
    import io

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from tests.helpers import login_as  # what a completed OIDC login leaves in the session
    from vardkontakt.core.tokens import digest
    from vardkontakt.identity.models import Patient, Staff, User
    from vardkontakt.organisation.models import CareUnit
    from vardkontakt.video.models import DropInQueue, QueueCaller, RoomToken

    call_command("migrate", verbosity=0)
    call_command("load_demo", "--no-activity", verbosity=0, stdout=io.StringIO())
    unit = CareUnit.objects.get(name="Vårdcentralen Lindängen")
    nurse = Staff.objects.filter(memberships__unit=unit).order_by("hsa_id").first()
    assert nurse is not None
    residents = list(Patient.objects.order_by("personnummer")[:PER_QUEUE])
    now = timezone.now()

    def session_of(user: User) -> str:
        """A session in the server's own store (the database, or Redis with VK_BENCH_LAYER=redis,
        where the server has VK_REDIS_URL and so its sessions on Redis too)."""
        return str(login_as(Client(), user).cookies[settings.SESSION_COOKIE_NAME].value)

    users = {p.pk: User.objects.get_or_create_for_patient(p) for p in residents}
    cookies = {pk: session_of(user) for pk, user in users.items()}
    nurse_user = User.objects.get_or_create_for_staff(nurse)
    nurse_cookie = session_of(nurse_user)
    queues = DropInQueue.objects.bulk_create(
        DropInQueue(
            unit=unit, name=f"Drop-in {n}", opens_at=now, closes_at=now + dt.timedelta(hours=3), opened_by=nurse
        )
        for n in range(QUEUES)
    )
    callers = QueueCaller.objects.bulk_create(
        QueueCaller(queue=q, patient=p, joined_by=p, reason="Feber", waiting_since=now + dt.timedelta(milliseconds=i))
        for q in queues
        for i, p in enumerate(residents)
    )
    tickets, tokens = [], []
    expires = now + dt.timedelta(hours=1)
    for caller in callers:
        secret = secrets.token_urlsafe(32)
        tokens.append(
            RoomToken(digest=digest(secret), caller=caller, user=users[caller.patient_id], expires_at=expires)
        )
        tickets.append((str(caller.pk), secret, cookies[caller.patient_id], str(caller.queue_id)))
    # A nurse's socket per take (its page's ticket is single-use too), the takes going round the queues.
    staff_tickets: dict[str, list[str]] = {str(queue.pk): [] for queue in queues}
    for n in range(TAKES):
        queue = queues[n % len(queues)]
        secret = secrets.token_urlsafe(32)
        tokens.append(RoomToken(digest=digest(secret), queue=queue, user=nurse_user, expires_at=expires))
        staff_tickets[str(queue.pk)].append(secret)
    RoomToken.objects.bulk_create(tokens, batch_size=2000)
    return {"callers": tickets, "nurse_cookie": nurse_cookie, "staff_tickets": staff_tickets}


def serve(app: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning", "--ws-max-queue", "64", "--backlog", "8192"]
    # As the realtime service's workers (deploy/gunicorn.conf.py), for the baseline too.
    command += ["--ws-per-message-deflate", "false"]
    server = subprocess.Popen(command, env=env, cwd=ROOT, preexec_fn=raise_file_limit)
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"{app} did not start")


async def measure(
    base: str, sockets: list[tuple[str, str, str, str]], staff: dict[str, list[str]], nurse: str
) -> dict[str, Any]:
    import json

    import websockets

    places: list[float] = []
    takes: list[float] = []
    took_at: dict[str, float] = {}
    measuring = False
    connected = 0
    refused = 0
    failed = 0
    connects: list[float] = []
    heads: dict[str, list[str]] = {}

    async def caller(path: str, ticket: str, cookie: str, name: str) -> None:
        nonlocal connected, refused, failed
        headers = {"Origin": "http://127.0.0.1", "Cookie": f"vk_session={cookie}"}
        began = time.perf_counter()
        waiting = False
        try:
            async with websockets.connect(
                f"{base}{path}?ticket={ticket}", additional_headers=headers, open_timeout=120, ping_interval=None
            ) as socket_:
                async for raw in socket_:
                    now = time.time() * 1000
                    message = json.loads(raw)
                    if message["type"] == "place" and not waiting:
                        # Waiting: the socket is through the ticket and registered for its places
                        # (the handshake alone comes before the consumer's checks).
                        waiting = True
                        connected += 1
                        connects.append((time.perf_counter() - began) * 1000)
                    elif message["type"] == "place" and measuring:
                        places.append(now - message["at"])
                    elif message["type"] == "taken":
                        takes.append(now - took_at.pop(name, message["at"]))
                        return
        except websockets.ConnectionClosed as closed:
            if closed.rcvd and closed.rcvd.code == 1008:
                refused += 1
            elif not waiting:
                failed += 1
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            failed += 1

    tasks = []
    started = time.perf_counter()
    for caller_id, ticket, cookie, queue_id in sockets:
        path = f"/video/ws/caller/{caller_id}/" if staff else f"/echo/{caller_id}/"
        heads.setdefault(queue_id, []).append(caller_id)
        tasks.append(asyncio.create_task(caller(path, ticket, cookie, caller_id)))
        if len(tasks) % 250 == 0:
            await asyncio.sleep(0.2)  # a ramp, not a thundering herd at the accept queue
    while connected + refused + failed < len(sockets) and time.perf_counter() - started < 300:
        await asyncio.sleep(0.5)
    ramp = time.perf_counter() - started
    await asyncio.sleep(UPDATE_SECONDS + 1)
    measuring = True
    queue_ids = list(heads)
    end = time.perf_counter() + MEASURE_SECONDS
    takes_done = 0
    takes_failed = 0
    headers = {"Origin": "http://127.0.0.1", "Cookie": f"vk_session={nurse}"}
    for n in range(TAKES):
        if time.perf_counter() > end:
            break
        queue_id = queue_ids[n % len(queue_ids)]
        head = heads[queue_id].pop(0)
        if staff:
            url = f"{base}/video/ws/queue/{queue_id}/?ticket={staff[queue_id].pop(0)}"
        else:
            url = f"{base}/echo/nurse-{n}/"
        try:
            async with websockets.connect(
                url, additional_headers=headers, ping_interval=None, open_timeout=60
            ) as nurse_socket:
                if staff:
                    await asyncio.wait_for(nurse_socket.recv(), 30)  # the queue as it is
                took_at[head] = time.time() * 1000
                await nurse_socket.send(json.dumps({"type": "take", "to": head, "at": took_at[head]}))
                await asyncio.wait_for(nurse_socket.recv(), 30)
                takes_done += 1
        except (OSError, TimeoutError, websockets.ConnectionClosed, websockets.InvalidHandshake):
            takes_failed += 1  # counted, not fatal: a server too busy to answer is a result too
        await asyncio.sleep(max(0.0, MEASURE_SECONDS / TAKES - 0.05))
    while time.perf_counter() < end:
        await asyncio.sleep(0.5)
    measuring = False
    await asyncio.sleep(1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "connected": connected,
        "refused": refused,
        "failed": failed,
        "ramp_seconds": round(ramp, 1),
        "connect_to_first_place": summary(connects),
        "place_update_delay": summary(places),
        "take_to_taken": summary(takes),
        "takes": takes_done,
        "takes_failed": takes_failed,
    }


def run() -> dict[str, object]:
    import django

    hard = raise_file_limit()
    with database() as url:
        os.environ.update({"DATABASE_URL": url, "VK_DEMO": "true", "DJANGO_DEBUG": "false"})
        os.environ["VK_REDIS_URL"] = REDIS if LAYER == "redis" else ""
        os.environ["DJANGO_SETTINGS_MODULE"] = "vardkontakt.settings"
        django.setup()
        began = time.perf_counter()
        prepared = prepare()
        setup_seconds = round(time.perf_counter() - began, 1)
        from django.db import connections

        connections.close_all()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            # One worker: the in-memory channel layer reaches every socket; VK_BENCH_LAYER=redis
            # measures production's layer for several processes.
            "VK_REDIS_URL": REDIS if LAYER == "redis" else "",
            "VK_VIDEO_QUEUE_UPDATE_SECONDS": str(UPDATE_SECONDS),
            # As the realtime service's uvicorn workers (deploy/gunicorn.conf.py).
            "VK_DB_CONN_MAX_AGE": "0",
            "VK_DB_POOL_SIZE": os.environ.get("VK_BENCH_DB_POOL_SIZE", "10"),
            "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
        }
        results: dict[str, Any] = {}
        for label, app, staff in (
            ("echo", "bench.waiting_room_echo:application", {}),
            ("platform", "vardkontakt.asgi:application", prepared["staff_tickets"]),
        ):
            port = free_port()
            server = serve(app, env, port)
            try:
                print(f"{label}: opening {SOCKETS} sockets", file=sys.stderr, flush=True)
                results[label] = asyncio.run(
                    measure(f"ws://127.0.0.1:{port}", prepared["callers"], staff, prepared["nurse_cookie"])
                )
            finally:
                server.terminate()
                try:
                    server.wait(20)
                except subprocess.TimeoutExpired:  # thousands of sockets to close on a busy machine
                    server.kill()
                    server.wait(20)
            print(f"{label}: {results[label]}", file=sys.stderr, flush=True)
    platform, echo = results["platform"], results["echo"]
    return {
        "sockets": SOCKETS,
        "channel_layer": LAYER,
        "update_every_seconds": UPDATE_SECONDS,
        "measure_seconds": MEASURE_SECONDS,
        "file_limit": hard,
        "setup_seconds": setup_seconds,
        "load_average": os.getloadavg(),
        "platform": platform,
        "echo": echo,
        "ratios": {
            "place_update_p99": round(
                platform["place_update_delay"]["p99_ms"] / max(echo["place_update_delay"]["p99_ms"], 0.1), 2
            ),
            "take_p99": round(platform["take_to_taken"]["p99_ms"] / max(echo["take_to_taken"]["p99_ms"], 0.1), 2),
        },
        "goals": {
            "place_update_p99_under_1000_ms": platform["place_update_delay"]["p99_ms"] < 1000,
            "take_p99_under_500_ms": platform["take_to_taken"]["p99_ms"] < 500,
            "all_connected": platform["connected"] == SOCKETS,
        },
    }
