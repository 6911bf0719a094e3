"""The unit statistics page on a region with 10,000,000 cases, against the bare SQL of its figures.

In one throwaway PostgreSQL database (``vk_bench_statistics`` on 127.0.0.1:5432: created, migrated,
given the demo region with ``load_demo --no-activity``, dropped at the end):

1. **The region.** 288 more units beside the demo's 12 (300, across the five administrations), each
   offering the demo's seven case types. **10,000,000 cases** over the two years up to today,
   generated in SQL (``INSERT … SELECT … FROM generate_series``) by two sessions side by side:
   - spread over units by a skewed size distribution; the measured unit, Vårdcentralen Lindängen
     (where the demo's unit administrator works), gets 1.5 % (about 150,000 cases, 6,000 a month);
   - over the case types by weight (advice most, certificates least);
   - received on weekdays and evenings 07-22 (a share of the weekend's cases moved to Monday, as
     patients write on Monday morning), Stockholm time;
   - ``deadline_passes_at`` and ``deadline_last_day`` from the real calendar
     (``core.calendar.answer_deadline``, Swedish holidays), looked up per day of receipt;
   - first answer after 0.3 to 70 hours (skewed towards hours; 3 % a further three days late, so
     some miss the target), closing up to four days later; statuses and outcomes consistent with
     both (and the table's check constraints); 2 % withdrawn unanswered; cases too recent to be
     answered or closed are open; a realistic ``answers`` document on each case.
   The load drops the table's indexes, primary key, unique and foreign-key constraints first and
   builds them again afterwards (the foreign keys re-validated over all rows), with
   ``synchronous_commit = off`` for the loading sessions; the table stays an ordinary logged one.
   Then ``VACUUM ANALYZE``. Each step is timed.
2. **Bookings** for the measured unit: two practitioners' 20-minute slots on weekdays over the two
   years and the coming twelve weeks (some phone-only), 80 % booked, online or by staff, some
   cancelled or moved online.
3. **Measurement.** The unit statistics page (``statistics:unit``) through Django's test client,
   logged in as the unit administrator (a session as a completed OIDC login leaves it), DEBUG off,
   against the raw SQL aggregate statements that produce the same figures (written by hand below,
   run on the same connection), interleaved, for two periods: the default (the last full month)
   and the last twelve full months. The raw results are checked against the page's figures.
   Also: the SQL statements of one page request (count and time), the same count for a small
   unit (it must be equal: no query per case), and, for information, the regional page of the
   whole region and the public page's figures (uncached).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "vk_bench_statistics"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"

CASES = int(os.environ.get("VK_BENCH_CASES", "10000000"))
UNITS = 300
BIG_UNIT_SHARE = 0.015
DAYS = 730
CHUNK = 1_000_000
WARMUP, REPEAT = 3, 15
RATIO_GOAL = 1.5
SEED = 20261125
# (kind, weight): the demo's seven case types, most cases are advice and contact requests.
KIND_WEIGHTS = [
    ("advice", 30),
    ("contact_me", 20),
    ("renew_prescription", 20),
    ("request_appointment", 12),
    ("test_results", 8),
    ("cancel_rebook", 6),
    ("request_certificate", 4),
]
ANSWERS = (
    '[{"key": "what", "label": "Beskriv ditt ärende", "value": "Jag har haft ont i halsen och feber i en vecka '
    'och undrar om jag behöver komma in eller om det räcker med egenvård."}]'
)


def step(name: str, action: Callable[[], Any], timings: dict[str, float]) -> Any:
    began = time.perf_counter()
    print(f"{name} …", file=sys.stderr, flush=True)
    result = action()
    timings[name] = round(time.perf_counter() - began, 1)
    print(f"{name}: {timings[name]} s", file=sys.stderr, flush=True)
    return result


# --- the throwaway database ------------------------------------------------------------------------


# For working on the page only: VK_BENCH_KEEP=1 keeps the database after the run, and VK_BENCH_REUSE=1
# measures again on a kept one instead of building the region anew. `make bench` uses neither.
KEEP = os.environ.get("VK_BENCH_KEEP") == "1"
REUSE = os.environ.get("VK_BENCH_REUSE") == "1"


@contextlib.contextmanager
def throwaway_database() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database, dropped afterwards. Ten million cases are PostgreSQL's work; there
    is no SQLite fallback here."""
    import psycopg
    from psycopg import sql

    admin = psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True, connect_timeout=3
    )
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
    with admin:
        version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not (REUSE and exists):
            admin.execute(drop)
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
        os.environ["DATABASE_URL"] = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"
        try:
            yield {
                "engine": "postgresql",
                "version": version,
                "name": DB_NAME,
                "host": f"{PG_HOST}:{PG_PORT}",
                "reused": bool(REUSE and exists),
            }
        finally:
            from django.db import connections

            connections.close_all()
            if not KEEP:
                admin.execute(drop)


