"""The aggregate statements behind the statistics, written as SQL.

They are SQL rather than ORM expressions for two reasons. They *are* aggregate SQL — counts with
FILTER clauses and, on PostgreSQL, ``percentile_cont`` — and read best as such (the benchmark's
baseline is the same text). And the ORM rebuilt and recompiled some thirty filtered aggregate
expressions on every request: about 4 ms of Python on a page whose SQL takes 25-30 ms on a big
unit, which the benchmark's goal (page at most 1.5 × its SQL) could not afford.

The statements run on PostgreSQL and on SQLite alike (FILTER needs SQLite 3.30): values are bound
as parameters, adapted the way Django stores them (instants as UTC text and UUIDs as hex on SQLite).
Table names come from the models. The only engine difference is ``percentile_cont``: PostgreSQL
computes it here; on SQLite ``figures`` fetches the times and computes the same (``percentiles``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, connections, router

from vardkontakt.booking.models import Booking, Slot
from vardkontakt.cases.models import OPEN_STATUSES, Case, Service
from vardkontakt.organisation.models import CareUnit

CASE = Case._meta.db_table
SERVICE = Service._meta.db_table
UNIT = CareUnit._meta.db_table
BOOKING = Booking._meta.db_table
SLOT = Slot._meta.db_table

# Group keys: the column, and the join it needs.
GROUPS = {
    None: ("", ""),
    "unit": ("c.unit_id", ""),
    "administration": ("u.administration_id", f" JOIN {UNIT} u ON u.id = c.unit_id"),
}

ANSWERED = "c.first_answered_at IS NOT NULL"
CLOSED_BY_UNIT = "c.status = 'closed' AND c.outcome <> 'withdrawn'"
IN_TIME = "c.first_answered_at <= c.deadline_passes_at"
# Answered late; or unanswered with the deadline passed, unless withdrawn before that deadline.
# (A closed case always has closed_at: the table's check constraint.)
MISSED = (
    "c.first_answered_at > c.deadline_passes_at OR (c.first_answered_at IS NULL AND c.deadline_passes_at <= %s "
    "AND NOT (c.status = 'closed' AND c.outcome = 'withdrawn' AND c.closed_at < c.deadline_passes_at))"
)
PERCENTILES = (
    ", percentile_cont(0.5) WITHIN GROUP (ORDER BY c.first_answered_at - c.received_at)"
    ", percentile_cont(0.9) WITHIN GROUP (ORDER BY c.first_answered_at - c.received_at)"
    f", percentile_cont(0.5) WITHIN GROUP (ORDER BY c.closed_at - c.received_at) FILTER (WHERE {CLOSED_BY_UNIT})"
    f", percentile_cont(0.9) WITHIN GROUP (ORDER BY c.closed_at - c.received_at) FILTER (WHERE {CLOSED_BY_UNIT})"
)


def _instant(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _uuid(value: uuid.UUID) -> Any:
    return value if connection.features.has_native_uuid_field else value.hex


def key(value: Any) -> Any:
    """A group key as Python has it (SQLite returns UUIDs as hex text)."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _in(column: str, unit_ids: Sequence[uuid.UUID]) -> tuple[str, list[Any]]:
    if not unit_ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(unit_ids))})", [_uuid(u) for u in unit_ids]


def _run(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    # The router's choice for a model read, as the ORM's queries get it: the replica inside
    # core.replica.reads_from_replica (the statistics pages), else the primary.
    with connections[router.db_for_read(Case)].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def handling(
    unit_ids: Sequence[uuid.UUID],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    group: str | None,
    *,
    percentiles: bool,
) -> list[tuple[Any, ...]]:
    """Rows of (group key,) received, answered, closed by the unit, in time, missed, and with
    ``percentiles`` the median and 90th percentile of the time to first answer and to closing."""
    column, join = GROUPS[group]
    units, unit_params = _in("c.unit_id", unit_ids)
    sql = (
        f"SELECT {column + ', ' if column else ''}count(*), count(*) FILTER (WHERE {ANSWERED}), "  # noqa: S608 (constants only)
        f"count(*) FILTER (WHERE {CLOSED_BY_UNIT}), count(*) FILTER (WHERE {IN_TIME}), "
        f"count(*) FILTER (WHERE {MISSED}){PERCENTILES if percentiles else ''} "
        f"FROM {CASE} c{join} WHERE {units} AND c.received_at >= %s AND c.received_at < %s"
        f"{' GROUP BY ' + column if column else ''}"
    )
    return _run(sql, [_instant(now), *unit_params, _instant(start), _instant(end)])


def kinds_and_statuses(
    unit_ids: Sequence[uuid.UUID], start: dt.datetime, end: dt.datetime, group: str | None
) -> list[tuple[Any, ...]]:
    """Rows of (group key,) case type, status, outcome, count of the cases received."""
    column, join = GROUPS[group]
    units, unit_params = _in("c.unit_id", unit_ids)
    grouping = f"{column + ', ' if column else ''}s.kind, c.status, c.outcome"
    sql = (
        f"SELECT {grouping}, count(*) FROM {CASE} c JOIN {SERVICE} s ON s.id = c.service_id{join} "  # noqa: S608
        f"WHERE {units} AND c.received_at >= %s AND c.received_at < %s GROUP BY {grouping}"
    )
    return _run(sql, [*unit_params, _instant(start), _instant(end)])


def open_now(unit_ids: Sequence[uuid.UUID], now: dt.datetime, group: str | None) -> list[tuple[Any, ...]]:
    """Rows of (group key,) open, of them unanswered, of them overdue — the inbox's counts."""
    column, join = GROUPS[group]
    units, unit_params = _in("c.unit_id", unit_ids)
    statuses = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    sql = (
        f"SELECT {column + ', ' if column else ''}count(*), count(*) FILTER (WHERE c.first_answered_at IS NULL), "  # noqa: S608
        "count(*) FILTER (WHERE c.first_answered_at IS NULL AND c.deadline_passes_at <= %s) "
        f"FROM {CASE} c{join} WHERE {units} AND c.status IN ({statuses})"
        f"{' GROUP BY ' + column if column else ''}"
    )
    return _run(sql, [_instant(now), *unit_params])


def bookings(unit_ids: Sequence[uuid.UUID], start: dt.datetime, end: dt.datetime) -> list[tuple[Any, ...]]:
    """Rows of unit, booked online, booked by staff, cancelled online, moved online, in the period.
    A rebooking's new booking is the move, not a new booking (``rebooked_from_id``)."""
    units, unit_params = _in("s.unit_id", unit_ids)
    made = "b.created_at >= %s AND b.created_at < %s AND b.rebooked_from_id IS NULL"
    ended = "b.ended_at >= %s AND b.ended_at < %s AND b.ended_online = %s"
    sql = (
        f"SELECT s.unit_id, count(*) FILTER (WHERE {made} AND b.channel = 'online'), "  # noqa: S608
        f"count(*) FILTER (WHERE {made} AND b.channel = 'phone'), "
        f"count(*) FILTER (WHERE {ended} AND b.status = 'cancelled'), "
        f"count(*) FILTER (WHERE {ended} AND b.status = 'rebooked') "
        f"FROM {BOOKING} b JOIN {SLOT} s ON s.id = b.slot_id WHERE {units} AND (({made}) OR ({ended})) "
        "GROUP BY s.unit_id"
    )
    span = [_instant(start), _instant(end)]
    ended_params = [*span, True]
    return _run(sql, [*span, *span, *ended_params, *ended_params, *unit_params, *span, *ended_params])
