"""The regional view (SPEC §11): the unit figures over the units of some administrations — all of
a region for its administrators, their own administrations for coordinators — per unit, per
administration and in total, with onboarding times and the use of each service.

Counts add up from unit to administration to total; medians and percentiles do not (the median of
medians is not the median), so they are computed again over each administration's and the total's
own cases: three grouped queries, not one per unit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.booking import coverage
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.core.replica import reads_from_replica
from vardkontakt.organisation.models import Administration, CareUnit, Onboarding, Region
from vardkontakt.organisation.progress import TARGET_DAYS, stage_of
from vardkontakt.usage_statistics.figures import (
    KINDS,
    STATUS_KEYS,
    TOTAL,
    Bookings,
    Counts,
    Coverage,
    HandlingTimes,
    Key,
    OnboardingFigures,
    Unanswered,
    bookings_by_unit,
    coverage_summary,
    handling_times,
    kind_and_status_counts,
    onboarding_figures,
    unanswered_now,
)
from vardkontakt.usage_statistics.periods import Period
from vardkontakt.usage_statistics.tables import (
    STATUS_LABELS,
    Figure,
    Table,
    chart,
    days,
    hours,
    hours_value,
    integer,
    per_cent,
    per_cent_value,
)


@dataclass(frozen=True)
class RegionalStatistics:
    administrations: list[Administration]
    units: list[CareUnit]
    period: Period
    figures: list[Figure]

    def table(self, key: str) -> Table | None:
        return next((f.table for f in self.figures if f.key == key), None)


@dataclass(frozen=True)
class Row:
    """One line of the handling table: a unit, an administration or the total."""

    name: str
    handling: HandlingTimes
    waiting: Unanswered


@reads_from_replica
def regional_statistics(
    administrations: list[Administration],
    period: Period,
    *,
    now: dt.datetime | None = None,
    today: dt.date | None = None,
) -> RegionalStatistics:
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    units = list(
        CareUnit.objects.filter(administration__in=administrations)
        .select_related("administration")
        .order_by("administration__name", "name")
    )
    unit_ids = [unit.pk for unit in units]
    handling: dict[str, dict[Key, HandlingTimes]] = {
        "unit": handling_times(unit_ids, period, now, "unit"),
        "administration": handling_times(unit_ids, period, now, "administration"),
        "total": handling_times(unit_ids, period, now, None),
    }
    counts = kind_and_status_counts(unit_ids, period, "unit")
    waiting = unanswered_now(unit_ids, now, "unit")
    booked = bookings_by_unit(unit_ids, period)
    # The region's own targets (its rules page); a coordinator's administrations are of one region.
    region = administrations[0].region if administrations else None
    targets = Targets.of(region)
    covered = coverage_summary(units, today, target=Fraction(targets.online_percent, 100), weeks=targets.online_weeks)
    onboardings = list(
        Onboarding.objects.filter(administration__in=administrations).select_related("administration", "unit")
    )

    def waiting_of(members: list[CareUnit]) -> Unanswered:
        return sum((waiting.get(u.pk, Unanswered()) for u in members), Unanswered())

    members: dict[uuid.UUID, list[CareUnit]] = defaultdict(list)
    for unit in units:
        members[unit.administration_id].append(unit)
    administration_rows = [
        Row(a.name, handling["administration"].get(a.pk, HandlingTimes()), waiting_of(members[a.pk]))
        for a in administrations
    ]
    total_row = Row(_("All administrations"), handling["total"][TOTAL], waiting_of(units))
    unit_rows = [
        Row(u.name, handling["unit"].get(u.pk, HandlingTimes()), waiting.get(u.pk, Unanswered())) for u in units
    ]

    total_counts = Counts()
    for unit in units:
        total_counts.add(counts.get(unit.pk, Counts()))
    figures = [
        administration_figure(administration_rows, total_row, members),
        unit_figure(unit_rows, units),
        services_figure(units, counts, total_counts),
        status_figure(total_counts),
        bookings_figure(administrations, members, booked),
        coverage_figure(units, covered, targets),
        *onboarding_figures_of(administrations, onboardings, period, today, targets),
    ]
    return RegionalStatistics(administrations=administrations, units=units, period=period, figures=figures)


def _handling_columns() -> list[str]:
    return [
        _("Cases"),
        _("Median to first answer (hours)"),
        _("90th percentile to first answer (hours)"),
        _("Median to closing (hours)"),
        _("90th percentile to closing (hours)"),
        _("Answered in time (%)"),
        _("Open now"),
        _("Overdue now"),
    ]


def _handling_cells(row: Row) -> list[str]:
    h = row.handling
    return [
        integer(h.received),
        hours(h.answer_median),
        hours(h.answer_p90),
        hours(h.close_median),
        hours(h.close_p90),
        per_cent(h.share_in_time),
        integer(row.waiting.open),
        integer(row.waiting.overdue),
    ]


def administration_figure(rows: list[Row], total: Row, members: dict[uuid.UUID, list[CareUnit]]) -> Figure:
    table = Table(
        "administrations",
        _("Cases received in the period and open now, per administration"),
        [_("Administration"), *_handling_columns()],
        [[row.name, *_handling_cells(row)] for row in [*rows, total]],
        total_row=True,
    )
    pairs = [(row.name, hours_value(row.handling.answer_median), hours(row.handling.answer_median)) for row in rows]
    return Figure(
        _("Handling times per administration"),
        _("Bar chart: the median time to first answer in each administration, in hours."),
        chart(pairs),
        table,
        axis_label=_("hours"),
        note=_(
            "Medians and percentiles are computed over each administration's own cases, not from its units' figures."
        ),
        wide=True,
    )


def unit_figure(rows: list[Row], units: list[CareUnit]) -> Figure:
    table = Table(
        "units",
        _("Cases received in the period and open now, per unit"),
        [_("Unit"), _("Administration"), *_handling_columns()],
        [[row.name, unit.administration.name, *_handling_cells(row)] for row, unit in zip(rows, units, strict=True)],
        numeric_from=2,
    )
    pairs = [
        (row.name, per_cent_value(row.handling.share_in_time), per_cent(row.handling.share_in_time)) for row in rows
    ]
    return Figure(
        _("Answered within the target, per unit"),
        _("Bar chart: the share of each unit's cases answered within the working-day target, in per cent."),
        chart(pairs, maximum=100),
        table,
        axis_label="%",
        wide=True,
    )


def services_figure(units: list[CareUnit], counts: dict[Key, Counts], total: Counts) -> Figure:
    labels = dict(ServiceKind.choices)
    rows = []
    for unit in units:
        found = counts.get(unit.pk, Counts())
        rows.append([unit.name, *(integer(found.by_kind[k]) for k in KINDS), integer(found.received)])
    rows.append([_("All units"), *(integer(total.by_kind[k]) for k in KINDS), integer(total.received)])
    table = Table(
        "services",
        _("Cases received in the period, per unit and case type"),
        [_("Unit"), *(str(labels[k]) for k in KINDS), _("All case types")],
        rows,
        total_row=True,
    )
    pairs = [(str(labels[k]), total.by_kind[k], integer(total.by_kind[k])) for k in KINDS]
    return Figure(
        _("Use of each service"),
        _("Bar chart: the number of cases received in the period for each case type, all units together."),
        chart(pairs),
        table,
        wide=True,
    )


def status_figure(total: Counts) -> Figure:
    pairs = [(str(STATUS_LABELS[key]), total.by_status[key], integer(total.by_status[key])) for key in STATUS_KEYS]
    table = Table(
        "statuses",
        _("Status now of the cases received in the period"),
        [_("Status"), _("Cases")],
        [[label, text] for label, _value, text in pairs] + [[_("All statuses"), integer(total.received)]],
        total_row=True,
    )
    return Figure(
        _("Case status"), _("Bar chart: the status now of the cases received in the period."), chart(pairs), table
    )


def bookings_figure(
    administrations: list[Administration], members: dict[uuid.UUID, list[CareUnit]], booked: dict[uuid.UUID, Bookings]
) -> Figure:
    def of(units: list[CareUnit]) -> Bookings:
        return sum((booked.get(u.pk, Bookings()) for u in units), Bookings())

    def cells(b: Bookings) -> list[str]:
        return [integer(b.online), integer(b.by_staff), integer(b.cancelled_online), integer(b.rebooked_online)]

    total = sum((of(members[a.pk]) for a in administrations), Bookings())
    table = Table(
        "bookings",
        _("Bookings made, cancelled and moved in the period, per administration"),
        [
            _("Administration"),
            _("Booked online by residents"),
            _("Booked by staff"),
            _("Cancelled online"),
            _("Moved online to another time"),
        ],
        [[a.name, *cells(of(members[a.pk]))] for a in administrations] + [[_("All administrations"), *cells(total)]],
        total_row=True,
    )
    pairs = [
        (_("Booked online by residents"), total.online, integer(total.online)),
        (_("Booked by staff"), total.by_staff, integer(total.by_staff)),
        (_("Cancelled online"), total.cancelled_online, integer(total.cancelled_online)),
        (_("Moved online to another time"), total.rebooked_online, integer(total.rebooked_online)),
    ]
    return Figure(
        _("Bookings"),
        _(
            "Bar chart: bookings by channel, online cancellations and online rebookings in the period, all administrations together."
        ),
        chart(pairs),
        table,
        wide=True,
    )


@dataclass(frozen=True)
class Targets:
    """A region's targets as its rules page sets them (organisation.Region), the seed's by default."""

    online_percent: int = int(coverage.TARGET * 100)
    online_weeks: int = coverage.WEEKS_AHEAD
    onboarding_days: int = TARGET_DAYS

    @classmethod
    def of(cls, region: Region | None) -> Targets:
        if region is None:
            return cls()
        return cls(region.booking_target_percent, region.booking_target_weeks, region.onboarding_target_days)


def coverage_figure(units: list[CareUnit], covered: dict[uuid.UUID, Coverage], targets: Targets) -> Figure:
    target = targets.online_percent

    def cells(c: Coverage) -> list[str]:
        return [
            integer(c.slots),
            integer(c.open_online),
            per_cent(c.share),
            integer(c.weeks_reaching),
            integer(c.weeks),
        ]

    total = sum((covered.get(u.pk, Coverage()) for u in units), Coverage())
    table = Table(
        "online-bookable",
        _("Times of the coming %(weeks)s weeks open for online booking, per unit") % {"weeks": targets.online_weeks},
        [
            _("Unit"),
            _("Administration"),
            _("Times"),
            _("Open online"),
            _("Share open online (%)"),
            _("Weeks reaching the target"),
            _("Weeks with times"),
        ],
        [[u.name, u.administration.name, *cells(covered.get(u.pk, Coverage()))] for u in units]
        + [[_("All units"), "", *cells(total)]],
        numeric_from=2,
        total_row=True,
    )
    pairs = [
        (u.name, per_cent_value(c.share), per_cent(c.share))
        for u in units
        if (c := covered.get(u.pk, Coverage())).slots
    ]
    return Figure(
        _("Share of times open for online booking"),
        _(
            "Bar chart: the share of each unit's coming times open for online booking, against the target of %(target)s %%."
        )
        % {"target": target},
        chart(pairs, maximum=100, target=target, target_label=_("Target %(target)s %%") % {"target": target}),
        table,
        axis_label="%",
        note=_("Units without times in the coming weeks are left out of the chart. Shares are rounded down."),
        wide=True,
    )


def onboarding_figures_of(
    administrations: list[Administration],
    onboardings: list[Onboarding],
    period: Period,
    today: dt.date,
    targets: Targets,
) -> list[Figure]:
    target_days = targets.onboarding_days
    per_administration = [
        (
            a,
            onboarding_figures(
                [o for o in onboardings if o.administration_id == a.pk], period, today, target_days=target_days
            ),
        )
        for a in administrations
    ]
    total = onboarding_figures(onboardings, period, today, target_days=target_days)

    def cells(f: OnboardingFigures) -> list[str]:
        return [integer(f.went_live), days(f.median_days), integer(f.within_target)]

    times = Figure(
        _("Onboarding times"),
        _(
            "Bar chart: the median number of days from the registration of interest to going live, per administration, against the target of %(days)s days."
        )
        % {"days": target_days},
        chart(
            [(a.name, f.median_days, days(f.median_days)) for a, f in per_administration],
            target=target_days,
            target_label=_("Target %(days)s days") % {"days": target_days},
        ),
        Table(
            "onboarding",
            _("Units that went live in the period"),
            [_("Administration"), _("Went live"), _("Median days from interest to live"), _("Live within the target")],
            [[a.name, *cells(f)] for a, f in per_administration] + [[_("All administrations"), *cells(total)]],
            total_row=True,
        ),
        axis_label=_("days"),
        wide=True,
    )
    waiting = total.on_the_way
    on_the_way = Figure(
        _("Units on their way"),
        _(
            "Bar chart: the days since each unit on its way registered its interest, against the target of %(days)s days."
        )
        % {"days": target_days},
        chart(
            [(o.unit_name, n, integer(n)) for o, n in waiting],
            target=target_days,
            target_label=_("Target %(days)s days") % {"days": target_days},
        ),
        Table(
            "on-the-way",
            _("Units not live yet, longest waiting first"),
            [_("Unit"), _("Administration"), _("Stage"), _("Days since the interest")],
            [[o.unit_name, o.administration.name, stage_of(o), integer(n)] for o, n in waiting],
            numeric_from=3,
        ),
        axis_label=_("days"),
        note=_("Now, whatever period is chosen."),
        wide=True,
    )
    return [times, on_the_way]