def django_setup() -> None:
    import django

    os.environ["DJANGO_DEBUG"] = "false"  # as in production: no query log kept
    os.environ["VK_DEMO"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "vardkontakt.settings"
    django.setup()


def session() -> Any:
    """A separate connection for the loading work (autocommit; one per thread)."""
    import psycopg

    conn = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=DB_NAME, autocommit=True)
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("SET max_parallel_maintenance_workers = 0")  # two sessions already share the two cores
    conn.execute("SET work_mem = '64MB'")
    return conn


def side_by_side(jobs: list[Callable[[Any], None]], sessions: int = 2) -> None:
    """Run the jobs on ``sessions`` connections at once, each taking the next job when free."""
    queue = list(reversed(jobs))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker() -> None:
        conn = session()
        try:
            while True:
                with lock:
                    if not queue or failures:
                        return
                    job = queue.pop()
                job(conn)
        except BaseException as error:  # reported after the join
            failures.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


# --- 1. the region -----------------------------------------------------------------------------------


def bench_units(rng: random.Random) -> list[Any]:
    """288 more units with the seven services; returns all units, the measured one first."""
    from vardkontakt.cases.defaults import DEFAULT_QUESTIONS, DEFAULT_TERMS, SWEDISH_NAMES
    from vardkontakt.cases.models import Service
    from vardkontakt.organisation.models import Administration, CareUnit

    administrations = list(Administration.objects.order_by("name"))
    extra = [
        CareUnit(
            administration=administrations[n % len(administrations)],
            hsa_id=f"SE2321000255-B{n:04d}",
            name=f"Bänkenheten {n:03d}",
            kind="primary_care",
            street_address=f"Provgatan {n}",
            postal_code="21000",
            city="Malmö",
            phone="040-00 00 00",
            opening_hours="Vardagar 8-17",
        )
        for n in range(UNITS - CareUnit.objects.count())
    ]
    CareUnit.objects.bulk_create(extra)
    kinds = [kind for kind, _weight in KIND_WEIGHTS]
    Service.objects.bulk_create(
        Service(unit=unit, kind=kind, name=SWEDISH_NAMES[kind], questions=DEFAULT_QUESTIONS[kind], terms=DEFAULT_TERMS)  # type: ignore[index]
        for unit in extra
        for kind in kinds
    )
    big = CareUnit.objects.get(name="Vårdcentralen Lindängen")
    others = list(CareUnit.objects.exclude(pk=big.pk).order_by("hsa_id"))
    rng.shuffle(others)
    return [big, *others]


def unit_slots(units: list[Any], rng: random.Random) -> list[tuple[int, uuid.UUID]]:
    """10,000 slots, each naming a unit: the measured unit 1.5 %, the rest by a skewed size."""
    big_slots = round(10_000 * BIG_UNIT_SHARE)
    weights = [rng.lognormvariate(0, 0.8) for _ in units[1:]]
    scale = (10_000 - big_slots) / sum(weights)
    counts = [max(1, round(w * scale)) for w in weights]
    counts[0] += 10_000 - big_slots - sum(counts)
    slots: list[uuid.UUID] = [units[0].pk] * big_slots
    for unit, count in zip(units[1:], counts, strict=True):
        slots += [unit.pk] * count
    return list(enumerate(slots[:10_000]))


def prepare_lookups(units: list[Any], rng: random.Random, today: dt.date) -> None:
    """Tables the generator joins: unit per slot, the units' services in kind order, deadlines per day,
    case type per slot, and the patients."""
    from django.db import connection

    from vardkontakt.cases.models import Service
    from vardkontakt.core.calendar import STOCKHOLM, answer_deadline

    kinds = [kind for kind, _weight in KIND_WEIGHTS]
    services: dict[uuid.UUID, dict[str, uuid.UUID]] = {}
    for unit_id, kind, pk in Service.objects.filter(kind__in=kinds).values_list("unit_id", "kind", "id"):
        services.setdefault(unit_id, {})[kind] = pk
    kind_slots = [index + 1 for index, (_kind, weight) in enumerate(KIND_WEIGHTS) for _ in range(weight)]
    first = today - dt.timedelta(days=DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_unit_slot (k int PRIMARY KEY, unit_id uuid NOT NULL, services uuid[] NOT NULL)"
        )
        cursor.executemany(
            "INSERT INTO bench_unit_slot VALUES (%s, %s, %s)",
            [(k, unit_id, [services[unit_id][kind] for kind in kinds]) for k, unit_id in unit_slots(units, rng)],
        )
        cursor.execute("CREATE TABLE bench_kind_slot (k int PRIMARY KEY, service_index int NOT NULL)")
        cursor.executemany("INSERT INTO bench_kind_slot VALUES (%s, %s)", list(enumerate(kind_slots)))
        cursor.execute(
            "CREATE TABLE bench_deadline (day date PRIMARY KEY, last_day date NOT NULL, passes_at timestamptz NOT NULL)"
        )
        rows = []
        for n in range(DAYS + 14):
            day = first + dt.timedelta(days=n)
            deadline = answer_deadline(dt.datetime.combine(day, dt.time(12), tzinfo=STOCKHOLM), 2)
            rows.append((day, deadline.last_day, deadline.passes_at))
        cursor.executemany("INSERT INTO bench_deadline VALUES (%s, %s, %s)", rows)
        cursor.execute("CREATE TABLE bench_patient (k int PRIMARY KEY, id uuid NOT NULL)")
        cursor.execute("INSERT INTO bench_patient SELECT row_number() OVER (ORDER BY id) - 1, id FROM identity_patient")
        cursor.execute("ANALYZE bench_unit_slot, bench_kind_slot, bench_deadline, bench_patient")


