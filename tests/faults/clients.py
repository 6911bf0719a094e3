"""Residents booking and writing cases through nginx, retrying as a browser (and its user) would.

Each client is one person's browser (bench/rush_http.py: a keep-alive connection and the session
cookie). A booking: the confirmation page (GET), then the POST with the page's CSRF token and
submission key. A case: the form page (GET), then "Skicka" (POST, step=send) with the form's
idempotency key. A request that fails without an answer (the connection refused or cut: a web
node killed), or is answered 502/503/504 (nginx with no node, a node whose database is away), is
sent again after a moment (after Retry-After when given), **the same form with the same key**,
until it is answered; after GIVE_UP seconds of that the submission counts as given up.

Every client books its own slots (a disjoint slice of the pool): a submission has exactly one
slot, so "one booking row per submission" is one row per slot.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.rush_http import Browser, HttpError, Response

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
BOOKING_KEY = re.compile(rb'name="submission_key" value="([^"]+)"')
CASE_KEY = re.compile(rb'name="idempotency_key" value="([^"]+)"')
RETRY_STATUSES = {502, 503, 504}
GIVE_UP = 120.0  # seconds of retrying one request
TIMEOUT = 15.0


@dataclass
class Submission:
    kind: str  # "booking" or "case"
    client: int
    key: str
    slot: str = ""
    status: int | str = ""  # the final answer: 302, another status, or "gave up"
    location: str = ""
    tries: int = 0  # POSTs sent (1 = answered the first time)


@dataclass
class Seen:
    """Every answer the clients got (and every request that got none), for the report."""

    statuses: Counter[str] = field(default_factory=Counter)
    bodies_with_traceback: int = 0
    server_errors: list[str] = field(default_factory=list)
    without_retry_after: int = 0

    def note(self, method: str, answer: Response | str) -> None:
        if isinstance(answer, str):
            self.statuses[f"{method} {answer}"] += 1
            return
        self.statuses[f"{method} {answer.status}"] += 1
        if b"Traceback" in answer.body:
            self.bodies_with_traceback += 1
        if answer.status == 500:
            self.server_errors.append(answer.body[:300].decode(errors="replace"))
        if answer.status == 503 and not answer.header("retry-after").isdigit():
            self.without_retry_after += 1


async def persist(
    browser: Browser,
    method: str,
    path: str,
    seen: Seen,
    *,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    counter: list[int] | None = None,
) -> Response | None:
    """Send until answered with something other than 502/503/504; None after GIVE_UP seconds."""
    began = time.monotonic()
    while time.monotonic() - began < GIVE_UP:
        if counter is not None:
            counter[0] += 1
        try:
            answer = await browser.request(method, path, form=form, headers=headers, timeout=TIMEOUT)
        except TimeoutError:
            seen.note(method, "timeout")
            await asyncio.sleep(0.2)
            continue
        except HttpError:
            seen.note(method, "no answer")
            await asyncio.sleep(random.uniform(0.1, 0.4))  # noqa: S311 (timing, not secrets)
            continue
        seen.note(method, answer)
        if answer.status in RETRY_STATUSES:
            wait = answer.header("retry-after")
            await asyncio.sleep(min(int(wait), 5) if wait.isdigit() else 0.3)
            continue
        return answer
    return None


class Slots:
    """The pool of free slots, each handed to one client only (first come, first served)."""

    def __init__(self, pool: list[str]) -> None:
        self.pool = pool
        self.next = 0

    def take(self) -> str | None:
        if self.next >= len(self.pool):
            return None
        self.next += 1
        return self.pool[self.next - 1]


def think() -> float:
    """A person reads the page before the next click."""
    return random.uniform(0.1, 0.5)  # noqa: S311 (timing, not secrets)


async def booking_client(
    number: int, browser: Browser, base: str, unit_id: str, slots: Slots, stop: asyncio.Event, seen: Seen
) -> list[Submission]:
    done: list[Submission] = []
    origin = {"Origin": base}
    while not stop.is_set() and (slot := slots.take()) is not None:
        await asyncio.sleep(think())
        path = f"/bookings/book/{unit_id}/slot/{slot}/"
        page = await persist(browser, "GET", path, seen)
        if page is None or page.status != 200:
            done.append(Submission("booking", number, "", slot, page.status if page else "gave up"))
            continue
        token, key = TOKEN.search(page.body), BOOKING_KEY.search(page.body)
        assert token and key, page.body[:500]
        form = {"csrfmiddlewaretoken": token[1].decode(), "submission_key": key[1].decode()}
        submission = Submission("booking", number, form["submission_key"], slot)
        tries = [0]
        answer = await persist(
            browser, "POST", path, seen, form=form, headers={**origin, "Referer": base + path}, counter=tries
        )
        submission.tries = tries[0]
        submission.status = answer.status if answer else "gave up"
        submission.location = answer.header("location") if answer else ""
        done.append(submission)
    return done


async def case_client(
    number: int, browser: Browser, base: str, unit_id: str, service_id: str, stop: asyncio.Event, seen: Seen
) -> list[Submission]:
    done: list[Submission] = []
    path = f"/cases/new/{unit_id}/{service_id}/"
    while not stop.is_set():
        await asyncio.sleep(think())
        page = await persist(browser, "GET", path, seen)
        if page is None or page.status != 200:
            done.append(Submission("case", number, "", status=page.status if page else "gave up"))
            await asyncio.sleep(0.5)
            continue
        token, key = TOKEN.search(page.body), CASE_KEY.search(page.body)
        assert token and key, page.body[:500]
        form = {
            "csrfmiddlewaretoken": token[1].decode(),
            "idempotency_key": key[1].decode(),
            "what": f"Ont i halsen sedan en vecka ({uuid.uuid4().hex[:6]}).",
            "step": "send",
        }
        submission = Submission("case", number, form["idempotency_key"])
        tries = [0]
        answer = await persist(
            browser, "POST", path, seen, form=form, headers={"Origin": base, "Referer": base + path}, counter=tries
        )
        submission.tries = tries[0]
        submission.status = answer.status if answer else "gave up"
        submission.location = answer.header("location") if answer else ""
        done.append(submission)
    return done


def rows(primary_port: int, database: str, statement: str, params: list[Any]) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=primary_port, user="postgres", dbname=database) as connection:
        return list(connection.execute(statement, params).fetchall())


def all_rows(port: int, database: str, visit_type_id: str, service_id: str) -> tuple[list[Any], list[Any]]:
    """The booking rows of the fault tests' visit type (slot, id, status) and the case rows of their
    service (idempotency key, id)."""
    booking_rows = rows(
        port,
        database,
        "SELECT b.slot_id::text, b.id::text, b.status FROM booking_booking b JOIN booking_slot s ON s.id = b.slot_id"
        " WHERE s.visit_type_id = %s",
        [visit_type_id],
    )
    case_rows = rows(
        port, database, "SELECT idempotency_key, id::text FROM cases_case WHERE service_id = %s", [service_id]
    )
    return booking_rows, case_rows


def nothing_lost_nothing_twice(
    submissions: list[Submission],
    *,
    port: int,
    database: str,
    visit_type_id: str,
    service_id: str,
    before: tuple[list[Any], list[Any]] = ([], []),
) -> dict[str, Any]:
    """The database against what the clients were answered: per booking submission (one slot each)
    its rows; per case submission (its idempotency key) its rows. Rows in ``before`` (an earlier
    test's) are left out."""
    bookings = [s for s in submissions if s.kind == "booking" and s.key]
    cases = [s for s in submissions if s.kind == "case" and s.key]
    booking_rows, case_rows = all_rows(port, database, visit_type_id, service_id)
    earlier_bookings, earlier_cases = {row[1] for row in before[0]}, {row[1] for row in before[1]}
    booking_rows = [row for row in booking_rows if row[1] not in earlier_bookings]
    case_rows = [row for row in case_rows if row[1] not in earlier_cases]
    per_slot = Counter(slot for slot, _, _ in booking_rows)
    per_key = Counter(key for key, _ in case_rows)
    booking_of_slot = {slot: booking for slot, booking, _ in booking_rows}
    case_of_key = dict(case_rows)
    submitted_slots = {s.slot for s in bookings}
    submitted_keys = {s.key for s in cases}
    return {
        "booking_submissions": len(bookings),
        "booking_submissions_retried": sum(1 for s in bookings if s.tries > 1),
        "booking_answers": dict(Counter(str(s.status) for s in bookings)),
        "booking_rows": len(booking_rows),
        "bookings_lost": sum(1 for s in bookings if s.status == 302 and per_slot[s.slot] == 0),
        "bookings_twice": sum(1 for count in per_slot.values() if count > 1),
        "booking_answer_names_another_row": sum(
            1 for s in bookings if s.status == 302 and booking_of_slot.get(s.slot, "?") not in s.location
        ),
        "booking_rows_nobody_submitted": sum(1 for slot in per_slot if slot not in submitted_slots),
        "case_submissions": len(cases),
        "case_submissions_retried": sum(1 for s in cases if s.tries > 1),
        "case_answers": dict(Counter(str(s.status) for s in cases)),
        "case_rows": len(case_rows),
        "cases_lost": sum(1 for s in cases if s.status == 302 and per_key[s.key] == 0),
        "cases_twice": sum(1 for count in per_key.values() if count > 1),
        "case_answer_names_another_row": sum(
            1 for s in cases if s.status == 302 and case_of_key.get(s.key, "?") not in s.location
        ),
        "case_rows_nobody_submitted": sum(1 for key in per_key if key not in submitted_keys),
        "not_answered_302": sum(1 for s in submissions if s.status != 302),
    }


def assert_nothing_lost_nothing_twice(summary: dict[str, Any]) -> None:
    for name in (
        "bookings_lost",
        "bookings_twice",
        "booking_answer_names_another_row",
        "booking_rows_nobody_submitted",
        "cases_lost",
        "cases_twice",
        "case_answer_names_another_row",
        "case_rows_nobody_submitted",
        "not_answered_302",
    ):
        assert summary[name] == 0, f"{name}: {summary}"
    assert summary["booking_rows"] == summary["booking_submissions"], summary
    assert summary["case_rows"] == summary["case_submissions"], summary
