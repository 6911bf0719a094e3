"""How much of a unit's schedule is open for online booking, per ISO week (SPEC §6.6).

The region's target is that 80 % of all outpatient slots are bookable online at least 8 weeks
ahead. A slot counts as open when a patient could book it on the web: its channel is online and
phone, it is not held back, and its visit type is published and in use — the same conditions the
resident's slot list applies (availability.online_slots), so the figure and the web page never
disagree. Whether it is already booked does not matter: a booked online slot was open.

Weeks are ISO weeks in Europe/Stockholm, bounded at local midnight on Mondays, so the week with
the spring or autumn clock change is a week of 167 or 169 hours and a slot at 00:30 on a Monday
belongs to that Monday's week whatever its UTC date.

The figures for every unit come from one aggregate statement (the statistics use them for a whole
region); the shares are exact fractions, shown rounded down so a unit at 79.6 % never reads 80 %.

The statement is SQL text, the same on PostgreSQL and SQLite: rows of unit, week number (0 for
this week), slots and open slots, grouped by the week. The week boundaries are the local Mondays'
midnights computed here (``local_instant``) and bound as parameters, so SQL needs no time zone
(SQLite has none). As ORM aggregates (two filtered counts per week) it cost some 3 ms of Python per
request to build and compile, on a statistics page whose SQL takes 20-30 ms
(docs/benchmarks.md, statistics).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db import connection, connections, router
from django.utils import timezone

from vardkontakt.booking.models import Channel, Slot, VisitType
from vardkontakt.booking.schedule import local_instant
from vardkontakt.organisation.models import CareUnit, Region

# The seed's target (ARCHITECTURE.md: configurable rules carry the seed's values as defaults).
TARGET = Fraction(80, 100)
WEEKS_AHEAD = 8

# Open for online booking: the conditions of availability.online_slots (but free and future), on the
# slot ``s`` joined to its visit type ``v``.
OPEN_ONLINE = f"s.channel = '{Channel.ONLINE_AND_PHONE.value}' AND s.held_back = '' AND v.bookable_online AND v.active"
SLOT = Slot._meta.db_table
VISIT_TYPE = VisitType._meta.db_table


@dataclass(frozen=True)
class WeekCoverage:
    year: int  # ISO year
    week: int  # ISO week number
    starts_on: dt.date  # the Monday
    slots: int
    open_online: int
    target: Fraction = TARGET  # the unit's region's (Region.booking_target_percent)

    @property
    def ends_on(self) -> dt.date:
        return self.starts_on + dt.timedelta(days=6)

    @property
    def share(self) -> Fraction | None:
        """None for a week without slots: nothing to measure is not 0 % (nor 100 %)."""
        return Fraction(self.open_online, self.slots) if self.slots else None

    @property
    def percent(self) -> int | None:
        """Whole per cent, rounded down."""
        return None if self.slots == 0 else self.open_online * 100 // self.slots

    @property
    def meets_target(self) -> bool:
        share = self.share
        return share is not None and share >= self.target


def week_starts(today: dt.date, weeks: int = WEEKS_AHEAD) -> list[dt.date]:
    """The Mondays of the ISO week containing ``today`` and the ``weeks - 1`` after it."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday + dt.timedelta(weeks=n) for n in range(weeks)]


def statement(weeks: int, units: int | None) -> str:
    """The grouped count over the ``weeks`` coming weeks, of ``units`` units (None: all).

    Parameters: the ``weeks - 1`` boundaries between the weeks, the first week's start and the last
    week's end, then the units' ids. A slot belongs to the week whose start is at or before it and
    whose end is after it: the CASE finds the first boundary after the slot."""
    week = " ".join(f"WHEN s.starts_at < %s THEN {n}" for n in range(weeks - 1))
    unit_ids = "" if units is None else f" AND s.unit_id IN ({', '.join(['%s'] * units)})"
    return (
        f"SELECT s.unit_id, {f'CASE {week} ELSE {weeks - 1} END' if week else '0'}, "  # noqa: S608 (constants only)
        f"count(*), count(*) FILTER (WHERE {OPEN_ONLINE}) "
        f"FROM {SLOT} s JOIN {VISIT_TYPE} v ON v.id = s.visit_type_id "
        f"WHERE s.starts_at >= %s AND s.starts_at < %s{unit_ids} GROUP BY 1, 2"
    )


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))  # SQLite: hex text


def target_of(region: Region) -> Fraction:
    """The region's target share of slots open online (the seed's 80 % unless it set another)."""
    return Fraction(region.booking_target_percent, 100)


def coverage_by_unit(
    units: Iterable[CareUnit] | None = None,
    *,
    today: dt.date | None = None,
    weeks: int = WEEKS_AHEAD,
    target: Fraction = TARGET,
) -> dict[uuid.UUID, list[WeekCoverage]]:
    """Per unit (all units with slots, or the ones given), its weeks from this one on."""
    mondays = week_starts(today or timezone.localdate(), weeks)
    bounds = [
        connection.ops.adapt_datetimefield_value(local_instant(monday, dt.time()))
        for monday in [*mondays, mondays[-1] + dt.timedelta(weeks=1)]
    ]
    wanted: list[uuid.UUID] | None = None if units is None else [unit.pk for unit in units]
    if wanted == []:
        return {}
    params: list[Any] = [*bounds[1:-1], bounds[0], bounds[-1]]
    if wanted is not None:
        params += wanted if connection.features.has_native_uuid_field else [pk.hex for pk in wanted]
    # Where the router sends a read of slots (the replica for the statistics pages).
    with connections[router.db_for_read(Slot)].cursor() as cursor:
        cursor.execute(statement(weeks, None if wanted is None else len(wanted)), params)
        rows = cursor.fetchall()
    found: dict[uuid.UUID, dict[int, tuple[int, int]]] = {}
    for unit_id, week, slots, open_online in rows:
        found.setdefault(_uuid(unit_id), {})[week] = (slots, open_online)
    result = {}
    for unit_id in wanted if wanted is not None else sorted(found, key=str):
        counted = found.get(unit_id, {})
        result[unit_id] = [
            WeekCoverage(
                year=monday.isocalendar().year,
                week=monday.isocalendar().week,
                starts_on=monday,
                slots=counted.get(n, (0, 0))[0],
                open_online=counted.get(n, (0, 0))[1],
                target=target,
            )
            for n, monday in enumerate(mondays)
        ]
    return result


def unit_coverage(unit: CareUnit, *, today: dt.date | None = None, weeks: int | None = None) -> list[WeekCoverage]:
    """The unit's weeks, measured against its region's target share and horizon (rules page)."""
    region = unit.administration.region
    horizon = weeks or region.booking_target_weeks
    return coverage_by_unit([unit], today=today, weeks=horizon, target=target_of(region))[unit.pk]