GENERATE = """
INSERT INTO cases_case (id, unit_id, service_id, patient_id, created_by_id, answers, status, outcome, assigned_to_id,
                        received_at, deadline_last_day, deadline_passes_at, first_answered_at, closed_at, version,
                        idempotency_key)
SELECT gen_random_uuid(), u.unit_id, u.services[ks.service_index], p.id, p.id, %(answers)s::jsonb,
       CASE WHEN h.withdrawn_at IS NOT NULL THEN 'closed'
            WHEN h.answered_at IS NULL THEN CASE WHEN h.r6 < 0.6 THEN 'received' ELSE 'in_progress' END
            WHEN h.closed_at IS NOT NULL THEN 'closed'
            -- Answered and not closed: an old case rests as answered; a recent one may still wait for the
            -- patient or for the unit's call (open).
            WHEN h.received_at < %(now)s - interval '14 days' OR h.r6 < 0.5 THEN 'answered'
            WHEN h.r6 < 0.8 THEN 'waiting_for_patient' ELSE 'will_call'
       END,
       CASE WHEN h.withdrawn_at IS NOT NULL THEN 'withdrawn'
            WHEN h.closed_at IS NULL THEN ''
            WHEN h.r6 < 0.7 THEN 'answered' WHEN h.r6 < 0.85 THEN 'booked' WHEN h.r6 < 0.95 THEN 'will_call'
            ELSE 'referred'
       END,
       NULL, h.received_at, d.last_day, d.passes_at, h.answered_at, coalesce(h.withdrawn_at, h.closed_at), 1,
       'bench-' || h.i
FROM (
    SELECT a.*,
           CASE WHEN a.withdraws AND a.received_at + a.withdraw_after <= %(now)s THEN a.received_at + a.withdraw_after END
               AS withdrawn_at,
           CASE WHEN NOT a.withdraws AND a.received_at + a.answer_after <= %(now)s THEN a.received_at + a.answer_after END
               AS answered_at,
           CASE WHEN NOT a.withdraws AND a.closes AND a.received_at + a.answer_after + a.close_after <= %(now)s
                THEN a.received_at + a.answer_after + a.close_after END AS closed_at
    FROM (
        SELECT l.*,
               ((l.day + make_interval(hours => 7 + floor(l.r2 * 15)::int, mins => floor(l.r3 * 60)::int,
                                       secs => floor(l.r4 * 60)::int))::timestamp AT TIME ZONE 'Europe/Stockholm')
                   AS received_at,
               l.r5 < 0.02 AS withdraws,
               make_interval(secs => 3600 + l.r6 * 72000) AS withdraw_after,
               make_interval(secs => 3600 * (0.3 + 70 * power(l.r7, 2.5) + CASE WHEN l.r8 < 0.03 THEN 72 ELSE 0 END))
                   AS answer_after,
               l.r8 >= 0.1 AS closes,
               make_interval(secs => 3600 * (0.2 + 96 * power(l.r9, 2))) AS close_after
        FROM (
            SELECT g.i, g.r1, g.r2, g.r3, g.r4, g.r5, g.r6, g.r7, g.r8, g.r9, g.unit_k, g.kind_k, g.patient_k,
                   -- Patients write less at weekends; part of the weekend's cases arrive on Monday.
                   CASE WHEN extract(isodow FROM g.day0) >= 6 AND g.r1 < 0.6
                        THEN g.day0 + (8 - extract(isodow FROM g.day0))::int ELSE g.day0 END AS day
            FROM (
                SELECT i, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
                       random() AS r6, random() AS r7, random() AS r8, random() AS r9,
                       floor(random() * 10000)::int AS unit_k, floor(random() * 100)::int AS kind_k,
                       floor(random() * %(patients)s)::int AS patient_k,
                       %(first)s::date + floor(random() * %(days)s)::int AS day0
                FROM generate_series(%(low)s, %(high)s) AS i
            ) g
        ) l
    ) a
) h
JOIN bench_unit_slot u ON u.k = h.unit_k
JOIN bench_kind_slot ks ON ks.k = h.kind_k
JOIN bench_patient p ON p.k = h.patient_k
JOIN bench_deadline d ON d.day = (h.received_at AT TIME ZONE 'Europe/Stockholm')::date
WHERE h.received_at <= %(now)s
"""


