"""After a test in committed transactions (`transactional_db`, the live server, the browser): the
database emptied as Django's flush leaves it, without its cost.

Django's TransactionTestCase empties every table after each such test (`flush`: one TRUNCATE of
all ~80 tables on PostgreSQL, then the post_migrate signal writes the content types and
permissions again). On PostgreSQL that was 1-4 s a test here, TRUNCATE making new files for every
table. Here only the tables that hold rows are emptied, with DELETE, and the content types and
permissions are left as they are when they are still exactly what the last full flush wrote. The
end state is the flush's: those two tables as post_migrate writes them, every other table empty.

Anything else (another database, available_apps, serialized rollback, changed content types or
permissions, a role that may not set session_replication_role) gets Django's own flush.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.test import TransactionTestCase

from tests import demo_snapshot

# The tables a full flush leaves holding rows (post_migrate's), with their rows: set by the first
# full flush of this process.
_after_full_flush: dict[str, bytes | list[str]] = {}
_django_flush = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]
stats = {"full": 0, "quick": 0}


def _fixture_teardown(self: TransactionTestCase) -> Any:
    if (
        _aliases(self) != [DEFAULT_DB_ALIAS]
        or self.available_apps is not None
        or self.serialized_rollback
        or not _quick_empty()
    ):
        _django_flush(self)
        stats["full"] += 1
        _after_full_flush.clear()
        if _aliases(self) == [DEFAULT_DB_ALIAS]:
            _after_full_flush.update(demo_snapshot.tables_with_rows())
        return None
    stats["quick"] += 1
    return None


def _aliases(test: TransactionTestCase) -> list[str]:
    return list(test._databases_names(include_mirrors=False))  # type: ignore[attr-defined]


def _quick_empty() -> bool:
    """Empty every table but the content types and permissions, if those are as the last full flush
    left them; False (nothing done) otherwise."""
    if not _after_full_flush or not _may_skip_triggers():
        return False
    holding = demo_snapshot.tables_holding_rows()
    kept = set(_after_full_flush)
    if not kept <= set(holding) or any(demo_snapshot.read_rows(table) != _after_full_flush[table] for table in kept):
        return False
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The audit log's append-only trigger refuses DELETE (flush used TRUNCATE); the foreign
            # keys need no check, as every row of every table but the two kept ones goes.
            cursor.execute("SET LOCAL session_replication_role = replica")
        for table in holding:
            if table not in kept:
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (the schema's table names)
    return True


_superuser: list[bool] = []


def _may_skip_triggers() -> bool:
    if connection.vendor != "postgresql":
        return True
    if not _superuser:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('is_superuser') = 'on'")
            _superuser.append(bool(cursor.fetchone()[0]))
    return _superuser[0]


def install() -> None:
    setattr(TransactionTestCase, "_fixture_teardown", _fixture_teardown)  # noqa: B010 (not in the type stubs)
