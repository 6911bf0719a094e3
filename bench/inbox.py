"""The staff inbox and the resident's "my cases" on a region with 1,000,000 cases, against the same
pages on a region with 1,000, measured side by side in the same run.

Two throwaway PostgreSQL databases on 127.0.0.1:5432, both migrated and given the demo region
(``load_demo --no-activity``; the second is a copy of the first, ``CREATE DATABASE … TEMPLATE``,
so both hold the same units, staff, services and residents with the same ids):

- ``vk_bench_inbox_big``: **1,000,000 cases**. The measured unit, Vårdcentralen Lindängen, holds
  100,000 open cases (40 % unassigned, 35 % assigned to the measured nurse, the rest to colleagues;
  deadlines from ten days ago to five days ahead, about half of them overdue) and 50,000 closed
  ones; the other eleven units 850,000, 5 % of them open. 200,000 residents (five cases each).
- ``vk_bench_inbox_small``: **1,000 cases**: the measured unit 700 open (same shares) and 200
  closed, the other units 100; 1,000 residents. The unit's lists are kept full (at least the 200
  rows a list shows), so both sides render the same page and the ratio is the cost of the data's
  size, not of a shorter table.

In both, every case has the patient's first message, the measured unit's first three services
(by name) go to nurses and the others to doctors, and the resident Tolvan has the same twelve
cases (open and closed, at the measured unit and others; one waits for his answer, two have
news), so their "my cases" page is the same page in both regions.

Each database is served by its own Python process (Django's test client, logged-in sessions as a
completed OIDC login leaves them, DEBUG off); this process sends them the page requests in turn
(small, big, small, big …), so load from other work on the machine hits both alike. Per page:
warm-up, then timed requests; median and p90; big ÷ small (goal ≤ 1.5); the SQL queries of one
request of each (goal: the same number) and the rows shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_SMALL, DB_BIG = "vk_bench_inbox_small", "vk_bench_inbox_big"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"

# (open in the measured unit, closed in it, cases at the other units, residents)
SIZES = {
    "big": (100_000, 50_000, 850_000, 200_000),
    "small": (700, 200, 100, 1_000),
}
WARMUP, REPEAT, ROUNDS = 5, 30, 3
RATIO_GOAL = 1.5
SEED = 20261206
MEASURED_UNIT = "Vårdcentralen Lindängen"
PROFESSION = "nurse"
ANSWERS = (
    '[{"key": "what", "label": "Beskriv ditt ärende", "kind": "long_text", "value": "Jag har haft ont i halsen '
    'och feber i en vecka och undrar om jag behöver komma in eller om det räcker med egenvård."}]'
)
KEEP = os.environ.get("VK_BENCH_KEEP") == "1"


def dsn(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def django_setup() -> None:
    import django

    os.environ["DJANGO_DEBUG"] = "false"  # as in production: no query log kept
    os.environ["VK_DEMO"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "vardkontakt.settings"
    django.setup()


def session(name: str) -> Any:
    import psycopg

    conn = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=name, autocommit=True)
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET work_mem = '64MB'")
    return conn


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[max(0, int(len(ordered) * 0.9) - 1)] * 1000, 2),
    }


def step(label: str, action: Any, timings: dict[str, float]) -> Any:
    began = time.perf_counter()
    print(f"{label} ...", file=sys.stderr, flush=True)
    result = action()
    timings[label] = round(time.perf_counter() - began, 1)
    print(f"{label}: {timings[label]} s", file=sys.stderr, flush=True)
    return result


@contextlib.contextmanager
def throwaway_databases() -> Iterator[dict[str, str]]:
    import psycopg
    from psycopg import sql

    admin = psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True, connect_timeout=3
    )
    drops = [sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(n)) for n in (DB_BIG, DB_SMALL)]
    with admin:
        version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        for drop in drops:
            admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_SMALL)))
        try:
            yield {"engine": "postgresql", "version": version, "names": f"{DB_BIG}, {DB_SMALL}"}
        finally:
            from django.db import connections

            connections.close_all()
            if not KEEP:
                for drop in drops:
                    admin.execute(drop)


# --- the regions ------------------------------------------------------------------------------------


def demo_region(timings: dict[str, float]) -> dict[str, Any]:
    """Migrate and load the demo into the small database; set the measured unit's services' professions;
    return the ids the generator and the page processes need."""
    from django.core.management import call_command

    from vardkontakt.cases.models import Service
    from vardkontakt.demo.logins import TOLVAN
    from vardkontakt.identity.models import Patient, Staff
    from vardkontakt.organisation.models import CareUnit

    step("migrate", lambda: call_command("migrate", verbosity=0), timings)
    step("load_demo", lambda: call_command("load_demo", "--no-activity", verbosity=0, stdout=io.StringIO()), timings)
    unit = CareUnit.objects.get(name=MEASURED_UNIT)
    services = list(Service.objects.filter(unit=unit).order_by("name"))
    for index, service in enumerate(services):
        service.professions = [PROFESSION, "district_nurse"] if index < 3 else ["doctor"]
        service.save(update_fields=["professions"])
    members = list(Staff.objects.filter(memberships__unit=unit).distinct().order_by("hsa_id"))
    nurse = next((s for s in members if s.profession == PROFESSION), members[0])
    colleagues = [s for s in members if s.pk != nurse.pk]
    others = []
    for other in CareUnit.objects.exclude(pk=unit.pk).order_by("hsa_id"):
        other_services = list(Service.objects.filter(unit=other).values_list("pk", flat=True))
        if other_services:
            others.append((other.pk, other_services))
    tolvan = Patient.objects.get(personnummer=TOLVAN)
    existing = set(Patient.objects.values_list("personnummer", flat=True))
    return {
        "unit": unit.pk,
        "services": [s.pk for s in services],
        "nurse": nurse.pk,
        "colleagues": [s.pk for s in colleagues],
        "others": others,
        "tolvan": tolvan.pk,
        "existing_personnummer": existing,
    }


def residents(count: int, existing: set[str]) -> list[tuple[Any, ...]]:
    from vardkontakt.demo.demo_data import FAMILY_NAMES, GIVEN_NAMES, personnummer

    rows: list[tuple[Any, ...]] = []
    now = dt.datetime.now(dt.UTC)
    day = 0
    while len(rows) < count:
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=day % 25_000)
        for serial in range(500, 900, 7):
            number = personnummer(birth, serial)
            if number in existing:
                continue
            n = len(rows)
            rows.append(
                (uuid.uuid4(), number, GIVEN_NAMES[n % len(GIVEN_NAMES)], FAMILY_NAMES[n % len(FAMILY_NAMES)], now)
            )
            if len(rows) == count:
                break
        day += 1
    return rows


GENERATE = """
INSERT INTO cases_case (id, unit_id, service_id, patient_id, created_by_id, answers, status, outcome, assigned_to_id,
                        received_at, deadline_last_day, deadline_passes_at, first_answered_at, closed_at, version,
                        idempotency_key)
