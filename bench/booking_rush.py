"""The booking rush: residents booking over HTTP into a few hot slots, against bare SQL.

In one throwaway PostgreSQL database (``vk_bench_booking_rush`` on 127.0.0.1:5432, or
``BENCH_DB_NAME``: created, migrated, given the demo region with ``load_demo --no-activity``,
dropped at the end), with sessions and the cache on Redis as in a multi-node installation
(``BENCH_REDIS_URL``, default redis://127.0.0.1:6379/0, under a key prefix of the run's own,
removed at the end; ``BENCH_REDIS=0``: database sessions and each process's own cache):

- A unit publishes a visit type online, with a pool of future slots (8 nurses, 10-minute slots
  on weekdays from three days ahead); there are 400 bench residents, each logged in with a
  session made directly in the session store (what a completed OIDC login leaves there). The
  unit has a past: 30,000 bookings of another visit type on the weekdays before today
  (``BENCH_HISTORY_BOOKINGS``), since PostgreSQL plans by what its tables hold.
- The project runs behind gunicorn (``deploy/gunicorn.conf.py``: gthread workers, the
  waiting-room gate), DEBUG off, VK_DEMO on (the most production-like the demo IdP allows),
  persistent database connections with health checks (``conn_max_age=60``).
- **Subject.** For N = 8 … 128 clients, each a browser with its own keep-alive connection, zero
  think time, each attempt a resident's (the clients take the residents in turn): pick a slot among the K earliest the client believes free (the
  *hot slots*: everybody wants the first times; what clients learn from 302 and 409 answers is
  shared, like a list of free times that is always up to date), GET its confirmation page, POST
  it (CSRF token and the page's submission key). A 503 is retried after its Retry-After. A
  ramp, then a measured window; per N: bookings/s (302), attempts/s (POSTs answered), p50/p99
  of the POST, status counts, CPU of the load generator, the server and PostgreSQL. The slots
  are reset between rounds. Afterwards the database is searched for double bookings.
- **Baseline.** The bare SQL booking transaction (``bench/booking_rush.sql``: BEGIN; SELECT …
  FOR UPDATE; UPDATE; INSERT; COMMIT) through pgbench, with the same client counts, on the
  same K hot slots of the same database, right after the app's round with the same N (so other
  work on the machine weighs on both alike); clients are capped by the connections PostgreSQL
  has free. Then the same script with the lock footprint of booking_create_online (the slot's unit and
  visit type locked too), as evidence for a proposal.
- **Overload.** An open-loop stream at 10 × the booking answers (302 + 409) per second the best
  round sustained, half booking POSTs and half confirmation pages: every answer must be the
  booking's or the page's (302/409, 200/409) or 503 with Retry-After (the waiting room);
  anything else, and any request not answered within the client timeout, is a failure.
- **Query and cost profile.** In process with Django's test client: the SQL of a confirmation
  page, a booking and a refused booking; the median time of each, and of a bare logged-in
  request and a bare page (``bench/booking_rush_urls.py``), to show where the time goes.
- **CPU.** Per round, the CPU of the load generator (this process), the gunicorn processes, the
  database's backends and the whole machine (from /proc); "other" is work of others on the
  machine. The ratio is also given per CPU second, which that work disturbs much less.
- **Cost per booking** (issue 20). Per round, PostgreSQL's CPU per booking ÷ its CPU per bare SQL
  transaction in the pgbench run at the same N (goal ≤ 2), and the server's CPU per booking ÷
  the naive view's in a round at the same N right after the app's (goal ≤ 2); confirmation
  pages, refusals and 503s are part of a booking's cost.

The load generator runs in this process on the same two CPUs as the server and PostgreSQL; its
CPU is measured and reported with the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import itertools
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rush_http import Browser, HttpError  # noqa: E402

# Two copies of the benchmark may run on one PostgreSQL server (two checkouts, or the multi-node
# variant): each its own database (BENCH_DB_NAME), since the CPU of backends is told apart by it.
DB_NAME = os.environ.get("BENCH_DB_NAME", "vk_bench_booking_rush")
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


def _env_ints(name: str, default: list[int]) -> list[int]:
    raw = os.environ.get(name, "")
    return [int(x) for x in raw.split(",") if x.strip()] if raw else default


CLIENTS = _env_ints("BENCH_CLIENTS", [8, 16, 32, 64, 128])
HOT_SLOTS = int(os.environ.get("BENCH_HOT_SLOTS", "64"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "10"))
RAMP_SECONDS = float(os.environ.get("BENCH_RAMP_SECONDS", "2"))
SQL_SECONDS = int(os.environ.get("BENCH_SQL_SECONDS", "10"))
RUN_SQL = os.environ.get("BENCH_SQL", "1") != "0"
PROFILE_ONLY = os.environ.get("BENCH_PROFILE_ONLY", "0") == "1"
LOCKS_SECONDS = int(os.environ.get("BENCH_LOCKS_SECONDS", "5"))
OVERLOAD_SECONDS = float(os.environ.get("BENCH_OVERLOAD_SECONDS", "10"))
OVERLOAD_FACTOR = 10
CLIENT_TIMEOUT = 10.0  # seconds; an answer later than this is a hang
RESIDENTS = 400
NURSES = 8
POOL_SLOTS = 6000
# The unit's past: bookings of an earlier visit type on the weekdays before today (a unit's four
# months). A region's booking table is never empty, and PostgreSQL plans by what it holds: on an
# empty one (the pool's bookings are deleted before each round) it chose sequential scans, and
# each connection kept them in its prepared statements as the round's bookings came in.
HISTORY_BOOKINGS = int(os.environ.get("BENCH_HISTORY_BOOKINGS", "30000"))
SMS_SHARE = 0.5  # the share of attempts that ask for an SMS reminder
GOAL_RATIO, GOAL_P99_MS, GOAL_AT = 0.30, 250.0, 64
# Issue 20: PostgreSQL CPU per booking at most 2 x per bare SQL transaction; server CPU per booking
# at most 2 x the naive view's.
GOAL_DB_COST, GOAL_WEB_COST = 2.0, 2.0
SEED = 20261126
VISIT_TYPE = "Influensavaccination (bänk)"

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(rb'name="submission_key" value="([^"]+)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the throwaway database ------------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database, dropped afterwards. The benchmark needs PostgreSQL (row locks,
    pgbench): without it, it stops with a message."""
    import psycopg
    from psycopg import sql

    try:
        admin = psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as error:
        raise SystemExit(f"booking_rush needs PostgreSQL on {PG_HOST}:{PG_PORT}: {error}") from None
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
    with admin:
        version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
        url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"
        os.environ["DATABASE_URL"] = url
        try:
            yield {"engine": "postgresql", "version": version, "name": DB_NAME, "host": f"{PG_HOST}:{PG_PORT}"}
        finally:
            from django.db import connections

            connections.close_all()
            admin.execute(drop)


def session_store() -> Any:
    """The configured session store's class (the database's, or Redis's with VK_REDIS_URL)."""
    from importlib import import_module

    from django.conf import settings

    return import_module(settings.SESSION_ENGINE).SessionStore


def redis_setup() -> dict[str, str]:
    """Sessions and cache on Redis, as in a multi-node installation (BENCH_REDIS_URL; BENCH_REDIS=0:
    database sessions and the in-process cache), under a key prefix of this run's own."""
    if os.environ.get("BENCH_REDIS", "1") == "0":
        return {"sessions": "database", "cache": "local memory"}
    import redis

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        raise SystemExit(f"booking_rush wants Redis at {url} (BENCH_REDIS=0 runs without): {error}") from None
    os.environ["VK_REDIS_URL"] = url
    os.environ["VK_CACHE_KEY_PREFIX"] = f"bench-{DB_NAME}-{os.getpid()}"
    return {"sessions": "redis", "cache": "redis", "url": url, "key_prefix": os.environ["VK_CACHE_KEY_PREFIX"]}


def redis_cleanup() -> None:
    prefix = os.environ.get("VK_CACHE_KEY_PREFIX", "")
    if not prefix.startswith("bench-"):
        return
    import redis

    client = redis.Redis.from_url(os.environ["VK_REDIS_URL"])
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def django_setup(var: str) -> None:
    import django

    os.environ["VK_VAR_DIR"] = var
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["VK_DEMO"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "vardkontakt.settings"
    django.setup()


# --- the bench data ------------------------------------------------------------------------------


@dataclass
class Resident:
    personnummer: str
    session: str  # the session cookie's value


@dataclass
class Data:
    unit_id: str
    visit_type_id: str
    pool: list[str]  # slot ids, earliest first
    residents: list[Resident]


def weekdays_from(start: dt.date, step: int = 1) -> Iterator[dt.date]:
    """Weekdays from ``start`` on (``step=-1``: backwards)."""
    day = start
    while True:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=step)