def table_definitions(conn: Any) -> dict[str, list[str]]:
    """The cases table's indexes and constraints (and the foreign keys pointing at it), as SQL."""
    indexes = [
        row[0]
        for row in conn.execute(
            """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = 'cases_case'::regclass
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"""
        )
    ]
    own = list(
        conn.execute(
            """SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint
               WHERE conrelid = 'cases_case'::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC"""
        )
    )
    pointing = list(
        conn.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE confrelid = 'cases_case'::regclass AND contype = 'f'"""
        )
    )
    return {
        "drop": [f'ALTER TABLE "{t}" DROP CONSTRAINT "{n}"' for t, n, _d in pointing]
        + [f'ALTER TABLE cases_case DROP CONSTRAINT "{n}"' for n, _d, kind in own if kind == "f"]
        + [f'ALTER TABLE cases_case DROP CONSTRAINT "{n}"' for n, _d, kind in own if kind != "f"]
        + [f'DROP INDEX "{row.split(" ON ")[0].split()[-1]}"' for row in indexes],
        "keys": [f'ALTER TABLE cases_case ADD CONSTRAINT "{n}" {d}' for n, d, kind in own if kind != "f"],
        "indexes": indexes,
        "foreign": [f'ALTER TABLE cases_case ADD CONSTRAINT "{n}" {d}' for n, d, kind in own if kind == "f"]
        + [f'ALTER TABLE "{t}" ADD CONSTRAINT "{n}" {d}' for t, n, d in pointing],
    }


def generate_cases(now: dt.datetime, today: dt.date, patients: int, timings: dict[str, float]) -> dict[str, Any]:
    conn = session()
    definitions = table_definitions(conn)
    for statement in definitions["drop"]:
        conn.execute(statement)
    conn.close()
    first = today - dt.timedelta(days=DAYS)
    bounds = list(range(0, CASES, CHUNK))
    done = [0]

    def chunk(low: int) -> Callable[[Any], None]:
        def run(conn: Any) -> None:
            conn.execute("SELECT setseed(%s)", [((low // CHUNK) % 100) / 100 + 0.001])
            params = {
                "answers": ANSWERS,
                "now": now,
                "patients": patients,
                "first": first,
                "days": DAYS,
                "low": low,
                "high": min(low + CHUNK, CASES) - 1,
            }
            conn.execute(GENERATE, params)
            done[0] += min(low + CHUNK, CASES) - low
            print(f"  {done[0]:,} cases", file=sys.stderr, flush=True)

        return run

    step("generate cases (2 sessions)", lambda: side_by_side([chunk(low) for low in bounds]), timings)

    def run_each(statement: str) -> Callable[[Any], None]:
        return lambda conn: conn.execute(statement)

    # The biggest first, so the two sessions finish together.
    keys_and_indexes = [*definitions["keys"], *definitions["indexes"]]
    step(
        "primary key, unique and indexes (2 sessions)",
        lambda: side_by_side([run_each(s) for s in keys_and_indexes]),
        timings,
    )
    step("foreign keys, validated", lambda: side_by_side([run_each(s) for s in definitions["foreign"]]), timings)

    def vacuum() -> None:
        conn = session()
        conn.execute("VACUUM (ANALYZE) cases_case")
        conn.close()

    step("VACUUM ANALYZE", vacuum, timings)
    conn = session()
    count = conn.execute("SELECT count(*) FROM cases_case").fetchone()[0]
    size = conn.execute(
        "SELECT pg_size_pretty(pg_table_size('cases_case')), pg_size_pretty(pg_indexes_size('cases_case'))"
    ).fetchone()
    conn.close()
    return {
        "cases": count,
        "table_size": size[0],
        "indexes_size": size[1],
        "rebuilt": len(keys_and_indexes) + len(definitions["foreign"]),
    }


# --- 2. bookings of the measured unit ---------------------------------------------------------------

BOOKINGS = """
WITH vt AS (
    INSERT INTO booking_visittype (id, unit_id, name, duration_minutes, profession, bookable_online,
                                   rebookable_online, cancellation_deadline_hours, active)
    VALUES (gen_random_uuid(), %(unit)s, 'Bänkbesök', 20, 'nurse', true, true, 24, true) RETURNING id
), days AS (
    SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date, '1 day') d
    WHERE extract(isodow FROM d) < 6
), slots AS (
    INSERT INTO booking_slot (id, unit_id, practitioner_id, visit_type_id, place, starts_at, ends_at, channel, held_back)
    SELECT gen_random_uuid(), %(unit)s, p.id, vt.id, 'Rum 1',
           (day + make_interval(hours => 8, mins => 20 * n))::timestamp AT TIME ZONE 'Europe/Stockholm',
           (day + make_interval(hours => 8, mins => 20 * n + 20))::timestamp AT TIME ZONE 'Europe/Stockholm',
           CASE WHEN n %% 7 = 3 THEN 'phone' ELSE 'online' END, ''
    FROM days, vt, unnest(%(practitioners)s::uuid[]) AS p(id), generate_series(0, 23) AS n
    RETURNING id, starts_at, channel
)
INSERT INTO booking_booking (id, slot_id, patient_id, channel, booked_by_patient_id, booked_by_staff_id, status,
                             created_at, ended_at, ended_online, rebooked_from_id, sms_reminder, overbooked,
                             overbook_reason, idempotency_key)
