"""The demo region for a test, built by `load_demo` or copied back from a build moments earlier.

About 980 of the suite's tests start from the demo region, and building it (`load_demo
--no-activity`: thousands of ORM queries, the audit chain, guardianships, proxies, services) was
most of the suite's time. A test gets instead the exact rows that `load_demo` wrote for an earlier
test of this process: they are read from every table once after a real build, and written back
with one COPY (PostgreSQL) or one multi-row INSERT (SQLite) per table. Byte for byte the same rows:
same keys, same audit hash chain, same timestamps.

A copy is used only where a new build would write the same rows:
- the same local day, language, settings (less the per-test audit checkpoint folder) and the same
  rows already in the database before the build (content types, permissions, anything a fixture
  made first);
- a build at most MAX_AGE old on a running clock (its timestamps are then as if the region had been
  loaded that much earlier the same day), or at the very same instant on a stopped clock
  (time-machine with tick=False), where a test may compare a row's time with "now";
- in a test in committed transactions (`transactional_db`, the live server, the browser), only a
  build that left no work for after its commit (an audit checkpoint file, a task for a queue
  outside the database), which a copy of rows would not repeat.

Everything else builds for real, and so do the tests in tests/demo, which test `load_demo` itself.
`load_demo` still runs in every process at least once a minute while the tests run, so any change
to what it builds reaches every test; tests/test_demo_snapshot.py checks that a copy equals the
build it was read from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone, translation

MAX_AGE = dt.timedelta(seconds=60)
# Copies kept per process: a few clock days and languages at once, never the whole run's history.
KEPT = 8
# Settings that differ per test and that load_demo never reads (tests/conftest.py sets it per test).
PER_TEST_SETTINGS = frozenset({"AUDIT_CHECKPOINT_DIR"})

# Counted for tests/test_demo_snapshot.py and for `--durations`-style looks at the hit rate.
stats = {"built": 0, "copied": 0}


@dataclass
class Snapshot:
    built_at: dt.datetime
    frozen: bool
    # (table, data): COPY text on PostgreSQL, SQL value lists (one per row) on SQLite.
    tables: list[tuple[str, bytes | list[str]]] = field(default_factory=list)
    # PostgreSQL: (sequence, highest value the copied rows use).
    sequences: list[tuple[str, int]] = field(default_factory=list)
    # The build left work for after its commit (transaction.on_commit: an audit checkpoint file,
    # a task for a queue outside the database): never copied into a committed test.
    after_commit_work: bool = False


_snapshots: OrderedDict[tuple[object, ...], Snapshot] = OrderedDict()
_tables: list[str] = []
_columns: dict[str, list[str]] = {}


def load_demo_region() -> None:
    """What `load_demo --no-activity` builds, in the current test's database."""
    committed = not connection.in_atomic_block
    with transaction.atomic():
        # In a test in committed transactions (transactional_db, the live server) this commits at
        # the end, running the build's after-commit work as load_demo's own commit would.
        _load(committed=committed)


def _load(*, committed: bool) -> None:
    now = timezone.now()
    frozen = _clock_is_frozen(now)
    before = tables_with_rows()
    key = (
        timezone.localdate(),
        translation.get_language(),
        _settings_fingerprint(),
        _digest(before.values()),
        now if frozen else None,
    )
    snapshot = _snapshots.get(key)
    if (
        snapshot is not None
        and (frozen or dt.timedelta(0) <= now - snapshot.built_at <= MAX_AGE)
        # A copy of rows does not repeat work the build left for after the commit.
        and not (committed and snapshot.after_commit_work)
    ):
        _restore(snapshot)
        _snapshots.move_to_end(key)
        stats["copied"] += 1
        return
    waiting = _after_commit_work()
    _build()
    after = tables_with_rows()
    if any(after.get(table) != data for table, data in before.items()):
        return  # the build changed rows that were there before it: no copy of it is faithful
    _snapshots[key] = _capture(now, frozen, [table for table in after if table not in before])
    _snapshots[key].after_commit_work = _after_commit_work() > waiting
    while len(_snapshots) > KEPT:
        _snapshots.popitem(last=False)