SELECT gen_random_uuid(), u.unit_id, g.service_id, p.id, p.id, %(answers)s::jsonb, g.status,
       CASE WHEN g.status = 'closed' THEN 'answered' ELSE '' END, g.assigned_to,
       g.deadline - interval '3 days', (g.deadline AT TIME ZONE 'Europe/Stockholm')::date, g.deadline,
       CASE WHEN g.status = 'closed' OR g.answered THEN g.deadline - interval '2 days' END,
       CASE WHEN g.status = 'closed' THEN g.deadline - interval '1 day' END, 1, 'bench-inbox-' || g.i
FROM (
    SELECT s.*,
           CASE WHEN s.is_open THEN %(now)s + make_interval(secs => (s.r6 * 15 - 10) * 86400)
                ELSE %(now)s - make_interval(secs => (5 + s.r6 * 700) * 86400) END AS deadline,
           CASE WHEN NOT s.is_open THEN 'closed'
                WHEN s.assigned_to IS NULL THEN 'received'
                WHEN s.r5 < 0.5 THEN 'in_progress' WHEN s.r5 < 0.8 THEN 'waiting_for_patient' ELSE 'will_call'
           END AS status,
           s.is_open AND s.assigned_to IS NOT NULL AND s.r7 < 0.5 AS answered
    FROM (
        SELECT t.*,
               CASE WHEN t.uk = 0 THEN
                        CASE WHEN t.r1 < 0.4 THEN m.services[1] ELSE m.services[2 + floor(t.r2 * (array_length(m.services, 1) - 1))::int] END
                    ELSE t.other_services[1 + floor(t.r2 * array_length(t.other_services, 1))::int] END AS service_id,
               CASE WHEN NOT t.is_open OR t.uk <> 0 OR t.r3 < 0.4 THEN NULL
                    WHEN t.r3 < 0.75 THEN %(nurse)s::uuid
                    ELSE m.colleagues[1 + floor(t.r4 * array_length(m.colleagues, 1))::int] END AS assigned_to
        FROM (
            SELECT r.*, o.services AS other_services
            FROM (
                SELECT i, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
                       random() AS r6, random() AS r7,
                       CASE WHEN i <= %(u_open)s::int + %(u_closed)s::int THEN 0 ELSE 1 + i %% %(n_other)s::int END AS uk,
                       CASE WHEN i <= %(u_open)s::int THEN true WHEN i <= %(u_open)s::int + %(u_closed)s::int THEN false
                            ELSE random() < 0.05 END AS is_open
                FROM generate_series(%(low)s::int, %(high)s::int) AS i
            ) r
            LEFT JOIN bench_unit o ON o.k = r.uk
        ) t
        CROSS JOIN bench_measured m
    ) s
) g
JOIN bench_unit u ON u.k = g.uk
JOIN bench_patient p ON p.k = g.i %% %(patients)s::int
"""

MESSAGES = """
INSERT INTO cases_casemessage (id, case_id, kind, author_patient_id, author_staff_id, body, event, created_at)
SELECT gen_random_uuid(), c.id, 'patient', c.patient_id, NULL, '', '', c.received_at
FROM cases_case c WHERE c.idempotency_key LIKE 'bench-inbox-%%'
"""


def fill(name: str, size: str, ids: dict[str, Any], timings: dict[str, float]) -> dict[str, Any]:
    """The region's residents, cases and first messages, in SQL, into database ``name``."""
    u_open, u_closed, n_other, patients = SIZES[size]
    conn = session(name)
    conn.execute("SELECT setseed(%s)", [0.42])
    conn.execute("CREATE TABLE bench_unit (k int PRIMARY KEY, unit_id uuid NOT NULL, services uuid[] NOT NULL)")
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_unit VALUES (%s, %s, %s)",
            [(0, ids["unit"], ids["services"])]
            + [(k + 1, unit_id, services) for k, (unit_id, services) in enumerate(ids["others"])],
        )
    conn.execute("CREATE TABLE bench_measured (services uuid[] NOT NULL, colleagues uuid[] NOT NULL)")
    conn.execute("INSERT INTO bench_measured VALUES (%s, %s)", [ids["services"], ids["colleagues"]])

    def load_residents() -> None:
        from vardkontakt.identity.models import Patient

        now = dt.datetime.now(dt.UTC)
        # Every column the model has (the rest at their defaults), so a new field of the person does
        # not break the benchmark; the defaults are Django's, which PostgreSQL does not know of.
        given_fields = ("id", "personnummer", "given_name", "family_name", "created_at", "updated_at")
        rest = [f for f in Patient._meta.concrete_fields if f.name not in given_fields and not f.is_relation]
        columns = ", ".join([*given_fields, *(f.column for f in rest)])
        defaults = tuple(f.get_default() for f in rest)
        with conn.cursor() as cursor, cursor.copy(f"COPY identity_patient ({columns}) FROM STDIN") as copy:
            for pk, number, given, family, at in residents(patients, ids["existing_personnummer"]):
                copy.write_row((pk, number, given, family, at, now, *defaults))
        conn.execute(
            "CREATE TABLE bench_patient AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM identity_patient "
            "WHERE id <> %s",
            [ids["tolvan"]],
        )
        conn.execute("ALTER TABLE bench_patient ADD PRIMARY KEY (k)")
        conn.execute("ANALYZE bench_patient, bench_unit, bench_measured")

    step(f"{size}: {patients:,} residents", load_residents, timings)
    total = u_open + u_closed + n_other
    chunk = 250_000

    def cases() -> None:
        for low in range(1, total + 1, chunk):
            params = {
                "answers": ANSWERS,
                "now": dt.datetime.now(dt.UTC),
                "nurse": ids["nurse"],
                "u_open": u_open,
                "u_closed": u_closed,
                "n_other": len(ids["others"]),
                "patients": patients,
                "low": low,
                "high": min(low + chunk - 1, total),
            }
            conn.execute(GENERATE, params)
            print(f"  {min(low + chunk - 1, total):,} cases", file=sys.stderr, flush=True)

    step(f"{size}: {total:,} cases", cases, timings)
    step(f"{size}: first messages", lambda: conn.execute(MESSAGES), timings)
    step(f"{size}: Tolvan's cases", lambda: tolvans_cases(conn, ids), timings)
    step(f"{size}: VACUUM ANALYZE", lambda: conn.execute("VACUUM ANALYZE"), timings)
    found = conn.execute(
        """SELECT count(*), count(*) FILTER (WHERE unit_id = %(u)s AND status <> 'closed'),
                  pg_size_pretty(pg_table_size('cases_case')), pg_size_pretty(pg_indexes_size('cases_case'))
           FROM cases_case""",
        {"u": ids["unit"]},
    ).fetchone()
    conn.close()
    return {"cases": found[0], "open_in_measured_unit": found[1], "table_size": found[2], "indexes_size": found[3]}