SELECT gen_random_uuid(), s.id, %(patient)s, b.channel,
       CASE WHEN b.channel = 'online' THEN %(patient)s::uuid END, CASE WHEN b.channel = 'phone' THEN %(staff)s::uuid END,
       b.status, b.created_at,
       CASE WHEN b.status <> 'active' THEN b.created_at + (s.starts_at - b.created_at) / 2 END,
       b.status <> 'active' AND (b.status = 'rebooked' OR b.channel = 'online'), NULL, false, false, '', NULL
FROM slots s, LATERAL (
    SELECT CASE WHEN s.channel = 'phone' OR random() < 0.35 THEN 'phone' ELSE 'online' END AS channel,
           CASE WHEN r < 0.08 THEN 'cancelled' WHEN r < 0.12 THEN 'rebooked' ELSE 'active' END AS status,
           s.starts_at - make_interval(hours => 2 + floor(random() * 900)::int) AS created_at, r
    FROM (SELECT random() AS r) rr
) b
WHERE random() < 0.8 AND b.created_at <= %(now)s
"""


def generate_bookings(unit: Any, now: dt.datetime, today: dt.date) -> int:
    from django.db import connection

    from vardkontakt.organisation.models import Membership

    staff = [m.staff_id for m in Membership.objects.filter(unit=unit).order_by("role")[:2]]
    patient = unit.listings.values_list("patient_id", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            BOOKINGS,
            {
                "unit": unit.pk,
                "first": today - dt.timedelta(days=DAYS),
                "last": today + dt.timedelta(weeks=12),
                "practitioners": staff,
                "patient": patient,
                "staff": staff[0],
                "now": now,
            },
        )
        cursor.execute("ANALYZE booking_slot, booking_booking")
        cursor.execute("SELECT count(*) FROM booking_booking")
        return int(cursor.fetchone()[0])


# --- 3. the raw SQL of the page's figures -----------------------------------------------------------

RAW_KINDS = """
SELECT s.kind, c.status, c.outcome, count(*)
FROM cases_case c JOIN cases_service s ON s.id = c.service_id
WHERE c.unit_id = %(unit)s AND c.received_at >= %(start)s AND c.received_at < %(end)s
GROUP BY 1, 2, 3
"""
RAW_HANDLING = """
SELECT count(*),
       count(*) FILTER (WHERE first_answered_at IS NOT NULL),
       count(*) FILTER (WHERE status = 'closed' AND outcome <> 'withdrawn'),
       count(*) FILTER (WHERE first_answered_at <= deadline_passes_at),
       count(*) FILTER (WHERE first_answered_at > deadline_passes_at
                           OR (first_answered_at IS NULL AND deadline_passes_at <= %(now)s
                               AND NOT (status = 'closed' AND outcome = 'withdrawn' AND closed_at < deadline_passes_at))),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_answered_at - received_at),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY first_answered_at - received_at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY closed_at - received_at)
           FILTER (WHERE status = 'closed' AND outcome <> 'withdrawn'),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY closed_at - received_at)
           FILTER (WHERE status = 'closed' AND outcome <> 'withdrawn')
FROM cases_case
WHERE unit_id = %(unit)s AND received_at >= %(start)s AND received_at < %(end)s
"""
RAW_OPEN = """
SELECT count(*), count(*) FILTER (WHERE first_answered_at IS NULL),
       count(*) FILTER (WHERE first_answered_at IS NULL AND deadline_passes_at <= %(now)s)
