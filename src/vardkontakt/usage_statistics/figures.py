"""The figures of SPEC §11, counted in the database (the statements are in ``sql``): for one unit,
or grouped by unit or administration for the regional view. Every function is a fixed number of
aggregate statements, however many cases there are.

Which cases belong to a period
------------------------------
A case belongs to the period in which it was **received** (``received_at`` within the period's
Stockholm dates), and only to that one. Every period figure about cases follows that rule: the
count per case type, the status distribution, the handling times and the share answered within
the target. A case received on 31 October and answered on 2 November counts in October, with its
answer two days later; it does not appear in November's figures at all. The figures of a past
period can therefore still change while its cases are open (a case of October closed in December
adds a closing time to October), and they settle when its cases are settled.

- **Cases per case type**: every case received in the period, by the kind of the service it was
  sent through (the nine case types of SPEC §4), withdrawn cases included: they reached the inbox.
- **Case status**: the status each of those cases has *now*. A closed case withdrawn by the
  patient is shown as "withdrawn" rather than "closed", so the two never mix.
- **Time to first answer**: ``first_answered_at - received_at`` of the cases that have been
  answered (a reply, a question to the patient, or "we will call you"). Unanswered cases have
  no time yet; they show up in the share within target and in the unanswered cases instead.
- **Time to closing**: ``closed_at - received_at`` of the cases closed by the unit, as they stand
  now. Withdrawn cases are left out (the patient ended them; they say nothing of the unit's
  handling). A **reopened** case that is open again has no closing time (reopening clears
  ``closed_at``); closed again, its time runs to the last closing. A case counts once, however
  often it was reopened.
- **Answered within the target**: answered no later than the working-day deadline the case got
  when it arrived (``first_answered_at <= deadline_passes_at``; the deadline counts Swedish working
  days in Stockholm, so a case received before midsummer or Christmas has a later deadline). The
  share is over the cases whose outcome is known: answered ones, and unanswered ones whose deadline
  has passed (those were not answered in time). A case neither answered nor yet due is left out
  until one or the other happens. A **withdrawn** case is left out if the patient withdrew it
  before its deadline; withdrawn after the deadline had passed unanswered, it counts as not
  answered in time (the unit had missed it by then). A case the unit closed without ever writing
  to the patient (say "booked a time" straight away) has no answer either: once its deadline has
  passed it counts as not answered in time, and it has a time to closing but none to first answer.
- Medians and 90th percentiles: see ``percentiles``.

Not bound to the period
-----------------------
- **Unanswered cases**: the unit's cases open *now* (as the inbox's "open"), those of them not
  answered yet, and those of them overdue (unanswered with the deadline passed: the inbox's
  "overdue").
- **Online-bookable share**: the coming weeks of the region's horizon (``booking.coverage``), against its target.

Bookings
--------
- **Bookings by channel**: bookings made in the period (``created_at``), online by residents or by
  staff (the phone channel). A booking moved online to another time is one booking and one
  rebooking, not two bookings, so the new booking of a rebooking is not counted again.
- **Online cancellations** and **online rebookings**: bookings the resident cancelled or moved
  online (``ended_online``) in the period (``ended_at``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db.models import Count, F, Q

from vardkontakt.booking.coverage import TARGET, WEEKS_AHEAD, coverage_by_unit
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Case, CaseOutcome, CaseStatus
from vardkontakt.organisation.models import CareUnit, Onboarding
from vardkontakt.organisation.progress import TARGET_DAYS
from vardkontakt.usage_statistics import sql
from vardkontakt.usage_statistics.percentiles import MEDIAN, P90, PercentileCont, in_database, percentile_cont
from vardkontakt.usage_statistics.periods import Period

WITHDRAWN = "withdrawn"  # the status shown for a closed case the patient withdrew
STATUS_KEYS = [*CaseStatus.values, WITHDRAWN]
KINDS = list(ServiceKind.values)
TOTAL = None  # the key of the ungrouped figure

Key = Hashable


def received_in(period: Period) -> Q:
    return Q(received_at__gte=period.start, received_at__lt=period.end)


ANSWERED = Q(first_answered_at__isnull=False)
CLOSED_BY_UNIT = Q(status=CaseStatus.CLOSED) & ~Q(outcome=CaseOutcome.WITHDRAWN)


# --- handling times ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandlingTimes:
    received: int = 0
    answered: int = 0
    answer_median: dt.timedelta | None = None
    answer_p90: dt.timedelta | None = None
    closed: int = 0
    close_median: dt.timedelta | None = None
    close_p90: dt.timedelta | None = None
    in_time: int = 0
    missed: int = 0

    @property
    def decided(self) -> int:
        return self.in_time + self.missed

    @property
    def share_in_time(self) -> Fraction | None:
        return Fraction(self.in_time, self.decided) if self.decided else None


def handling_times(
    unit_ids: Sequence[uuid.UUID], period: Period, now: dt.datetime, group: str | None
) -> dict[Key, HandlingTimes]:
    """Per ``group`` ("unit" or "administration") of the units' cases, or for all under ``TOTAL``:
    one statement (sql.handling), plus one for the times on SQLite."""
    found: dict[Key, dict[str, Any]] = {}
    names = ["received", "answered", "closed", "in_time", "missed"]
    if in_database():
        names += ["answer_median", "answer_p90", "close_median", "close_p90"]
    for row in sql.handling(unit_ids, period.start, period.end, now, group, percentiles=in_database()):
        group_key, values = (sql.key(row[0]), row[1:]) if group else (TOTAL, row)
        found[group_key] = dict(zip(names, values, strict=True))
    if not in_database():
        _percentiles_in_python(unit_ids, period, group, found)
    return {key: HandlingTimes(**values) for key, values in found.items()}


GROUP_FIELDS = {"unit": "unit_id", "administration": "unit__administration_id"}


def _percentiles_in_python(
    unit_ids: Sequence[uuid.UUID], period: Period, group: str | None, found: dict[Key, dict[str, Any]]
) -> None:
    """SQLite: one more query for the times themselves, then the same formula (see percentiles)."""
    answer_times: dict[Key, list[dt.timedelta]] = defaultdict(list)
    close_times: dict[Key, list[dt.timedelta]] = defaultdict(list)
    fields = ["received_at", "first_answered_at", "closed_at", "outcome", *([GROUP_FIELDS[group]] if group else [])]
    rows = Case.objects.filter(received_in(period), unit_id__in=unit_ids).filter(ANSWERED | CLOSED_BY_UNIT)
    for row in rows.order_by().values_list(*fields):
        received, answered, closed, outcome = row[:4]
        group_key = row[4] if group else TOTAL
        if answered is not None:
            answer_times[group_key].append(answered - received)
        if closed is not None and outcome != CaseOutcome.WITHDRAWN:
            close_times[group_key].append(closed - received)
    for group_key, values in found.items():
        values["answer_median"] = percentile_cont(answer_times[group_key], MEDIAN)
        values["answer_p90"] = percentile_cont(answer_times[group_key], P90)
        values["close_median"] = percentile_cont(close_times[group_key], MEDIAN)
        values["close_p90"] = percentile_cont(close_times[group_key], P90)


# --- counts per case type and status; unanswered now --------------------------------------------


@dataclass
class Counts:
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_KEYS, 0))

    @property
    def received(self) -> int:
        return sum(self.by_kind.values())

    def add(self, other: Counts) -> None:
        for kind, n in other.by_kind.items():
            self.by_kind[kind] += n
        for status, n in other.by_status.items():
            self.by_status[status] += n


def kind_and_status_counts(unit_ids: Sequence[uuid.UUID], period: Period, group: str | None) -> dict[Key, Counts]:
    """One statement: the cases received in the period by (group,) case type, status and outcome."""
    found: dict[Key, Counts] = defaultdict(Counts)
    for row in sql.kinds_and_statuses(unit_ids, period.start, period.end, group):
        group_key, (kind, status, outcome, n) = (sql.key(row[0]), row[1:]) if group else (TOTAL, row)
        counts = found[group_key]
        counts.by_kind[kind] = counts.by_kind.get(kind, 0) + n
        withdrawn = status == CaseStatus.CLOSED and outcome == CaseOutcome.WITHDRAWN
        counts.by_status[WITHDRAWN if withdrawn else status] += n
    return found


@dataclass(frozen=True)
class Unanswered:
    open: int = 0  # open now, answered or not
    unanswered: int = 0  # open and never answered
    overdue: int = 0  # open, never answered, deadline passed

    def __add__(self, other: Unanswered) -> Unanswered:
        return Unanswered(self.open + other.open, self.unanswered + other.unanswered, self.overdue + other.overdue)


def unanswered_now(unit_ids: Sequence[uuid.UUID], now: dt.datetime, group: str | None) -> dict[Key, Unanswered]:
    """Open cases as the inbox counts them (one statement, on the (unit, status, deadline) index)."""
    if group is None:
        return {TOTAL: Unanswered(*sql.open_now(unit_ids, now, None)[0])}
    return {sql.key(row[0]): Unanswered(*row[1:]) for row in sql.open_now(unit_ids, now, group)}


# --- bookings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bookings:
    online: int = 0
    by_staff: int = 0
    cancelled_online: int = 0
    rebooked_online: int = 0

    def __add__(self, other: Bookings) -> Bookings:
        return Bookings(
            self.online + other.online,
            self.by_staff + other.by_staff,
            self.cancelled_online + other.cancelled_online,
            self.rebooked_online + other.rebooked_online,
        )


def bookings_by_unit(unit_ids: Sequence[uuid.UUID], period: Period) -> dict[uuid.UUID, Bookings]:
    """One statement over the units' bookings made, cancelled or moved in the period."""
    return {sql.key(row[0]): Bookings(*row[1:]) for row in sql.bookings(unit_ids, period.start, period.end)}


