"""Reads from the PostgreSQL streaming replica, only where declared, never stale for a writer.

- **Declared, not guessed.** Code reads the replica only inside ``reads_from_replica`` (a
  decorator or a context manager): the statistics pages' figures and other read-only selectors
  that name themselves so. Every other read, and every write, goes to the primary. Inside a
  transaction on the primary the primary is read too (the transaction may have written).
- **Read your writes.** A request that may write (POST, PUT, PATCH, DELETE) reads the primary,
  and its answer carries a cookie with the primary's WAL position after it. While the
  replica has not replayed that far, that browser's reads go to the primary as well; after, the
  replica has everything that person wrote. No clock is compared, and a replica that is far
  behind keeps the writer on the primary for exactly as long as it needs.
- **Lag and faults.** Each process asks the replica its state at most every
  ``REPLICA_STATE_SECONDS``: replay lag in seconds and bytes. Above ``REPLICA_MAX_LAG_SECONDS``,
  or when it cannot be reached, the replica is not used; the reads go to the primary, and
  ``/healthz`` says "degraded". A declared function whose replica connection fails midway is run
  again on the primary (it is read-only, so running it twice changes nothing).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from vardkontakt.core.databases import REPLICA

WROTE_COOKIE = "vk_wrote_lsn"
# Long enough for any replica that is still used (REPLICA_MAX_LAG_SECONDS is far shorter).
WROTE_COOKIE_SECONDS = 15 * 60
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Inside reads_from_replica; and this request's floor: the WAL position (an int) the replica must
# have replayed before it may answer, or PRIMARY_ONLY.
_declared: ContextVar[bool] = ContextVar("vk_replica_declared", default=False)
_needs_lsn: ContextVar[int | None] = ContextVar("vk_replica_needs_lsn", default=None)
_used: ContextVar[bool] = ContextVar("vk_replica_used", default=False)
PRIMARY_ONLY = 1 << 64  # beyond any WAL position

P = ParamSpec("P")
R = TypeVar("R")


def configured() -> bool:
    return REPLICA in connections.settings


def parse_lsn(text: str) -> int:
    """A PostgreSQL WAL position ("16/B374D848") as a byte offset."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


@dataclass(frozen=True)
class ReplicaState:
    reachable: bool
    replay_lsn: int = 0
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    error: str = ""

    @property
    def usable(self) -> bool:
        return self.reachable and self.lag_seconds is not None and self.lag_seconds <= settings.REPLICA_MAX_LAG_SECONDS


_state_lock = threading.Lock()
_state: tuple[float, ReplicaState] | None = None


def measure() -> ReplicaState:
    """The replica's state now: the primary's WAL position, then how far the replica replayed.

    Bytes: how much of what the primary had written the replica has not replayed. Seconds: 0
    when it has replayed all of it, else the age of the last transaction it replayed (an idle
    primary is no lag; a paused or slow replica's lag grows with the clock).
    """
    primary_lsn: int | None = None
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            primary_lsn = parse_lsn(cursor.fetchone()[0])
    except DatabaseError:
        pass  # the primary's own trouble is /healthz's database check
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()),"
                " pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
            )
            in_recovery, replay, age, all_received_replayed = cursor.fetchone()
    except DatabaseError as exc:
        connections[REPLICA].close()
        return ReplicaState(reachable=False, error=exc.__class__.__name__)
    if not in_recovery or replay is None:
        return ReplicaState(reachable=False, error="not a streaming replica")
    replay_lsn = parse_lsn(replay)
    lag_bytes = None if primary_lsn is None else max(0, primary_lsn - replay_lsn)
    caught_up = lag_bytes == 0 if lag_bytes is not None else bool(all_received_replayed)
    seconds = 0.0 if caught_up or age is None else round(float(age), 3)
    return ReplicaState(True, replay_lsn, seconds, lag_bytes)