FROM cases_case
WHERE unit_id = %(unit)s AND status IN ('received', 'in_progress', 'waiting_for_patient', 'will_call')
"""
RAW_BOOKINGS = """
SELECT count(*) FILTER (WHERE made AND b.channel = 'online'), count(*) FILTER (WHERE made AND b.channel = 'phone'),
       count(*) FILTER (WHERE ended AND b.status = 'cancelled'), count(*) FILTER (WHERE ended AND b.status = 'rebooked')
FROM booking_booking b JOIN booking_slot s ON s.id = b.slot_id,
     LATERAL (SELECT b.created_at >= %(start)s AND b.created_at < %(end)s AND b.rebooked_from_id IS NULL AS made,
                     b.ended_at >= %(start)s AND b.ended_at < %(end)s AND b.ended_online AS ended) f
WHERE s.unit_id = %(unit)s AND (made OR coalesce(ended, false))
"""


def raw_coverage(bounds: list[dt.datetime]) -> tuple[str, dict[str, Any]]:
    """The eight weeks grouped by a CASE on the local Mondays' instants (the page's statement is the
    same; grouping measured a little faster on PostgreSQL than sixteen filtered counts)."""
    open_online = "s.channel = 'online' AND s.held_back = '' AND v.bookable_online AND v.active"
    last = len(bounds) - 1
    params: dict[str, Any] = {f"b{n}": bound for n, bound in enumerate(bounds)}
    week = " ".join(f"WHEN s.starts_at < %(b{n + 1})s THEN {n}" for n in range(last - 1))
    sql = (
        f"SELECT CASE {week} ELSE {last - 1} END AS week, count(*), count(*) FILTER (WHERE {open_online}) "  # noqa: S608 (fixed text)
        "FROM booking_slot s JOIN booking_visittype v ON v.id = s.visit_type_id "
        f"WHERE s.unit_id = %(unit)s AND s.starts_at >= %(b0)s AND s.starts_at < %(b{last})s GROUP BY 1"
    )
    return sql, params


def run_raw(unit: Any, start: dt.datetime, end: dt.datetime, now: dt.datetime, today: dt.date) -> dict[str, Any]:
    from django.db import connection

    from vardkontakt.booking.coverage import week_starts
    from vardkontakt.booking.schedule import local_instant

    mondays = week_starts(today)
    bounds = [local_instant(m, dt.time()) for m in [*mondays, mondays[-1] + dt.timedelta(weeks=1)]]
    coverage_sql, coverage_params = raw_coverage(bounds)
    params = {"unit": unit.pk, "start": start, "end": end, "now": now}
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for name, sql, args in [
            ("kinds", RAW_KINDS, params),
            ("handling", RAW_HANDLING, params),
            ("open", RAW_OPEN, params),
            ("bookings", RAW_BOOKINGS, params),
            ("coverage", coverage_sql, {**coverage_params, "unit": unit.pk}),
        ]:
            cursor.execute(sql, args)
            found[name] = cursor.fetchall()
    return found


def check_same_figures(
    raw: dict[str, Any], unit: Any, start: dt.datetime, end: dt.datetime, now: dt.datetime, today: dt.date
) -> None:
    """The raw statements and the page's code must produce the same figures."""
    from vardkontakt.booking.coverage import unit_coverage
    from vardkontakt.usage_statistics.figures import (
        TOTAL,
        bookings_by_unit,
        handling_times,
        kind_and_status_counts,
        unanswered_now,
    )
    from vardkontakt.usage_statistics.periods import Period

    period = Period((start + dt.timedelta(hours=12)).date(), (end - dt.timedelta(hours=12)).date())
    assert (period.start, period.end) == (start, end)
    cases = [unit.pk]
    h = handling_times(cases, period, now, None)[TOTAL]
    assert list(raw["handling"][0]) == [
        h.received,
        h.answered,
        h.closed,
        h.in_time,
        h.missed,
        h.answer_median,
        h.answer_p90,
        h.close_median,
        h.close_p90,
    ], raw["handling"]
    counts = kind_and_status_counts(cases, period, None)[TOTAL]
    assert sum(n for *_k, n in raw["kinds"]) == counts.received
    by_kind: dict[str, int] = {}
    for kind, _status, _outcome, n in raw["kinds"]:
        by_kind[kind] = by_kind.get(kind, 0) + n
    assert {k: v for k, v in counts.by_kind.items() if v} == by_kind
    w = unanswered_now(cases, now, None)[TOTAL]
    assert list(raw["open"][0]) == [w.open, w.unanswered, w.overdue]
    b = bookings_by_unit([unit.pk], period)[unit.pk]
    assert list(raw["bookings"][0]) == [b.online, b.by_staff, b.cancelled_online, b.rebooked_online]
    weeks = unit_coverage(unit, today=today)
    counted = {week: (slots, open_online) for week, slots, open_online in raw["coverage"]}
    assert [counted.get(n, (0, 0)) for n in range(len(weeks))] == [(w.slots, w.open_online) for w in weeks]