# --- the online-bookable share -------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """The coming weeks' times of one or more units, summed (booking.coverage counts them)."""

    slots: int = 0
    open_online: int = 0
    weeks: int = 0
    weeks_reaching: int = 0  # weeks with times whose share reached the target

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.open_online, self.slots) if self.slots else None

    def __add__(self, other: Coverage) -> Coverage:
        return Coverage(
            self.slots + other.slots,
            self.open_online + other.open_online,
            self.weeks + other.weeks,
            self.weeks_reaching + other.weeks_reaching,
        )


def coverage_summary(
    units: Iterable[CareUnit],
    today: dt.date | None = None,
    *,
    target: Fraction = TARGET,
    weeks: int = WEEKS_AHEAD,
) -> dict[uuid.UUID, Coverage]:
    """One query (booking.coverage): per unit, its coming weeks (the region's horizon) summed,
    counted against the region's target share."""
    return {
        unit_id: Coverage(
            slots=sum(w.slots for w in unit_weeks),
            open_online=sum(w.open_online for w in unit_weeks),
            weeks=sum(1 for w in unit_weeks if w.slots),
            weeks_reaching=sum(1 for w in unit_weeks if w.meets_target),
        )
        for unit_id, unit_weeks in coverage_by_unit(list(units), today=today, weeks=weeks, target=target).items()
    }