def tolvans_cases(conn: Any, ids: dict[str, Any]) -> None:
    """Twelve cases of the resident, the same in both regions (relative to now): three open at the
    measured unit (one waiting for his answer, one with a reply he has not read), nine closed."""
    now = dt.datetime.now(dt.UTC)
    units = [(ids["unit"], ids["services"]), *ids["others"][:3]]
    for n in range(12):
        unit_id, services = units[n % len(units)] if n >= 3 else units[0]
        received = now - dt.timedelta(days=2 + n * 9)
        is_open = n < 3
        status = ["waiting_for_patient", "in_progress", "received"][n] if is_open else "closed"
        case_id = uuid.uuid4()
        conn.execute(
            """INSERT INTO cases_case (id, unit_id, service_id, patient_id, created_by_id, answers, status, outcome,
                   assigned_to_id, received_at, deadline_last_day, deadline_passes_at, first_answered_at, closed_at,
                   version, idempotency_key)
               VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s)""",
            [
                case_id,
                unit_id,
                services[n % len(services)],
                ids["tolvan"],
                ids["tolvan"],
                ANSWERS,
                status,
                "" if is_open else "answered",
                ids["nurse"] if n < 2 else None,
                received,
                (received + dt.timedelta(days=3)).date(),
                received + dt.timedelta(days=3),
                received + dt.timedelta(days=1) if n != 2 else None,
                None if is_open else received + dt.timedelta(days=2),
                f"bench-tolvan-{n}",
            ],
        )
        messages = [("patient", ids["tolvan"], None, received)]
        if n != 2:
            messages.append(("question" if n == 0 else "reply", None, ids["nurse"], received + dt.timedelta(days=1)))
        for kind, author_patient, author_staff, at in messages:
            conn.execute(
                """INSERT INTO cases_casemessage (id, case_id, kind, author_patient_id, author_staff_id, body, event,
                       created_at) VALUES (%s, %s, %s, %s, %s, %s, '', %s)""",
                [uuid.uuid4(), case_id, kind, author_patient, author_staff, "Hej! Tack för ditt meddelande.", at],
            )