def _after_commit_work() -> int:
    """What waits for the commit, leaving out cache invalidations (core.shared_version
    ``forget_at_commit``): a copy's rows are the build's own, and the tests' cache is cleared
    between tests."""
    return sum(1 for entry in connection.run_on_commit if not getattr(entry[1], "only_forgets_cache", False))


def _build() -> None:
    call_command("load_demo", "--no-activity", verbosity=0)
    stats["built"] += 1


def _clock_is_frozen(now: dt.datetime) -> bool:
    """time-machine's stopped clock (tick=False) returns the same instant however long one waits;
    perf_counter is not moved by it."""
    until = time.perf_counter() + 0.0002
    while time.perf_counter() < until:
        pass
    return timezone.now() == now


def _settings_fingerprint() -> str:
    names = sorted(name for name in dir(settings) if name.isupper() and name not in PER_TEST_SETTINGS)
    return hashlib.blake2b(repr([(name, getattr(settings, name)) for name in names]).encode()).hexdigest()


def _digest(parts: Iterable[bytes | list[str]]) -> str:
    hasher = hashlib.blake2b()
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else "\n".join(part).encode())
        hasher.update(b"\0")
    return hasher.hexdigest()


def _all_tables() -> list[str]:
    if not _tables:
        _tables.extend(sorted(connection.introspection.django_table_names(only_existing=True, include_views=False)))
    return _tables


def tables_with_rows() -> dict[str, bytes | list[str]]:
    """Every table holding rows, with all its rows."""
    return {table: read_rows(table) for table in tables_holding_rows()}


def tables_holding_rows() -> list[str]:
    quote = connection.ops.quote_name
    tables = _all_tables()
    probe = " UNION ALL ".join(
        f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(table)})"  # noqa: S608 (the schema's table names)
        for index, table in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(probe)
        return [tables[row[0]] for row in cursor.fetchall()]


def read_rows(table: str) -> bytes | list[str]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} TO STDOUT") as copy:
                return b"".join(bytes(chunk) for chunk in copy)
        # quote() writes each stored value as an SQL literal of its own storage class: read back
        # by INSERT it is the same value, with none of the driver's type conversions in between.
        values = " || ',' || ".join(f"quote({quote(column)})" for column in _columns_of(table))
        cursor.execute(f"SELECT {values} FROM {quote(table)} ORDER BY rowid")  # noqa: S608 (the schema's names)
        return [row[0] for row in cursor.fetchall()]


def _columns_of(table: str) -> list[str]:
    if table not in _columns:
        with connection.cursor() as cursor:
            _columns[table] = [column.name for column in connection.introspection.get_table_description(cursor, table)]
    return _columns[table]


def _capture(built_at: dt.datetime, frozen: bool, tables: list[str]) -> Snapshot:
    snapshot = Snapshot(built_at=built_at, frozen=frozen)
    for table in tables:
        snapshot.tables.append((table, read_rows(table)))
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in tables:
                for sequence in connection.introspection.get_sequences(cursor, table):
                    cursor.execute(f"SELECT MAX({quote(sequence['column'])}) FROM {quote(table)}")  # noqa: S608
                    highest = cursor.fetchone()[0]
                    if highest is not None:
                        snapshot.sequences.append((sequence["name"], int(highest)))
    return snapshot


def _restore(snapshot: Snapshot) -> None:
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for table, data in snapshot.tables:
            if isinstance(data, bytes):
                with cursor.cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                    copy.write(data)
                continue
            columns = ", ".join(quote(column) for column in _columns_of(table))
            for start in range(0, len(data), 400):
                rows = ", ".join(f"({row})" for row in data[start : start + 400])
                # The rows are SQLite's own quote() of stored values, read back verbatim.
                cursor.execute(f"INSERT INTO {quote(table)} ({columns}) VALUES {rows}")  # noqa: S608
        if snapshot.sequences:
            # A sequence never goes back on PostgreSQL (not even on rollback), so it is normally
            # past the copied keys already; moved back (a reset), it is set past them.
            cursor.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE sequencename = ANY(%s)",
                [[name for name, _ in snapshot.sequences]],
            )
            current = dict(cursor.fetchall())
            for name, highest in snapshot.sequences:
                if current.get(name) is None or current[name] < highest:
                    cursor.execute("SELECT setval(%s, %s)", [name, highest])