# --- onboarding (regional view) ------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingFigures:
    went_live: int  # in the period
    median_days: float | None  # from interest to live, of those that went live in the period
    within_target: int  # of those, live within the region's target (a month unless it set another)
    on_the_way: list[tuple[Onboarding, int]]  # not live yet, with the days since the interest


def onboarding_figures(
    onboardings: Sequence[Onboarding], period: Period, today: dt.date, *, target_days: int = TARGET_DAYS
) -> OnboardingFigures:
    """From rows already read (a region has a few hundred onboardings at most); ``target_days``
    is the region's (Region.onboarding_target_days)."""
    live = [o for o in onboardings if o.live_on and period.first_day <= o.live_on <= period.last_day]
    days = sorted((o.live_on - o.interest_on).days for o in live if o.live_on)
    median = percentile_cont([dt.timedelta(days=d) for d in days], MEDIAN)
    waiting = [(o, (today - o.interest_on).days) for o in onboardings if o.live_on is None]
    return OnboardingFigures(
        went_live=len(live),
        median_days=median / dt.timedelta(days=1) if median is not None else None,
        within_target=sum(1 for d in days if d <= target_days),
        on_the_way=sorted(waiting, key=lambda pair: -pair[1]),
    )


# --- the public page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTime:
    answered: int
    median: dt.timedelta | None


def response_times(period: Period) -> dict[uuid.UUID, ResponseTime]:
    """Per live unit: its cases received in the period and answered, and their median time to
    first answer (one query on PostgreSQL; on SQLite one query for the times)."""
    rows = Case.objects.filter(received_in(period), ANSWERED, unit__live=True).order_by()
    if in_database():
        grouped = rows.values("unit_id").annotate(
            answered=Count("pk"), median=PercentileCont(F("first_answered_at") - F("received_at"), MEDIAN)
        )
        return {row["unit_id"]: ResponseTime(row["answered"], row["median"]) for row in grouped}
    times: dict[uuid.UUID, list[dt.timedelta]] = defaultdict(list)
    for unit_id, received, answered in rows.values_list("unit_id", "received_at", "first_answered_at"):
        if answered is not None:  # always (the filter), but the column may be NULL
            times[unit_id].append(answered - received)
    return {key: ResponseTime(len(values), percentile_cont(values, MEDIAN)) for key, values in times.items()}