# --- the page processes -----------------------------------------------------------------------------


def serve() -> None:
    """A page process: one database (DATABASE_URL), logged-in clients; answers requests from stdin."""
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.helpers import login_as
    from vardkontakt.identity.models import Patient, Staff, User

    clients = {
        "staff": login_as(
            Client(HTTP_HOST="localhost"), User.objects.get_or_create_for_staff(Staff.objects.get(pk=sys.argv[2]))
        ),
        "resident": login_as(
            Client(HTTP_HOST="localhost"), User.objects.get_or_create_for_patient(Patient.objects.get(pk=sys.argv[3]))
        ),
    }
    print("@@ready", flush=True)
    for line in sys.stdin:
        asked = json.loads(line)
        client = clients[asked["who"]]
        if asked.get("count"):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(asked["url"])
            text = response.content.decode()
            answer = {
                "status": response.status_code,
                "queries": len(captured.captured_queries),
                "rows": text.count('<tr class="nhsuk-table__row'),
                "cases_links": text.count('href="/cases/') + text.count('href="/staff/cases/'),
            }
        else:
            began = time.perf_counter()
            response = client.get(asked["url"])
            answer = {"status": response.status_code, "seconds": time.perf_counter() - began}
        print("@@" + json.dumps(answer), flush=True)


class PageProcess:
    def __init__(self, name: str, staff: Any, resident: Any) -> None:
        env = {**os.environ, "DATABASE_URL": dsn(name), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import bench.inbox as b; b.serve()", "serve", str(staff), str(resident)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("@@ready"):
                return {}
            if line.startswith("@@"):
                return dict(json.loads(line[2:]))
        raise RuntimeError("the page process ended")

    def ask(self, who: str, url: str, *, count: bool = False) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"who": who, "url": url, "count": count}) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        assert answer["status"] == 200, (who, url, answer)
        return answer

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def pages(ids: dict[str, Any]) -> dict[str, tuple[str, str]]:
    inbox = f"/staff/units/{ids['unit']}/inbox/"
    return {
        "inbox_unassigned": ("staff", f"{inbox}?list=unassigned"),
        "inbox_mine": ("staff", f"{inbox}?list=mine"),
        "inbox_overdue": ("staff", f"{inbox}?list=overdue"),
        "inbox_open_by_service": ("staff", f"{inbox}?list=open&service={ids['services'][0]}"),
        "inbox_open_by_profession": ("staff", f"{inbox}?list=open&profession={PROFESSION}"),
        "inbox_open": ("staff", inbox),
        "inbox_closed": ("staff", f"{inbox}?list=closed"),
        "staff_home": ("staff", "/staff/"),
        "resident_my_cases": ("resident", "/cases/"),
    }