# --- 4. measurement -----------------------------------------------------------------------------------


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[max(0, int(len(ordered) * 0.9) - 1)] * 1000, 2),
    }


def one_request_sql(client: Any, url: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    spent: list[tuple[float, str]] = []

    def clock(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append((time.perf_counter() - began, sql))

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(clock):
        assert client.get(url).status_code == 200
    return {
        "queries": len(captured.captured_queries),
        "sql_ms": round(sum(s for s, _ in spent) * 1000, 2),
        "slowest": [{"ms": round(s * 1000, 2), "sql": q[:200]} for s, q in sorted(spent, reverse=True)[:5]],
    }


def measure(unit: Any, small_unit: Any, now: dt.datetime, today: dt.date) -> dict[str, Any]:
    from django.test import Client
    from django.urls import reverse
    from django.utils.http import urlencode

    from tests.helpers import login_as
    from vardkontakt.identity.models import User
    from vardkontakt.organisation.models import Membership
    from vardkontakt.usage_statistics.periods import Period, last_full_month

    admin = Membership.objects.get(unit=unit, role="unit_admin").staff
    Membership.objects.get_or_create(staff=admin, unit=small_unit, defaults={"role": "unit_admin"})
    client = login_as(Client(HTTP_HOST="localhost"), User.objects.get_or_create_for_staff(admin))
    month = last_full_month(today)
    year = Period((month.last_day.replace(day=1) - dt.timedelta(days=334)).replace(day=1), month.last_day)
    figures: dict[str, Any] = {}
    for name, period in [("last_full_month", month), ("last_12_months", year)]:
        url = reverse("usage_statistics:unit", kwargs={"unit_id": unit.pk}) + "?" + urlencode(period.query)
        small_url = reverse("usage_statistics:unit", kwargs={"unit_id": small_unit.pk}) + "?" + urlencode(period.query)
        raw = run_raw(unit, period.start, period.end, now, today)
        check_same_figures(raw, unit, period.start, period.end, now, today)

        def page(target: str = url) -> float:
            began = time.perf_counter()
            response = client.get(target)
            elapsed = time.perf_counter() - began
            assert response.status_code == 200, response.status_code
            return elapsed

        def bare(p: Period = period) -> float:
            began = time.perf_counter()
            run_raw(unit, p.start, p.end, now, today)
            return time.perf_counter() - began

        for _ in range(WARMUP):
            page()
            bare()
        samples: dict[str, list[float]] = {"page": [], "raw_sql": []}
        for _ in range(REPEAT):  # interleaved: drift on a shared machine hits both alike
            samples["page"].append(page())
            samples["raw_sql"].append(bare())
        page_summary, raw_summary = summary(samples["page"]), summary(samples["raw_sql"])
        ratio = round(page_summary["median_ms"] / raw_summary["median_ms"], 2)
        big_sql, small_sql = one_request_sql(client, url), one_request_sql(client, small_url)
        handling = raw["handling"][0]
        figures[name] = {
            "period": period.query,
            "cases_in_period": handling[0],
            "page": page_summary,
            "raw_sql": raw_summary,
            "ratio_page_to_raw_sql_median": ratio,
            "ratio_goal_met": ratio <= RATIO_GOAL,
            "one_page_request": big_sql,
            "queries_small_unit": small_sql["queries"],
            "constant_query_count": big_sql["queries"] == small_sql["queries"],
            "figures": {
                "received": handling[0],
                "answered": handling[1],
                "closed_by_unit": handling[2],
                "in_time": handling[3],
                "missed": handling[4],
                "answer_median_h": round(handling[5].total_seconds() / 3600, 2) if handling[5] else None,
                "answer_p90_h": round(handling[6].total_seconds() / 3600, 2) if handling[6] else None,
                "close_median_h": round(handling[7].total_seconds() / 3600, 2) if handling[7] else None,
                "close_p90_h": round(handling[8].total_seconds() / 3600, 2) if handling[8] else None,
                "open_unanswered_overdue_now": list(raw["open"][0]),
                "bookings_online_staff_cancelled_moved": list(raw["bookings"][0]),
            },
        }
        print(
            f"  {name}: page {page_summary['median_ms']} ms, raw SQL {raw_summary['median_ms']} ms, ratio {ratio}, "
            f"queries {big_sql['queries']} (small unit {small_sql['queries']})",
            file=sys.stderr,
            flush=True,
        )
    return figures


def explain(unit: Any, now: dt.datetime, today: dt.date) -> dict[str, list[str]]:
    from django.db import connection

    from vardkontakt.usage_statistics.periods import last_full_month

    month = last_full_month(today)
    params = {"unit": unit.pk, "start": month.start, "end": month.end, "now": now}
    plans = {}
    with connection.cursor() as cursor:
        for name, sql in [("handling", RAW_HANDLING), ("kinds", RAW_KINDS), ("open", RAW_OPEN)]:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans[name] = [row[0] for row in cursor.fetchall()]
    return plans


def informational(now: dt.datetime, today: dt.date) -> dict[str, Any]:
    """The regional page for the whole region and the public figures, a few times each."""
    from django.test import Client
    from django.urls import reverse

    from tests.helpers import login_as
    from vardkontakt.identity.models import User
    from vardkontakt.organisation.models import RegionRole
    from vardkontakt.usage_statistics.figures import response_times
    from vardkontakt.usage_statistics.periods import days_back

    region_admin = RegionRole.objects.filter(role="region_admin").first()
    assert region_admin is not None
    client = login_as(Client(HTTP_HOST="localhost"), User.objects.get_or_create_for_staff(region_admin.staff))
    regional = []
    for _ in range(3):
        began = time.perf_counter()
        assert client.get(reverse("usage_statistics:regional")).status_code == 200
        regional.append(time.perf_counter() - began)
    public = []
    for _ in range(3):
        began = time.perf_counter()
        response_times(days_back(90, today))
        public.append(time.perf_counter() - began)
    return {
        "regional_page_whole_region_last_full_month": summary(regional),
        "public_figures_uncached_90_days": summary(public),
    }


def run() -> dict[str, object]:
    began = time.perf_counter()
    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as var, throwaway_database() as database:
        os.environ["VK_VAR_DIR"] = var
        django_setup()
        from django.core.management import call_command
        from django.utils import timezone

        from vardkontakt.identity.models import Patient

        if database["reused"]:
            from vardkontakt.booking.models import Booking
            from vardkontakt.organisation.models import CareUnit

            now, today = timezone.now(), timezone.localdate()
            big = CareUnit.objects.get(name="Vårdcentralen Lindängen")
            units = [big, *CareUnit.objects.exclude(pk=big.pk).order_by("name")]
            generated = {"cases": "reused", "table_size": "", "indexes_size": "", "rebuilt": 0}
            bookings = Booking.objects.count()
        else:
            step("migrate", lambda: call_command("migrate", verbosity=0), timings)
            step(
                "load_demo",
                lambda: call_command("load_demo", "--no-activity", verbosity=0, stdout=io.StringIO()),
                timings,
            )
            now = timezone.now()
            today = timezone.localdate(now)
            rng = random.Random(SEED)
            units = step("units and services", lambda: bench_units(rng), timings)
            step("lookup tables", lambda: prepare_lookups(units, rng, today), timings)
            generated = generate_cases(now, today, Patient.objects.count(), timings)
            bookings = step("bookings", lambda: generate_bookings(units[0], now, today), timings)
        small = units[-1]
        plans = explain(units[0], now, today)
        figures = step("measure", lambda: measure(units[0], small, now, today), timings)
        info = step("regional and public (information)", lambda: informational(now, today), timings)
    load_seconds = sum(
        v
        for k, v in timings.items()
        if k not in ("migrate", "load_demo", "measure", "regional and public (information)")
    )
    return {
        "what": "unit statistics page (Django test client, logged-in unit administrator, DEBUG off) vs the raw SQL "
        "aggregate statements of the same figures, on a region with 10,000,000 cases",
        "database": database,
        "setup": {
            "cases": generated["cases"],
            "units": UNITS,
            "measured_unit": {"name": units[0].name, "share_of_cases": BIG_UNIT_SHARE},
            "small_unit": small.name,
            "bookings_of_measured_unit": bookings,
            "days_of_cases": DAYS,
            "table_size": generated["table_size"],
            "indexes_size": generated["indexes_size"],
            "constraints_and_indexes_rebuilt": generated["rebuilt"],
            "client": "django.test.Client in process, logged-in session, DEBUG off",
            "warmup": WARMUP,
            "repetitions": REPEAT,
        },
        "timings_seconds": timings,
        "load_seconds": round(load_seconds, 1),
        "unit_page": figures,
        "goals": {
            "ratio_at_most": RATIO_GOAL,
            "ratio_met": {name: f["ratio_goal_met"] for name, f in figures.items()},
            "constant_query_count": all(f["constant_query_count"] for f in figures.values()),
        },
        "information": info,
        "plans_last_full_month": plans,
        "run_seconds": round(time.perf_counter() - began, 1),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
    }