def ten_minute_slots(
    unit: Any, nurses: list[Any], visit_type: Any, days: Iterator[dt.date], place: str, count: int
) -> list[Any]:
    """``count`` 10-minute slots of the nurses, 08-16 on ``days`` in turn, made in the database."""
    from vardkontakt.booking.models import Slot
    from vardkontakt.booking.schedule import local_instant

    slots: list[Slot] = []
    while len(slots) < count:
        day = next(days)
        for minute in range(8 * 60, 16 * 60, 10):
            start = local_instant(day, dt.time(minute // 60, minute % 60))
            slots.extend(
                Slot(
                    unit=unit,
                    practitioner=nurse,
                    visit_type=visit_type,
                    place=place,
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=10),
                )
                for nurse in nurses
            )
    slots = slots[:count]
    Slot.objects.bulk_create(slots, batch_size=2000)
    return slots


def make_history(unit: Any, nurses: list[Any], taken: set[str]) -> int:
    """HISTORY_BOOKINGS past bookings at the unit, of a visit type of their own (so that reset()
    leaves them): every ten-minute slot of the nurses on the weekdays before today, each booked a
    week ahead, online by the resident or by phone by the nurse, one in ten cancelled; about five
    per person, for residents of their own (``taken``: personnummer in use, added to)."""
    from django.utils import timezone

    from vardkontakt.booking.models import Booking, BookingChannel, BookingStatus, VisitType
    from vardkontakt.demo import demo_data
    from vardkontakt.identity.models import Patient, Profession

    patients: list[Patient] = []
    index = 0
    while len(patients) < max(1, HISTORY_BOOKINGS // 5):
        birth = dt.date(1935 + index % 85, 1 + (index * 7) % 12, 1 + (index * 13) % 28)
        number = demo_data.personnummer(birth, 100 + (index // 2380) % 600)
        index += 1
        if number in taken:
            continue
        taken.add(number)
        i = len(patients)
        patients.append(
            Patient(
                personnummer=number,
                given_name=demo_data.GIVEN_NAMES[(i * 3 + 1) % len(demo_data.GIVEN_NAMES)],
                family_name=demo_data.FAMILY_NAMES[(i * 7 + 4) % len(demo_data.FAMILY_NAMES)],
            )
        )
    Patient.objects.bulk_create(patients, batch_size=2000)

    visit_type = VisitType.objects.create(
        unit=unit, name="Mottagningsbesök (bänk, tidigare)", duration_minutes=10, professions=[Profession.NURSE]
    )
    days = weekdays_from(timezone.localdate() - dt.timedelta(days=1), step=-1)
    slots = ten_minute_slots(unit, nurses, visit_type, days, "Mottagningen", HISTORY_BOOKINGS)
    bookings = []
    for index, slot in enumerate(slots):
        patient, online = patients[index % len(patients)], index % 2 == 0
        booked = slot.starts_at - dt.timedelta(days=7)
        bookings.append(
            Booking(
                slot=slot,
                patient=patient,
                channel=BookingChannel.ONLINE if online else BookingChannel.PHONE,
                booked_by_patient=patient if online else None,
                booked_by_staff=None if online else slot.practitioner,
                status=BookingStatus.CANCELLED if index % 10 == 9 else BookingStatus.ACTIVE,
                created_at=booked,
                ended_at=booked + dt.timedelta(days=2) if index % 10 == 9 else None,
            )
        )
    Booking.objects.bulk_create(bookings, batch_size=2000)
    return len(bookings)


def make_data() -> Data:
    from django.test import Client
    from django.utils import timezone

    from tests.helpers import login_as
    from vardkontakt.booking.models import BookingSettings, VisitType
    from vardkontakt.demo import demo_data
    from vardkontakt.identity.models import Patient, Profession, Staff, User
    from vardkontakt.organisation.models import CareUnit, Membership

    unit = CareUnit.objects.get(hsa_id=demo_data.unit_hsa_id(demo_data.UNITS[0].code))
    # Each bench resident books several times in a round: the unit's limit of coming web bookings
    # per visit type and person (1 by default) would refuse every booking after a resident's first.
    BookingSettings.objects.update_or_create(
        unit=unit,
        defaults={
            "terms_text": "Vaccinationen är kostnadsfri för dig som fyllt 65 år.",
            # Each bench resident books again (a rush of many people, played by 400): the unit's
            # limit of coming web bookings per person would refuse the second (400).
            "online_bookings_per_visit_type": 10_000,
        },
    )
    visit_type = VisitType.objects.create(
        unit=unit,
        name=VISIT_TYPE,
        duration_minutes=10,
        professions=[Profession.NURSE],
        bookable_online=True,
        rebookable_online=True,
    )
    nurses = []
    for index in range(NURSES):
        nurse = Staff.objects.create(
            hsa_id=demo_data.staff_hsa_id(900 + index),
            given_name=demo_data.GIVEN_NAMES[(index * 5 + 3) % len(demo_data.GIVEN_NAMES)],
            family_name=demo_data.FAMILY_NAMES[(index * 3 + 1) % len(demo_data.FAMILY_NAMES)],
            profession=Profession.NURSE,
        )
        Membership.objects.create(staff=nurse, unit=unit)
        nurses.append(nurse)
    days = weekdays_from(timezone.localdate() + dt.timedelta(days=3))
    slots = ten_minute_slots(unit, nurses, visit_type, days, "Vaccinationsmottagningen", POOL_SLOTS)
    pool = [str(s.pk) for s in sorted(slots, key=lambda s: (s.starts_at, s.practitioner.hsa_id))]

    taken = set(Patient.objects.values_list("personnummer", flat=True))
    residents: list[Resident] = []
    index = 0
    while len(residents) < RESIDENTS:
        birth = dt.date(1945 + index % 55, 1 + (index * 5) % 12, 1 + (index * 11) % 28)
        number = demo_data.personnummer(birth, 700 + index % 250)
        index += 1
        if number in taken:
            continue
        taken.add(number)
        i = len(residents)
        patient = Patient.objects.create(
            personnummer=number,
            given_name=demo_data.GIVEN_NAMES[(i * 7 + 2) % len(demo_data.GIVEN_NAMES)],
            family_name=demo_data.FAMILY_NAMES[(i * 11 + 5) % len(demo_data.FAMILY_NAMES)],
            email=f"boende{i}@vardkontakt.example",
            notify_by_email=True,
            mobile=f"+4670{1000000 + i:07d}",
            notify_by_sms=i % 2 == 0,
        )
        user = User.objects.get_or_create_for_patient(patient)
        client = Client(HTTP_HOST="127.0.0.1")  # the settings allow 127.0.0.1, not "testserver"
        login_as(client, user)
        key = client.cookies["vk_session"].value
        assert session_store()(session_key=key).exists(key)
        residents.append(Resident(number, key))
    make_history(unit, nurses, taken)
    return Data(str(unit.pk), str(visit_type.pk), pool, residents)


def reset(data: Data) -> None:
    """The pool as it was: no bookings, no booking notices or their queued deliveries; statistics
    and visibility fresh, so every round starts from the same state."""
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from vardkontakt.booking.models import Booking
    from vardkontakt.notifications.models import Notification, NotificationKind

    with transaction.atomic():
        Booking.objects.filter(slot__visit_type_id=uuid.UUID(data.visit_type_id)).delete()
        Notification.objects.filter(kind=NotificationKind.BOOKING_CONFIRMED).delete()
        # Not a task a worker is running (booking_rush_nodes runs two): its worker would fail to
        # record the result of a row that is gone, and django-tasks-db's loop ends on that error.
        # The running task finds its deliveries gone and ends without sending.
        DBTaskResult.objects.filter(task_path__startswith="vardkontakt.notifications.tasks.deliver").exclude(
            status="RUNNING"
        ).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def double_bookings(data: Data) -> dict[str, int]:
    """Slots with more than one active booking (the constraint should make this impossible), and
    slots with more than one booking of any status (nothing in a round cancels, so a second
    booking row for a slot is a double booking that a cancellation could have hidden)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT slot_id FROM booking_booking WHERE status = 'active' AND NOT overbooked"
            " GROUP BY slot_id HAVING count(*) > 1) AS twice"
        )
        active = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT count(*) FROM (SELECT b.slot_id FROM booking_booking b JOIN booking_slot s ON s.id = b.slot_id"
            " WHERE s.visit_type_id = %s GROUP BY b.slot_id HAVING count(*) > 1) AS twice",
            [data.visit_type_id],
        )
        rows = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT count(*) FROM booking_booking b JOIN booking_slot s ON s.id = b.slot_id WHERE s.visit_type_id = %s",
            [data.visit_type_id],
        )
        bookings = int(cursor.fetchone()[0])
    return {"slots_with_two_active": active, "slots_with_two_bookings": rows, "booking_rows": bookings}


# --- the query profile ---------------------------------------------------------------------------


def query_profile(data: Data) -> dict[str, Any]:
    """The SQL of one confirmation page, one booking and one refused booking (slot taken)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from vardkontakt.identity.middleware import AUTH_AT, SEEN_AT

    def client_for(resident: Resident) -> Client:
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies["vk_session"] = resident.session
        return client

    def capture(action: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            answer = action()
            seconds = time.perf_counter() - began
        captured = queries.captured_queries
        return answer, {
            "status": answer.status_code,
            "queries": len(captured),
            "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 2),
            "wall_ms": round(seconds * 1000, 2),
            # Each statement with its time as the client saw it (round trip included), in ms.
            "statements": [[round(float(q["time"]) * 1000, 2), shorten(q["sql"])] for q in captured],
        }

    first, second = data.residents[0], data.residents[1]
    path = f"/bookings/book/{data.unit_id}/slot/{data.pool[-1]}/"
    a, b = client_for(first), client_for(second)
    for client in (a, b):  # warm: templates, URL resolver, translations
        client.get(path)
    page, get_profile = capture(lambda: a.get(path))
    token = TOKEN.search(page.content)[1].decode()  # type: ignore[index]
    key = KEY.search(page.content)[1].decode()  # type: ignore[index]
    page_b = b.get(path)
    token_b = TOKEN.search(page_b.content)[1].decode()  # type: ignore[index]
    form = {"csrfmiddlewaretoken": token, "submission_key": key, "sms_reminder": "on"}
    _, booked = capture(lambda: a.post(path, form))
    form_b = {"csrfmiddlewaretoken": token_b, "submission_key": uuid.uuid4().hex}
    _, taken = capture(lambda: b.post(path, form_b))
    assert booked["status"] == 302 and taken["status"] == 409, (booked["status"], taken["status"])
    # The sessions are used again later; their idle clock starts now.
    for resident in (first, second):
        store = session_store()(session_key=resident.session)
        store[SEEN_AT] = store[AUTH_AT] = int(time.time())
        store.save()
    breakdown = cost_breakdown(data, client_for(data.residents[2]), client_for(data.residents[3]))
    return {
        "cost_breakdown": breakdown,
        "confirm_page_get": get_profile,
        "post_booked": booked,
        "post_taken": taken,
    }


def cost_breakdown(data: Data, a: Any, b: Any) -> dict[str, Any]:
    """Median wall time of each kind of request, one at a time in this process (Django's test
    client, DEBUG off), with its query count: where a booking's time goes, layer by layer."""
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    repeat = 40
    slots = iter(data.pool[-400:-1])

    def timed(label: str, action: Callable[[], Any], expect: int) -> dict[str, Any]:
        samples, queries = [], 0
        for index in range(repeat + 3):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                answer = action()
                spent = time.perf_counter() - began
            assert answer.status_code == expect, (label, answer.status_code)
            if index >= 3:
                samples.append(spent)
                queries = len(captured.captured_queries)
        return {"median_ms": round(percentile(sorted(samples), 0.5) * 1000, 2), "queries": queries}

    def confirm() -> Any:
        return a.get(f"/bookings/book/{data.unit_id}/slot/{next(slots)}/")

    def book() -> Any:
        path = f"/bookings/book/{data.unit_id}/slot/{next(slots)}/"
        token = TOKEN.search(a.get(path).content)[1].decode()  # type: ignore[index]
        return a.post(path, {"csrfmiddlewaretoken": token, "submission_key": uuid.uuid4().hex})

    taken_path = f"/bookings/book/{data.unit_id}/slot/{data.pool[-1]}/"  # booked by query_profile
    page_b = b.get(f"/bookings/book/{data.unit_id}/slot/{data.pool[-2]}/")
    token_b = TOKEN.search(page_b.content)[1].decode()  # type: ignore[index]

    def taken() -> Any:
        return b.post(taken_path, {"csrfmiddlewaretoken": token_b, "submission_key": uuid.uuid4().hex[:20]})

    with override_settings(ROOT_URLCONF="bench.booking_rush_urls"):
        figures = {
            "floor_logged_in_request": timed("floor", lambda: a.get("/bench/floor/"), 200),
            "page_with_base_template": timed("page", lambda: a.get("/bench/page/"), 200),
            "confirm_page_get": timed("confirm", confirm, 200),
            "post_booked_including_its_get": timed("book", book, 302),
            "post_taken": timed("taken", taken, 409),
        }
    figures["post_booked"] = {
        "median_ms": round(
            figures["post_booked_including_its_get"]["median_ms"] - figures["confirm_page_get"]["median_ms"], 2
        ),
        "queries": figures["post_booked_including_its_get"]["queries"] - figures["confirm_page_get"]["queries"],
    }
    return {"repetitions": repeat, "how": "in process, one request at a time, median", **figures}


SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "1000"))
# Issue 20 part 1: what the booking's own guarantees cost the database, measured as more sides of
# the sequential measurement (same rounds, same turns): BENCH_WITHOUT="notices;audit,change" adds
# the booking with its notices left out, and the booking with its audit entry and change row left
# out. An experiment on the bench's own process (booking_without), never a way the project books.
WITHOUT = [tuple(sorted(group.split(","))) for group in os.environ.get("BENCH_WITHOUT", "").split(";") if group]
LEFT_OUT = ("audit", "change", "notices")
SEQUENTIAL_ROUNDS = int(os.environ.get("BENCH_SEQUENTIAL_ROUNDS", "10"))
# BENCH_CPROFILE=FILE: the sequential app side run under cProfile, its statistics written to FILE
# (its CPU figures are then the profiler's too: for finding where the time goes, not for ratios).
PROFILE_TO = os.environ.get("BENCH_CPROFILE", "")
# BENCH_PG_STATS=1: PostgreSQL logs each statement's CPU (log_statement_stats) of the sequential
# sides and of every backend in the rounds; bench/statement_stats.py sums them per statement (for
# finding where the database's time goes; the logging costs CPU too, so not for the ratios).
STATEMENT_STATS = os.environ.get("BENCH_PG_STATS") == "1"


def log_offset() -> int:
    """Where PostgreSQL's log ends now (BENCH_PG_STATS: a round's statements lie between two)."""
    from bench.statement_stats import LOG

    return LOG.stat().st_size if STATEMENT_STATS and LOG.exists() else 0


def statements_between(start: int, end: int) -> dict[str, Any]:
    from bench.statement_stats import LOG, log_lines, statement_totals, summary

    return {"log_bytes": [start, end], **summary(statement_totals(log_lines(LOG, start, end)))}


@contextlib.contextmanager
def booking_without(parts: tuple[str, ...]) -> Iterator[None]:
    """The online booking (booking_statements.written, PostgreSQL) with ``parts`` of its writes
    left out, in this process while the block runs: "notices" (the notices, their deliveries and
    task), "audit" (the entry and the head's move; the head is still locked and read), "change"
    (the change feed's number and row). Everything else (the locks, the reads, the rules, the
    booking row) is as in the project."""
    from unittest import mock

    from vardkontakt.booking import booking_statements, changes, notices

    unknown = set(parts) - set(LEFT_OUT)
    if unknown:
        raise SystemExit(f"BENCH_WITHOUT: {sorted(unknown)} unknown; known: {', '.join(LEFT_OUT)}")
    patches: list[Any] = []
    if "notices" in parts:
        patches.append(mock.patch.object(notices, "told", lambda *args, **kwargs: []))
    if "audit" in parts:
        patches.append(
            mock.patch.object(booking_statements, "append_parts", lambda statement, head, entries: statement)
        )
        patches.append(mock.patch.object(booking_statements, "appended", lambda entries: None))
    if "change" in parts:
        # The statement still ends with "SELECT seq FROM change_row": a part giving no number.
        patches.append(
            mock.patch.object(
                changes,
                "record_parts",
                lambda statement, change: statement.add("change_row", "SELECT NULL::bigint AS seq"),
            )
        )
        patches.append(mock.patch.object(changes, "numbered_after", lambda change, seq: change))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


def sequential_cost(data: Data) -> dict[str, Any]:
    """The cost ratios measured one request at a time, in this process (Django's test client, the
    same settings as the server's), where the CPU of the one PostgreSQL backend serving a side is
    read from /proc before and after: exact counts, little disturbed by other work on the
    machine, unlike the rounds' (many backends, a saturated machine, few bookings per round).

    - app: for each of SEQUENTIAL residents in turn, a confirmation page and its booking (302);
    - naive: the naive view's POST (201) on as many other free slots;
    - bare: the bare SQL transaction of bench/booking_rush.sql as many times, through a
      connection of its own, its values written into the text and nothing prepared, as pgbench
      sends it;
    - and with BENCH_WITHOUT, one more side per group: the app's, with that group of the
      booking's writes left out (booking_without), on as many other free slots.

    The sides take turns in BENCH_SEQUENTIAL_ROUNDS rounds (default 10), so that the machine's
    changing speed falls on all of them alike. Web CPU is this process's (HTTP parsing and the
    server's threads left out, on both sides)."""
    import psycopg
    from django.db import connection
    from django.test import Client, override_settings

    def backend() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    count = SEQUENTIAL
    sides_booking = 2 + len(WITHOUT)  # app, naive and each BENCH_WITHOUT group book their own slots
    if len(data.pool) - 450 - sides_booking * count < HOT_SLOTS:
        raise SystemExit(
            f"BENCH_SEQUENTIAL={count} with {len(WITHOUT)} BENCH_WITHOUT groups: too few slots in the pool"
        )
    free = data.pool[-450 - sides_booking * count : -450]  # clear of the slots the profile books
    app_slots, naive_slots = free[:count], free[count : 2 * count]
    clients = []
    for resident in data.residents[4 : 4 + count]:
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies["vk_session"] = resident.session
        clients.append(client)
    while len(clients) < count:
        clients.extend(clients[: count - len(clients)])

    def app(part: slice, slots: list[str] = app_slots) -> None:
        for client, slot in zip(clients[part], slots[part], strict=True):
            path = f"/bookings/book/{data.unit_id}/slot/{slot}/"
            page = client.get(path)
            token, key = TOKEN.search(page.content), KEY.search(page.content)
            assert page.status_code == 200 and token and key, page.status_code
            form = {"csrfmiddlewaretoken": token[1].decode(), "submission_key": key[1].decode()}
            if len(slot) % 2:
                form["sms_reminder"] = "on"
            answer = client.post(path, form)
            assert answer.status_code == 302, answer.status_code

    naive_client = Client(HTTP_HOST="127.0.0.1")

    def naive(part: slice) -> None:
        for index in range(count)[part]:
            form = {"personnummer": data.residents[4 + index % (len(data.residents) - 4)].personnummer}
            answer = naive_client.post(f"/bench/naive/{naive_slots[index]}/", form)
            assert answer.status_code == 201, answer.status_code

    script = (ROOT / "bench" / "booking_rush.sql").read_text().splitlines()
    statements = [line for line in script if line and not line.startswith(("--", "\\", "SELECT quote_literal"))]
    patients = [str(p) for p in _patient_ids(data)]
    hot = data.pool[:HOT_SLOTS]
    rng = random.Random(SEED)
    bare_connection = psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=DB_NAME, autocommit=True, prepare_threshold=None
    )

    def bare(part: slice) -> None:
        for _ in range(count)[part]:
            slot, patient = f"'{rng.choice(hot)}'", f"'{rng.choice(patients)}'"
            # The look-up pgbench's script makes first (\gset), then the transaction.
            bare_connection.execute(
                f"SELECT quote_literal(slot_id) FROM bench_hot_slot WHERE n = {rng.randint(1, len(hot))}"  # noqa: S608
            ).fetchone()
            for statement in statements:
                bare_connection.execute(statement.replace(":slot", slot).replace(":patient", patient))

    profiler = None
    if PROFILE_TO:  # where the web CPU goes: cProfile of the app's side, for working on it
        import cProfile

        # Timed by this process's CPU clock: the time spent waiting for PostgreSQL is not web CPU.
        profiler = cProfile.Profile(time.process_time)

    def profiled_app(part: slice) -> None:
        if profiler is None:
            app(part)
        else:
            profiler.runcall(app, part)

    # The sides take turns, SEQUENTIAL_ROUNDS rounds of count / rounds each (the order turning
    # each round), so that a change in the machine's speed during the run (other work, a
    # neighbour on the host) falls on all of them alike instead of on whichever ran then.
    sides: dict[str, Callable[[slice], None]] = {"app": profiled_app, "naive": naive, "bare": bare}

    def app_without(group: tuple[str, ...], slots: list[str]) -> Callable[[slice], None]:
        def side(part: slice) -> None:
            with booking_without(group):
                app(part, slots)

        return side

    for number, group in enumerate(WITHOUT, start=2):
        sides["without " + "+".join(group)] = app_without(group, free[number * count : (number + 1) * count])
    totals = {side: {"ticks": 0, "cpu": 0.0, "wall": 0.0} for side in sides}
    per_round: list[dict[str, float]] = []
    with override_settings(ROOT_URLCONF="bench.booking_rush_urls"), bare_connection:
        naive_client.post(f"/bench/naive/{data.pool[-3]}/", {"personnummer": data.residents[0].personnummer})
        connection.close()
        own = backend()  # the app's, the naive view's and each BENCH_WITHOUT side's: this process's
        pids = {name: own for name in sides if name != "bare"}
        pids["bare"] = int(bare_connection.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
        if STATEMENT_STATS:
            # Each statement's CPU in the server's log (bench/statement_stats.py reads it back).
            with connection.cursor() as cursor:
                cursor.execute("SET log_statement_stats = on")
            log(f"statement stats: backend {pids['app']} (the app's and the naive view's statements)")
        rounds = max(1, min(SEQUENTIAL_ROUNDS, count))
        for number in range(rounds):
            part = slice(number * count // rounds, (number + 1) * count // rounds)
            names = list(sides)[number % len(sides) :] + list(sides)[: number % len(sides)]
            used: dict[str, int] = {}
            spent: dict[str, float] = {}
            for name in names:
                ticks, cpu, began = _ticks(pids[name]), time.process_time(), time.perf_counter()
                sides[name](part)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - began
                used[name], spent[name] = _ticks(pids[name]) - ticks, cpu
                totals[name]["ticks"] += used[name]
                totals[name]["cpu"] += cpu
                totals[name]["wall"] += wall
            per_round.append(
                {
                    "db_cost_to_bare_sql": round(used["app"] / used["bare"], 2) if used["bare"] else float("nan"),
                    "web_cost_to_naive": round(spent["app"] / spent["naive"], 2),
                }
            )
        assert backend() == pids["app"], "the connection changed during the measurement"
    if profiler is not None:
        profiler.dump_stats(PROFILE_TO)

    def figures(name: str) -> dict[str, float]:
        return {
            "postgres_cpu_ms": round(totals[name]["ticks"] / TICK * 1000 / count, 3),
            "web_cpu_ms": round(totals[name]["cpu"] * 1000 / count, 3),
            "wall_ms": round(totals[name]["wall"] * 1000 / count, 3),
        }

    app_figures, naive_figures, bare_figures = figures("app"), figures("naive"), figures("bare")
    del bare_figures["web_cpu_ms"]  # the bare side's client is psycopg alone, not a web server

    def without_figures() -> dict[str, Any]:
        """Each BENCH_WITHOUT side: its figures, its ratio to the bare transaction, and what the
        writes it leaves out cost per booking (the app's side less it)."""
        out = {}
        for name in sides:
            if name.startswith("without "):
                side = figures(name)
                out[name.removeprefix("without ")] = {
                    **side,
                    "db_cost_to_bare_sql": round(side["postgres_cpu_ms"] / bare_figures["postgres_cpu_ms"], 2)
                    if bare_figures["postgres_cpu_ms"]
                    else None,
                    "left_out_postgres_cpu_ms": round(app_figures["postgres_cpu_ms"] - side["postgres_cpu_ms"], 3),
                    "left_out_web_cpu_ms": round(app_figures["web_cpu_ms"] - side["web_cpu_ms"], 3),
                }
        return out

    round_ratios = {key: sorted(r[key] for r in per_round) for key in ("db_cost_to_bare_sql", "web_cost_to_naive")}
    return {
        "how": (
            "one request at a time in this process; CPU of each side's own PostgreSQL backend from /proc; "
            f"the three sides in turn, {rounds} rounds"
        ),
        "bookings": count,
        "app_page_and_booking": app_figures,
        "naive_view": naive_figures,
        "bare_sql_transaction": bare_figures,
        "db_cost_to_bare_sql": round(app_figures["postgres_cpu_ms"] / bare_figures["postgres_cpu_ms"], 2)
        if bare_figures["postgres_cpu_ms"]
        else None,
        "web_cost_to_naive": round(app_figures["web_cpu_ms"] / naive_figures["web_cpu_ms"], 2)
        if naive_figures["web_cpu_ms"]
        else None,
        "naive_db_cost_to_bare_sql": round(naive_figures["postgres_cpu_ms"] / bare_figures["postgres_cpu_ms"], 2)
        if bare_figures["postgres_cpu_ms"]
        else None,
        # The rounds' own ratios, lowest to highest (/proc counts 10 ms ticks: a round's database
        # figure is coarse, the totals above are not).
        "per_round": round_ratios,
        **({"booking_without": without_figures()} if WITHOUT else {}),
    }


def _patient_ids(data: Data) -> list[Any]:
    from vardkontakt.identity.models import Patient

    return list(
        Patient.objects.filter(personnummer__in=[r.personnummer for r in data.residents]).values_list("pk", flat=True)
    )


def shorten(statement: str) -> str:
    statement = re.sub(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'", "'…'", statement)
    statement = re.sub(r"'[0-9a-f]{32}'", "'…'", statement)
    head = re.sub(r"SELECT .*? FROM", "SELECT … FROM", statement, count=1, flags=re.S)
    return head if len(head) <= 220 else head[:217] + "…"


# --- CPU accounting ------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime (all threads)


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry))
    return found


def _database_backends() -> list[int]:
    found = []
    marker = f" {DB_NAME} ".encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres:") and marker in cmdline.replace(b"\0", b" "):
                found.append(int(entry))
    return found


def _machine() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle, sum(fields[:8])


@dataclass
class CpuSnapshot:
    at: float
    generator: float
    server: dict[int, int]
    database: dict[int, int]
    machine_busy: int
    machine_total: int
    wal: tuple[int, int, int] = (0, 0, 0)  # PostgreSQL's WAL so far: records, full-page images, bytes


_wal_connection: Any = None


def _wal() -> tuple[int, int, int]:
    """pg_stat_wal (the whole server's, PG 14+): what the round wrote to the WAL, and how many of
    its records carried a whole page (the first change of a page after a checkpoint)."""
    global _wal_connection
    import psycopg

    try:
        if _wal_connection is None or _wal_connection.closed:
            _wal_connection = psycopg.connect(
                host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
            )
        row = _wal_connection.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal").fetchone()
    except psycopg.Error:
        return (0, 0, 0)
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def cpu_snapshot(server_pid: int | None) -> CpuSnapshot:
    server = {}
    if server_pid is not None:
        for pid in [server_pid, *_children(server_pid)]:
            server[pid] = _ticks(pid)
    database = {pid: _ticks(pid) for pid in _database_backends()}
    busy, total = _machine()
    return CpuSnapshot(time.perf_counter(), time.process_time(), server, database, busy, total, _wal())


def cpu_between(a: CpuSnapshot, b: CpuSnapshot) -> dict[str, float]:
    """CPU used between two snapshots, in cores (1.0 = one CPU busy all the time)."""
    seconds = b.at - a.at

    def spent(before: dict[int, int], after: dict[int, int]) -> float:
        return sum(after[pid] - before.get(pid, 0) for pid in after) / TICK

    generator = (b.generator - a.generator) / seconds
    server = spent(a.server, b.server) / seconds
    database = spent(a.database, b.database) / seconds
    cpus = os.cpu_count() or 1
    machine = (b.machine_busy - a.machine_busy) / max(1, b.machine_total - a.machine_total) * cpus
    return {
        "load_generator": round(generator, 2),
        "server": round(server, 2),
        "postgres_backends": round(database, 2),
        "whole_machine": round(machine, 2),
        "other": round(max(0.0, machine - generator - server - database), 2),
        # Not cores: the WAL written between the two (summarise_round and run_pgbench take them out).
        "wal_kb": round((b.wal[2] - a.wal[2]) / 1024, 1),
        "wal_full_page_images": float(b.wal[1] - a.wal[1]),
    }


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    port: int
    log_path: Path


def server_env(var: str, base: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vardkontakt.settings",
        "DJANGO_DEBUG": "false",
        "VK_DEMO": "true",
        "VK_VAR_DIR": var,
        "VK_SITE_URL": base,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "VK_LOG_LEVEL": "WARNING",
    }
    return env


def start_server(var: str) -> Server:
    from django.utils import timezone

    from vardkontakt.core.models import Heartbeat
    from vardkontakt.core.tasks import WORKER

    # /healthz wants a worker that ran recently; no worker runs here (the outbox fills and
    # waits), so the bench records one beat for it.
    Heartbeat.objects.update_or_create(name=WORKER, defaults={"beat_at": timezone.now()})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(var) / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.rush_wsgi",
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    with log_path.open("wb") as sink:
        process = subprocess.Popen(command, env=server_env(var, base), stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not become healthy:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return Server(process, base, port, log_path)


def stop_server(server: Server) -> dict[str, Any]:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    text = server.log_path.read_text(errors="replace")
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "log_tail": text.strip().splitlines()[-8:],
    }


def gunicorn_settings() -> dict[str, Any]:
    """What deploy/gunicorn.conf.py resolves to (it reads the environment), for the report."""
    namespace: dict[str, Any] = {"__file__": str(ROOT / "deploy" / "gunicorn.conf.py")}
    exec((ROOT / "deploy" / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102
    names = ["worker_class", "workers", "threads", "keepalive", "timeout", "backlog", "worker_connections"]
    return {name: namespace[name] for name in names if name in namespace}


# --- the closed-loop rounds ----------------------------------------------------------------------


@dataclass
class Hot:
    """What the clients know of the pool: taken slots are shared as soon as one client learns it."""

    pool: list[str]
    k: int
    taken: set[str] = field(default_factory=set)
    head: int = 0
    booked: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def pick(self, rng: random.Random) -> str | None:
        while self.head < len(self.pool) and self.pool[self.head] in self.taken:
            self.head += 1
        candidates: list[str] = []
        index = self.head
        while index < len(self.pool) and len(candidates) < self.k:
            if self.pool[index] not in self.taken:
                candidates.append(self.pool[index])
            index += 1
        return rng.choice(candidates) if candidates else None


@dataclass
class Record:
    method: str
    began: float
    ended: float
    status: int | str  # an HTTP status, "timeout" or "error"
    retry_after: str = ""


async def browse(
    number: int,
    browser: Browser,
    hot: Hot,
    base: str,
    unit_id: str,
    stop_at: float,
    records: list[Record],
    rng: random.Random,
    people: Iterator[Resident],
) -> None:
    """One client: a resident's confirmation page and booking, then the next resident's (from
    ``people``, shared by the clients: a rush is many people booking once or twice, not a few
    booking again and again, whose coming bookings every booking's limit check would count); a
    503 is retried after its Retry-After."""
    origin = {"Origin": base}
    while time.perf_counter() < stop_at:
        slot = hot.pick(rng)
        browser.cookies["vk_session"] = next(people).session
        if slot is None:
            return
        path = f"/bookings/book/{unit_id}/slot/{slot}/"
        began = time.perf_counter()
        try:
            page = await browser.request("GET", path, timeout=CLIENT_TIMEOUT)
        except TimeoutError:
            records.append(Record("GET", began, time.perf_counter(), "timeout"))
            continue
        except HttpError:
            records.append(Record("GET", began, time.perf_counter(), "error"))
            await asyncio.sleep(0.05)
            continue
        retry_after = page.header("retry-after")
        records.append(Record("GET", began, time.perf_counter(), page.status, retry_after))
        if page.status == 409:
            hot.taken.add(slot)
            continue
        if page.status == 503 and retry_after.isdigit():
            await asyncio.sleep(min(int(retry_after), max(0.0, stop_at - time.perf_counter())))
            continue
        token, key = TOKEN.search(page.body), KEY.search(page.body)
        if page.status != 200 or token is None or key is None:
            await asyncio.sleep(0.05)
            continue
        form = {"csrfmiddlewaretoken": token[1].decode(), "submission_key": key[1].decode()}
        if rng.random() < SMS_SHARE:
            form["sms_reminder"] = "on"
        while True:
            began = time.perf_counter()
            try:
                answer = await browser.request(
                    "POST", path, form=form, headers={**origin, "Referer": base + path}, timeout=CLIENT_TIMEOUT
                )
            except TimeoutError:
                records.append(Record("POST", began, time.perf_counter(), "timeout"))
                break
            except HttpError:
                records.append(Record("POST", began, time.perf_counter(), "error"))
                break
            retry_after = answer.header("retry-after")
            records.append(Record("POST", began, time.perf_counter(), answer.status, retry_after))
            if answer.status == 503 and retry_after.isdigit() and time.perf_counter() + int(retry_after) < stop_at:
                await asyncio.sleep(int(retry_after))
                continue
            if answer.status == 302:
                hot.taken.add(slot)
                hot.booked[slot].add(answer.header("location"))
            elif answer.status == 409:
                hot.taken.add(slot)
            break


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def latency(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
        "p90_ms": round(percentile(ordered, 0.90) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def meter(server_pid: int, t0: float, t1: float, snapshots: list[CpuSnapshot]) -> None:
    """CPU snapshots at the start and the end of a round's measured window."""
    await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
    snapshots.append(cpu_snapshot(server_pid))
    await asyncio.sleep(max(0.0, t1 - time.perf_counter()))
    snapshots.append(cpu_snapshot(server_pid))


async def closed_round(
    server: Server,
    data: Data,
    clients: int,
    server_pid: int,
    ramp: float = RAMP_SECONDS,
    seconds: float = ROUND_SECONDS,
) -> tuple[list[Record], Hot, float, float, dict[str, float]]:
    hot = Hot(data.pool, HOT_SLOTS)
    browsers = [Browser("127.0.0.1", server.port, {"vk_session": r.session}) for r in data.residents[:clients]]
    records: list[Record] = []
    start = time.perf_counter()
    t0, t1 = start + ramp, start + ramp + seconds
    snapshots: list[CpuSnapshot] = []

    people = itertools.cycle(data.residents)
    tasks = [
        browse(i, b, hot, server.base, data.unit_id, t1, records, random.Random(SEED + clients * 1000 + i), people)
        for i, b in enumerate(browsers)
    ]
    await asyncio.gather(meter(server_pid, t0, t1, snapshots), *tasks)
    for browser in browsers:
        browser.close()
    return records, hot, t0, t1, cpu_between(snapshots[0], snapshots[1])


async def naive_round(
    server: Server, data: Data, clients: int, server_pid: int
) -> tuple[list[Record], Hot, float, float, dict[str, float]]:
    """The issue's calibration: "a naive Django booking view ... reaches about 0.1". The same hot
    slots, clients and server, each client POSTing straight to bench/booking_rush_urls.naive
    (no login, no confirmation page, no notices, no waiting room) and moving on."""
    hot = Hot(data.pool, HOT_SLOTS)
    records: list[Record] = []
    start = time.perf_counter()
    t0, t1 = start + RAMP_SECONDS, start + RAMP_SECONDS + ROUND_SECONDS
    snapshots: list[CpuSnapshot] = []

    async def client(number: int, rng: random.Random) -> None:
        browser = Browser("127.0.0.1", server.port)
        form = {"personnummer": data.residents[number].personnummer}
        try:
            while time.perf_counter() < t1:
                slot = hot.pick(rng)
                if slot is None:
                    return
                began = time.perf_counter()
                try:
                    answer = await browser.request("POST", f"/bench/naive/{slot}/", form=form, timeout=CLIENT_TIMEOUT)
                except (TimeoutError, HttpError):
                    records.append(Record("POST", began, time.perf_counter(), "error"))
                    continue
                # Counted as the app's rounds are: a booking is a 302 there, a 201 here.
                records.append(
                    Record("POST", began, time.perf_counter(), 302 if answer.status == 201 else answer.status)
                )
                if answer.status in (201, 409):
                    hot.taken.add(slot)
        finally:
            browser.close()

    await asyncio.gather(
        meter(server_pid, t0, t1, snapshots), *(client(i, random.Random(SEED + i)) for i in range(clients))
    )
    return records, hot, t0, t1, cpu_between(snapshots[0], snapshots[1])


def summarise_round(
    records: list[Record], hot: Hot, t0: float, t1: float, cpu: dict[str, float], clients: int
) -> dict[str, Any]:
    cpu = dict(cpu)
    wal_kb, wal_fpi = cpu.pop("wal_kb", 0.0), cpu.pop("wal_full_page_images", 0.0)
    window = [r for r in records if r.began >= t0 and r.ended <= t1]
    posts = [r for r in window if r.method == "POST"]
    gets = [r for r in window if r.method == "GET"]
    seconds = t1 - t0
    counts = Counter(str(r.status) for r in posts)
    booked = counts.get("302", 0)
    statuses = {
        "302": booked,
        "409": counts.get("409", 0),
        "503": counts.get("503", 0),
        "other": sum(v for k, v in counts.items() if k not in ("302", "409", "503")),
    }
    others = {k: v for k, v in counts.items() if k not in ("302", "409", "503")}
    return {
        "clients": clients,
        "seconds": round(seconds, 2),
        "bookings_per_second": round(booked / seconds, 1),
        "booking_answers_per_second": round((booked + statuses["409"]) / seconds, 1),
        "attempts_per_second": round(len(posts) / seconds, 1),
        "post_latency": latency([r.ended - r.began for r in posts]),
        "post_latency_booked_or_taken": latency([r.ended - r.began for r in posts if r.status in (302, 409)]),
        "post_status": statuses,
        "post_other_detail": others,
        "confirm_page_latency": latency([r.ended - r.began for r in gets]),
        "confirm_page_status": dict(Counter(str(r.status) for r in gets)),
        "requests_per_second": round(len(window) / seconds, 1),
        "bookings_whole_round": sum(1 for r in records if r.method == "POST" and r.status == 302),
        "slots_booked_twice_seen_by_clients": sum(1 for locations in hot.booked.values() if len(locations) > 1),
        "cpu_cores": cpu,
        "cpu_ms_per_booking": {
            "server": round(cpu["server"] * 1000 / booked * seconds, 2) if booked else None,
            "postgres_backends": round(cpu["postgres_backends"] * 1000 / booked * seconds, 2) if booked else None,
            "load_generator": round(cpu["load_generator"] * 1000 / booked * seconds, 2) if booked else None,
        },
        # PostgreSQL's WAL per booking (the whole server's; full-page images: first changes of a
        # page after a checkpoint, so a round just after one writes more).
        "wal_per_booking": {
            "kb": round(wal_kb / booked, 2) if booked else None,
            "full_page_images": round(wal_fpi / booked, 2) if booked else None,
        },
    }


# --- overload ------------------------------------------------------------------------------------


async def overload(server: Server, data: Data, rate: float, server_pid: int) -> dict[str, Any]:
    """Open loop: requests at ``rate`` per second whatever the answers — every second one a booking
    POST, the others confirmation pages — each on an idle keep-alive connection or a new one,
    from all residents in turn, each with the client timeout."""
    hot = Hot(data.pool, HOT_SLOTS)
    forms: list[tuple[dict[str, str], dict[str, str]]] = []  # (cookies, csrf form field)
    # Every resident opens one confirmation page first, for a CSRF cookie and token.
    warm = [Browser("127.0.0.1", server.port, {"vk_session": r.session}) for r in data.residents]

    async def prime(browser: Browser) -> None:
        for _ in range(20):
            page = await browser.request("GET", f"/bookings/book/{data.unit_id}/slot/{data.pool[-1]}/", timeout=30)
            if page.status != 503:
                break
            await asyncio.sleep(0.5)  # the waiting room: a confirmation page too in a rush
        token = TOKEN.search(page.body)
        assert page.status == 200 and token is not None, page.status
        forms.append((dict(browser.cookies), {"csrfmiddlewaretoken": token[1].decode()}))
        browser.close()

    for batch in range(0, len(warm), 4):
        await asyncio.gather(*(prime(b) for b in warm[batch : batch + 4]))

    idle: list[Browser] = []
    opened = 0
    results: list[tuple[float, float, str, str, str, float]] = []  # began, ended, method, outcome, retry, lag
    rng = random.Random(SEED)
    in_flight: set[asyncio.Task[None]] = set()

    async def one(number: int, due: float) -> None:
        nonlocal opened
        began = time.perf_counter()
        browser = idle.pop() if idle else None
        if browser is None:
            browser = Browser("127.0.0.1", server.port)
            opened += 1
        cookies, csrf = forms[number % len(forms)]
        browser.cookies = dict(cookies)
        slot = hot.pick(rng) or data.pool[-1]
        path = f"/bookings/book/{data.unit_id}/slot/{slot}/"
        method = "GET" if number % 2 else "POST"  # half confirmation pages, half bookings
        form = {**csrf, "submission_key": uuid.uuid4().hex} if method == "POST" else None
        headers = {"Origin": server.base, "Referer": server.base + path} if method == "POST" else {}
        try:
            answer = await browser.request(method, path, form=form, headers=headers, timeout=CLIENT_TIMEOUT)
        except TimeoutError:
            results.append((began, time.perf_counter(), method, "timeout", "", began - due))
            return
        except HttpError as error:
            results.append((began, time.perf_counter(), method, f"error {str(error)[:60]}", "", began - due))
            return
        ended = time.perf_counter()
        results.append((began, ended, method, str(answer.status), answer.header("retry-after"), began - due))
        if answer.status == 409 or (method == "POST" and answer.status == 302):
            hot.taken.add(slot)
            if answer.status == 302:
                hot.booked[slot].add(answer.header("location"))
        idle.append(browser)

    interval = 1.0 / rate
    start = time.perf_counter() + 0.2
    before = cpu_snapshot(server_pid)
    number = 0
    while True:
        due = start + number * interval
        if due > start + OVERLOAD_SECONDS:
            break
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        task = asyncio.create_task(one(number, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        number += 1
    sent_seconds = time.perf_counter() - start
    after = cpu_snapshot(server_pid)
    if in_flight:
        await asyncio.wait(in_flight, timeout=CLIENT_TIMEOUT + 5)
    drained = time.perf_counter() - start
    for browser in idle:
        browser.close()

    def answered(method: str, outcome: str) -> bool:
        return outcome in (("302", "409") if method == "POST" else ("200", "409"))

    shed = [r for r in results if r[3] == "503" and r[4].isdigit()]
    good = [r for r in results if answered(r[2], r[3])]
    failures = len(results) - len(good) - len(shed)

    def lat(rows: list[tuple[float, float, str, str, str, float]]) -> dict[str, float]:
        return latency([r[1] - r[0] for r in rows])

    return {
        "offered_per_second": round(rate, 1),
        "mix": "every second request a booking POST, the others confirmation-page GETs",
        "sent": number,
        "sent_per_second": round(number / sent_seconds, 1),
        "generator_lag_p99_ms": round(percentile(sorted(r[5] for r in results), 0.99) * 1000, 1),
        "seconds_sending": round(sent_seconds, 2),
        "seconds_until_all_answered": round(drained, 2),
        "connections_opened": opened,
        "answered": len(results),
        "unanswered": number - len(results),
        "outcomes": dict(Counter(f"{r[2]} {r[3]}" for r in results)),
        "booked_taken_or_page": len(good),
        "waiting_room_503_with_retry_after": len(shed),
        "failures": failures + (number - len(results)),
        "latency_post_booked_or_taken": lat([r for r in good if r[2] == "POST"]),
        "latency_get_page_or_taken": lat([r for r in good if r[2] == "GET"]),
        "latency_503": lat(shed),
        "latency_all": lat(results),
        "slots_booked_twice_seen_by_clients": sum(1 for locations in hot.booked.values() if len(locations) > 1),
        "cpu_cores_while_sending": cpu_between(before, after),
    }


# --- the SQL baseline ----------------------------------------------------------------------------


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise SystemExit("pgbench not found (it comes with PostgreSQL)")


def baseline_tables(data: Data) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_hot_slot, bench_patient")
        cursor.execute("CREATE TABLE bench_hot_slot (n int PRIMARY KEY, slot_id uuid NOT NULL)")
        cursor.execute("CREATE TABLE bench_patient (n int PRIMARY KEY, patient_id uuid NOT NULL)")
        cursor.executemany(
            "INSERT INTO bench_hot_slot VALUES (%s, %s)", [(i + 1, s) for i, s in enumerate(data.pool[:HOT_SLOTS])]
        )
        cursor.execute(
            "INSERT INTO bench_patient SELECT row_number() OVER (ORDER BY p.personnummer), p.id"
            " FROM identity_patient p WHERE p.personnummer = ANY(%s)",
            [[r.personnummer for r in data.residents]],
        )


def connections_available() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        )
        return int(cursor.fetchone()[0])


def django_lock_script(var: str) -> Path:
    """The baseline with booking_create_online's lock: ``select_for_update(of=("self",), no_key=True)`` over
    the query that joins the slot's unit and visit type. (Without ``of=`` PostgreSQL locked those
    rows too, and every booking at a unit waited for the one before it: 154–1,034 tx/s against
    1,385–2,535 for the slot alone, docs/benchmarks.md.)"""
    text = (ROOT / "bench" / "booking_rush.sql").read_text()
    bare = "SELECT id, unit_id, visit_type_id, starts_at, channel, held_back FROM booking_slot WHERE id = :slot FOR UPDATE;"
    joined = (
        "SELECT s.id, u.id, v.id FROM booking_slot s JOIN organisation_careunit u ON u.id = s.unit_id"
        " JOIN booking_visittype v ON v.id = s.visit_type_id WHERE s.id = :slot FOR NO KEY UPDATE OF s;"
    )
    assert bare in text, "bench/booking_rush.sql changed: update django_lock_script"
    path = Path(var) / "booking_rush_django_locks.sql"
    path.write_text(text.replace(bare, joined))
    return path


def run_pgbench(clients: int, var: str, script: Path | None = None, seconds: int | None = None) -> dict[str, Any]:
    logs = Path(var) / f"pgbench-{clients}-{uuid.uuid4().hex[:6]}"
    logs.mkdir()
    script = script or ROOT / "bench" / "booking_rush.sql"
    seconds = seconds or SQL_SECONDS
    command = [
        pgbench_binary(),
        "-n",
        "-M",
        "simple",
        "-h",
        PG_HOST,
        "-p",
        str(PG_PORT),
        "-U",
        PG_USER,
        "-f",
        str(script),
        "-D",
        f"hot={HOT_SLOTS}",
        "-D",
        f"patients={RESIDENTS}",
        "-c",
        str(clients),
        "-j",
        str(min(clients, os.cpu_count() or 1)),
        "-T",
        str(seconds),
        "-l",
        "--log-prefix",
        str(logs / "tx"),
        DB_NAME,
    ]
    # The backends pgbench opens exit with it: sample their CPU while they run.
    seen: dict[int, int] = {}
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            for pid in _database_backends():
                seen[pid] = max(seen.get(pid, 0), _ticks(pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    idle_backends = {pid: _ticks(pid) for pid in _database_backends()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = cpu_snapshot(None)
    sampler.start()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=var)
    after = cpu_snapshot(None)
    running.clear()
    sampler.join()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = after.at - before.at
    backends_cpu = sum(t - idle_backends.get(pid, 0) for pid, t in seen.items()) / TICK / elapsed
    client_cpu = (children_after.ru_utime + children_after.ru_stime - children.ru_utime - children.ru_stime) / elapsed
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{done.stderr[-2000:]}\n{done.stdout[-2000:]}")
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout)[1])  # type: ignore[index]
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    samples = []
    for path in logs.iterdir():
        for line in path.read_text().splitlines():
            parts = line.split()
            samples.append(int(parts[2]) / 1_000_000)
    cpu = cpu_between(before, after)
    done_count = len(samples)
    return {
        "wal_per_transaction": {
            "kb": round(cpu["wal_kb"] / done_count, 2) if done_count else None,
            "full_page_images": round(cpu["wal_full_page_images"] / done_count, 2) if done_count else None,
        },
        "clients": clients,
        "transactions_per_second": round(tps, 1),
        "transactions": len(samples),
        "failed_transactions": int(failed[1]) if failed else 0,
        "latency": latency(samples),
        "cpu_cores": {
            "pgbench": round(client_cpu, 2),
            "postgres_backends": round(backends_cpu, 2),
            "whole_machine": cpu["whole_machine"],
            "other": round(max(0.0, cpu["whole_machine"] - client_cpu - backends_cpu), 2),
        },
        "cpu_ms_per_transaction": {
            "postgres_backends": round(backends_cpu * 1000 / tps, 3),
            "pgbench": round(client_cpu * 1000 / tps, 3),
        },
    }


# --- the run -------------------------------------------------------------------------------------


def step(label: str, action: Callable[[], Any]) -> Any:
    began = time.perf_counter()
    log(f"{label} ...")
    result = action()
    log(f"{label}: {time.perf_counter() - began:.1f} s")
    return result


def run() -> dict[str, object]:
    began = time.perf_counter()
    load_before = os.getloadavg()
    stores = redis_setup()
    with tempfile.TemporaryDirectory() as var, throwaway_database() as database, contextlib.ExitStack() as later:
        later.callback(redis_cleanup)
        django_setup(var)
        from django.core.management import call_command
        from django.db import connection

        step("migrate", lambda: call_command("migrate", verbosity=0))
        step("load_demo", lambda: call_command("load_demo", "--no-activity", verbosity=0, stdout=io.StringIO()))
        data = step("bench data", make_data)
        profile = step("query profile", lambda: query_profile(data))
        step("baseline tables", lambda: baseline_tables(data))
        sequential = step("sequential cost", lambda: sequential_cost(data))
        log(f"  sequential: {json.dumps(sequential)}")
        if PROFILE_ONLY:  # for working on the booking code: two minutes instead of ten, no result file
            log(json.dumps(profile, indent=1))
            raise SystemExit(0)
        step("reset", lambda: reset(data))
        if STATEMENT_STATS:  # every backend opened from here on (the server's, pgbench's)
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER DATABASE "{DB_NAME}" SET log_statement_stats = on')
        connection.close()
        server = step("server", lambda: start_server(var))
        rounds, baseline, checks, locked, naives = [], [], [], [], []
        try:
            # The first requests of each worker thread load templates, translations and a
            # database connection (seconds, once): a round nobody measures does that.
            step("warm-up", lambda: asyncio.run(closed_round(server, data, 16, server.process.pid, 1.0, 2.0)))
            reset(data)
            connection.close()
            # App and SQL alternate per client count, so that whatever else runs on the machine
            # at the time weighs on both sides of each ratio alike.
            for clients in CLIENTS:
                logged = log_offset()
                records, hot, t0, t1, cpu = step(
                    f"app, {clients} clients",
                    lambda c=clients: asyncio.run(closed_round(server, data, c, server.process.pid)),  # type: ignore[misc]
                )
                figures = summarise_round(records, hot, t0, t1, cpu, clients)
                if STATEMENT_STATS:
                    figures["statement_stats"] = statements_between(logged, log_offset())
                figures["double_bookings_in_database"] = double_bookings(data)
                log(
                    f"  {figures['bookings_per_second']} bookings/s, {figures['attempts_per_second']} attempts/s,"
                    f" POST p50 {figures['post_latency'].get('p50_ms')} ms p99 {figures['post_latency'].get('p99_ms')}"
                    f" ms, {figures['post_status']}, cpu {cpu}"
                )
                rounds.append(figures)
                checks.append(figures["double_bookings_in_database"])
                reset(data)
                connection.close()
                # The naive view at the same N right after the app's round, as the bare SQL below:
                # a calibration measured once per run moved by a third between runs (the machine's
                # speed), and every web ratio of the run with it.
                n_records, n_hot, n_t0, n_t1, n_cpu = step(
                    f"naive view, {clients} clients",
                    lambda c=clients: asyncio.run(naive_round(server, data, c, server.process.pid)),  # type: ignore[misc]
                )
                naive_figures = summarise_round(n_records, n_hot, n_t0, n_t1, n_cpu, clients)
                naive_figures["double_bookings_in_database"] = double_bookings(data)
                log(
                    f"  {naive_figures['bookings_per_second']} bookings/s,"
                    f" POST p99 {naive_figures['post_latency'].get('p99_ms')} ms, cpu {n_cpu}"
                )
                naives.append(naive_figures)
                reset(data)
                if RUN_SQL:
                    used = min(clients, connections_available() - 5)
                    connection.close()
                    logged = log_offset()
                    sql = step(f"pgbench, {used} clients", lambda u=used: run_pgbench(u, var))  # type: ignore[misc]
                    if STATEMENT_STATS:
                        sql["statement_stats"] = statements_between(logged, log_offset())
                    sql["clients_asked"] = clients
                    sql["slots_with_two_active_bookings"] = double_bookings(data)["slots_with_two_active"]
                    log(f"  {sql['transactions_per_second']} tx/s, p99 {sql['latency'].get('p99_ms')} ms")
                    baseline.append(sql)
                    reset(data)
                    joined = step(
                        f"pgbench with Django's locks, {used} clients",
                        lambda u=used: run_pgbench(u, var, django_lock_script(var), LOCKS_SECONDS),  # type: ignore[misc]
                    )
                    log(f"  {joined['transactions_per_second']} tx/s, p99 {joined['latency'].get('p99_ms')} ms")
                    locked.append({k: joined[k] for k in ("clients", "transactions_per_second", "latency")})
                    reset(data)
                connection.close()
            # What the server sustains: booking answers (302 and 409) per second, the best round.
            sustained = max((r["post_status"]["302"] + r["post_status"]["409"]) / r["seconds"] for r in rounds)
            flood = step(
                "overload",
                lambda: asyncio.run(overload(server, data, sustained * OVERLOAD_FACTOR, server.process.pid)),
            )
            flood["double_bookings_in_database"] = double_bookings(data)
            log(f"  {flood['outcomes']}, failures {flood['failures']}, 503 p99 {flood['latency_503'].get('p99_ms')} ms")
            reset(data)
            connection.close()
        finally:
            server_log = stop_server(server)
        settings_used = waiting_room_settings()
        connection.close()
    if not baseline:  # a tuning run without the SQL side
        baseline = [{"clients": r["clients"], "transactions_per_second": float("nan"), "latency": {}} for r in rounds]
    baseline_doubles = sum(b.get("slots_with_two_active_bookings", 0) for b in baseline)
    comparison = []
    for app, sql, naive in zip(rounds, baseline, naives, strict=True):
        comparison.append(
            {
                "clients": app["clients"],
                "app_bookings_per_second": app["bookings_per_second"],
                "sql_transactions_per_second": sql["transactions_per_second"],
                "sql_clients": sql["clients"],
                "ratio_app_to_sql": round(app["bookings_per_second"] / sql["transactions_per_second"], 3),
                "app_post_p99_ms": app["post_latency"].get("p99_ms"),
                "sql_p99_ms": sql["latency"].get("p99_ms"),
                **cpu_ratio(app, sql),
                **cost_ratios(app, sql, naive),
            }
        )
    for c in comparison:
        log(
            f"cost at {c['clients']} clients: PostgreSQL {c.get('postgres_cpu_ms_per_booking')} ms per booking,"
            f" {c.get('db_cost_to_bare_sql')} x the bare transaction; server {c.get('server_cpu_ms_per_booking')} ms,"
            f" {c.get('web_cost_to_naive')} x the naive view"
        )
    at_goal = next((c for c in comparison if c["clients"] == GOAL_AT), comparison[-1])
    app_at_goal = next((r for r in rounds if r["clients"] == at_goal["clients"]), rounds[-1])
    naive = next((n for n in naives if n["clients"] == at_goal["clients"]), naives[-1])
    doubles = sum(c["slots_with_two_bookings"] + c["slots_with_two_active"] for c in checks)
    doubles += sum(r["slots_booked_twice_seen_by_clients"] for r in rounds)
    doubles += flood["double_bookings_in_database"]["slots_with_two_bookings"]
    doubles += flood["slots_booked_twice_seen_by_clients"] + baseline_doubles
    return {
        "what": "booking POSTs over HTTP into K hot slots (gunicorn, PostgreSQL) vs the bare SQL booking transaction "
        "(pgbench, same database, same client counts)",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "unit": "bookings/s",
        "value": at_goal["app_bookings_per_second"],
        "baseline": at_goal["sql_transactions_per_second"],
        "ratio": at_goal["ratio_app_to_sql"],
        "p99_ms": at_goal["app_post_p99_ms"],
        "double_bookings": doubles,
        "db_cost_to_bare_sql": at_goal.get("db_cost_to_bare_sql"),
        "web_cost_to_naive": at_goal.get("web_cost_to_naive"),
        "cost_per_round": [
            {
                k: c.get(k)
                for k in (
                    "clients",
                    "postgres_cpu_ms_per_booking",
                    "postgres_cpu_ms_per_bare_transaction",
                    "db_cost_to_bare_sql",
                    "server_cpu_ms_per_booking",
                    "naive_server_cpu_ms_per_booking",
                    "web_cost_to_naive",
                )
            }
            for c in comparison
        ],
        "goal": {
            "ratio_at_least": GOAL_RATIO,
            "p99_ms_below": GOAL_P99_MS,
            "at_clients": GOAL_AT,
            "double_bookings": 0,
            "ratio_met": at_goal["ratio_app_to_sql"] >= GOAL_RATIO,
            "p99_met": (at_goal["app_post_p99_ms"] or 1e9) < GOAL_P99_MS,
            "no_double_bookings": doubles == 0,
            "overload_only_success_or_503": flood["failures"] == 0,
            "db_cost_to_bare_sql_at_most": GOAL_DB_COST,
            "web_cost_to_naive_at_most": GOAL_WEB_COST,
            "db_cost_met": (at_goal.get("db_cost_to_bare_sql") or 1e9) <= GOAL_DB_COST,
            "web_cost_met": (at_goal.get("web_cost_to_naive") or 1e9) <= GOAL_WEB_COST,
        },
        "database": database,
        "sessions_and_cache": stores,
        "setup": {
            "hot_slots": HOT_SLOTS,
            "pool_slots": POOL_SLOTS,
            "residents": RESIDENTS,
            "ramp_seconds": RAMP_SECONDS,
            "round_seconds": ROUND_SECONDS,
            "sql_seconds": SQL_SECONDS,
            "client_timeout_seconds": CLIENT_TIMEOUT,
            "think_time": 0,
            "sms_reminder_share": SMS_SHARE,
            "server": gunicorn_settings(),
            "waiting_room": settings_used,
            "load_generator": "asyncio, one keep-alive connection per client (bench/rush_http.py), same machine",
        },
        "comparison": comparison,
        "naive_view_calibration": {
            "what": "the issue's 'naive Django booking view' (bench/booking_rush_urls.naive: no login, no page, no "
            "notices) on the same server, slots and clients, right after the app's round at each N",
            "clients": at_goal["clients"],
            "bookings_per_second": naive["bookings_per_second"],
            "ratio_to_sql": round(naive["bookings_per_second"] / at_goal["sql_transactions_per_second"], 3),
            "app_to_naive": round(at_goal["app_bookings_per_second"] / naive["bookings_per_second"], 3)
            if naive["bookings_per_second"]
            else None,
            "round": naive,
            "rounds": naives,
        },
        "app_rounds": rounds,
        "sql_baseline": baseline,
        "sql_with_djangos_lock_footprint": locked,
        "overload": flood,
        "server_log": server_log,
        "query_profile": profile,
        "sequential_cost": sequential,
        "app_at_goal_clients": {k: app_at_goal[k] for k in ("post_status", "cpu_cores")},
        "run_seconds": round(time.perf_counter() - began, 1),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
    }


def cost_ratios(app: dict[str, Any], sql: dict[str, Any], naive: dict[str, Any]) -> dict[str, Any]:
    """What a booking costs, per round: PostgreSQL's CPU per booking (the backends serving the
    server, confirmation pages and refusals included) against its CPU per bare SQL transaction in
    the pgbench run at the same N, and the server's CPU per booking against the naive view's
    (goals: at most GOAL_DB_COST and GOAL_WEB_COST)."""
    app_ms, naive_ms = app["cpu_ms_per_booking"], naive["cpu_ms_per_booking"]
    bare_ms = sql.get("cpu_ms_per_transaction", {}).get("postgres_backends")
    figures: dict[str, Any] = {
        "postgres_cpu_ms_per_booking": app_ms["postgres_backends"],
        "postgres_cpu_ms_per_bare_transaction": bare_ms,
        "server_cpu_ms_per_booking": app_ms["server"],
        "naive_server_cpu_ms_per_booking": naive_ms["server"],
    }
    if app_ms["postgres_backends"] and bare_ms:
        figures["db_cost_to_bare_sql"] = round(app_ms["postgres_backends"] / bare_ms, 2)
    if app_ms["server"] and naive_ms["server"]:
        figures["web_cost_to_naive"] = round(app_ms["server"] / naive_ms["server"], 2)
    return figures


def cpu_ratio(app: dict[str, Any], sql: dict[str, Any]) -> dict[str, Any]:
    """The same ratio per CPU second, which other work on the machine disturbs much less: app
    (server + its PostgreSQL backends) against SQL (pgbench + its backends)."""
    app_cores = app["cpu_cores"]["server"] + app["cpu_cores"]["postgres_backends"]
    sql_cores = sql.get("cpu_cores", {}).get("pgbench", 0) + sql.get("cpu_cores", {}).get("postgres_backends", 0)
    if not app_cores or not sql_cores or not app["bookings_per_second"]:
        return {}
    app_per_core = app["bookings_per_second"] / app_cores
    sql_per_core = sql["transactions_per_second"] / sql_cores
    return {
        "app_bookings_per_cpu_second": round(app_per_core, 1),
        "sql_transactions_per_cpu_second": round(sql_per_core, 1),
        "ratio_per_cpu_second": round(app_per_core / sql_per_core, 3),
    }


def waiting_room_settings() -> dict[str, Any]:
    from django.conf import settings

    return {name: getattr(settings, name) for name in dir(settings) if name.startswith("WAITING_ROOM_")}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