def measure(small: PageProcess, big: PageProcess, ids: dict[str, Any]) -> dict[str, Any]:
    sides = {"small": small, "big": big}
    figures: dict[str, Any] = {}
    for name, (who, url) in pages(ids).items():
        for _ in range(WARMUP):
            small.ask(who, url)
            big.ask(who, url)
        # The fewest of three requests: the session's "last seen" is written at most every 15 s
        # (identity/middleware.py), three queries that belong to no page and land on either side.
        one = {
            side: min((process.ask(who, url, count=True) for _ in range(3)), key=lambda answer: answer["queries"])
            for side, process in sides.items()
        }
        rounds = []
        for _ in range(ROUNDS):  # several rounds, each interleaved: drift on a shared machine hits both alike
            samples: dict[str, list[float]] = {"small": [], "big": []}
            for _ in range(REPEAT):
                samples["small"].append(small.ask(who, url)["seconds"])
                samples["big"].append(big.ask(who, url)["seconds"])
            s, b = summary(samples["small"]), summary(samples["big"])
            rounds.append({"small": s, "big": b, "ratio": round(b["median_ms"] / s["median_ms"], 2)})
        ratios = [r["ratio"] for r in rounds]
        ratio = statistics.median(ratios)
        figures[name] = {
            "url": url,
            "rounds": rounds,
            "ratio_big_to_small_median": ratio,
            "ratio_goal_met": ratio <= RATIO_GOAL,
            "queries": {side: one[side]["queries"] for side in sides},
            "constant_query_count": one["big"]["queries"] == one["small"]["queries"],
            "rows_shown": {side: one[side]["rows"] for side in sides},
        }
        print(
            f"  {name}: ratios {ratios}, small {rounds[-1]['small']['median_ms']} ms, big {rounds[-1]['big']['median_ms']} ms, "
            f"queries {figures[name]['queries']}, rows {figures[name]['rows_shown']}",
            file=sys.stderr,
            flush=True,
        )
    return figures


def run() -> dict[str, object]:
    began = time.perf_counter()
    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    with throwaway_databases() as database:
        os.environ["DATABASE_URL"] = dsn(DB_SMALL)
        django_setup()
        from django.db import connections

        ids = demo_region(timings)
        connections.close_all()
        conn = session("postgres")
        conn.execute(f'CREATE DATABASE "{DB_BIG}" TEMPLATE "{DB_SMALL}"')
        conn.close()
        regions = {size: fill(name, size, ids, timings) for size, name in (("small", DB_SMALL), ("big", DB_BIG))}
        small = PageProcess(DB_SMALL, ids["nurse"], ids["tolvan"])
        big = PageProcess(DB_BIG, ids["nurse"], ids["tolvan"])
        try:
            load_measure = os.getloadavg()
            figures = step("pages", lambda: measure(small, big, ids), timings)
        finally:
            small.close()
            big.close()
    measured = [name for name in figures if name not in ("inbox_closed", "inbox_open", "staff_home")]
    return {
        "what": "the staff inbox lists and the resident's cases at 1,000,000 cases vs 1,000, same run, interleaved",
        "database": database,
        "regions": regions,
        "setup": {
            "sizes": {
                size: dict(zip(["open_in_unit", "closed_in_unit", "other_units", "residents"], v, strict=True))
                for size, v in SIZES.items()
            },
            "client": "django.test.Client in one process per database, logged-in sessions, DEBUG off",
            "warmup": WARMUP,
            "repetitions_per_round": REPEAT,
            "rounds": ROUNDS,
        },
        "pages": figures,
        "goals": {
            "ratio_at_most": RATIO_GOAL,
            "goal_pages": measured,
            "ratio_met_on_goal_pages": all(figures[n]["ratio_goal_met"] for n in measured),
            "constant_query_count_on_every_page": all(p["constant_query_count"] for p in figures.values()),
        },
        "timings_s": timings,
        "run_seconds": round(time.perf_counter() - began, 1),
        # A shared machine: other work running beside the benchmark shows here (1, 5, 15 minutes).
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "before_pages": [round(x, 2) for x in load_measure],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
    }