def state() -> ReplicaState:
    """The replica's state, measured at most every REPLICA_STATE_SECONDS by this process."""
    global _state
    now = time.monotonic()
    with _state_lock:
        if _state is not None and now - _state[0] < settings.REPLICA_STATE_SECONDS:
            return _state[1]
    found = measure()
    with _state_lock:
        _state = (time.monotonic(), found)
    return found


def forget_state() -> None:
    """Measure again at the next read (after a fault, and in tests)."""
    global _state
    with _state_lock:
        _state = None


def _mark_down(error: str) -> None:
    global _state
    with _state_lock:
        _state = (time.monotonic(), ReplicaState(reachable=False, error=error))


class ReplicaRouter:
    """Reads inside ``reads_from_replica`` to the replica when it may answer; all else to the
    primary, explicitly, so an object read from the replica is never saved there or followed
    there by a later lazy read."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        if not _declared.get() or not configured():
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        needs = _needs_lsn.get()
        if needs == PRIMARY_ONLY:
            return DEFAULT_DB_ALIAS
        current = state()
        if not current.usable or (needs is not None and current.replay_lsn < needs):
            return DEFAULT_DB_ALIAS
        _used.set(True)
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None


@contextmanager
def _declared_block() -> Iterator[None]:
    token = _declared.set(True)
    try:
        yield
    finally:
        _declared.reset(token)


def reads_from_replica(function: Callable[P, R]) -> Callable[P, R]:
    """Declare ``function`` read-only: its queries may be answered by the replica. Return
    evaluated results (lists, figures), not lazy querysets; they would be read where they are
    evaluated. If the replica fails during the call, the call is made again on the primary."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        used = _used.set(False)
        try:
            with _declared_block():
                return function(*args, **kwargs)
        except DatabaseError as exc:
            if not _used.get():
                raise
            connections[REPLICA].close()
            _mark_down(exc.__class__.__name__)
        finally:
            _used.reset(used)
        return function(*args, **kwargs)

    return wrapper


@contextmanager
def replica_reads() -> Iterator[None]:
    """``reads_from_replica`` for a block (no second try on the primary: the block is not a
    function that can be called again)."""
    with _declared_block():
        yield


@contextmanager
def primary_reads(needs_lsn: int | None = PRIMARY_ONLY) -> Iterator[None]:
    """Every read in the block from the primary, or (``needs_lsn``) from a replica that has
    replayed that far."""
    token = _needs_lsn.set(needs_lsn)
    try:
        yield
    finally:
        _needs_lsn.reset(token)


def _wrote_lsn(request: HttpRequest) -> int | None:
    raw = request.COOKIES.get(WROTE_COOKIE)
    if not raw:
        return None
    try:
        return parse_lsn(raw)
    except ValueError:
        return PRIMARY_ONLY  # a damaged cookie: the safe side


def _primary_lsn() -> int | None:
    """Where the writer's transaction ends in the WAL: the insert position. Not
    pg_current_wal_lsn() (what is written out): with synchronous_commit off the commit record
    can still be in the WAL buffers after COMMIT returns, and a replica that replayed up to the
    written position would be taken for having the write (tests/core/test_replica.py, whose
    throw-away cluster runs with synchronous_commit off)."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            return parse_lsn(cursor.fetchone()[0])
    except DatabaseError:
        return None


class ReadYourWritesMiddleware:
    """Keeps a person who just wrote on the primary until the replica has their write (above).
    Does nothing where no replica is configured."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not configured():
            return self.get_response(request)
        writes = request.method in UNSAFE_METHODS
        with primary_reads(PRIMARY_ONLY if writes else _wrote_lsn(request)):
            response = self.get_response(request)
        if writes:
            # After the view's transactions committed: everything this person wrote is at or
            # before this position.
            lsn = _primary_lsn()
            if lsn is not None:
                response.set_cookie(
                    WROTE_COOKIE,
                    format_lsn(lsn),
                    max_age=WROTE_COOKIE_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
        return response
