"""The unit's statistics (SPEC §11) as figures: what the unit administrator's page and its CSV
files show. The definitions of every figure are in ``figures``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from vardkontakt.booking import coverage
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.core.replica import reads_from_replica
from vardkontakt.organisation.models import CareUnit
from vardkontakt.usage_statistics.figures import (
    KINDS,
    STATUS_KEYS,
    TOTAL,
    Bookings,
    Counts,
    HandlingTimes,
    Unanswered,
    bookings_by_unit,
    handling_times,
    kind_and_status_counts,
    unanswered_now,
)
from vardkontakt.usage_statistics.periods import Period
from vardkontakt.usage_statistics.tables import (
    NONE,
    STATUS_LABELS,
    Figure,
    Table,
    chart,
    hours,
    hours_value,
    integer,
    per_cent,
)
from vardkontakt.video.selectors import EvaluationFigures, evaluation_figures


@dataclass(frozen=True)
class UnitStatistics:
    unit: CareUnit
    period: Period
    figures: list[Figure]

    def table(self, key: str) -> Table | None:
        return next((f.table for f in self.figures if f.key == key), None)


@reads_from_replica
def unit_statistics(
    unit: CareUnit, period: Period, *, now: dt.datetime | None = None, today: dt.date | None = None
) -> UnitStatistics:
    """Six aggregate queries, whatever the number of cases, bookings and survey answers."""
    now = now or timezone.now()
    units = [unit.pk]
    counts = kind_and_status_counts(units, period, None).get(TOTAL, Counts())
    handling = handling_times(units, period, now, None)[TOTAL]
    waiting = unanswered_now(units, now, None)[TOTAL]
    booked = bookings_by_unit([unit.pk], period).get(unit.pk, Bookings())
    weeks = coverage.unit_coverage(unit, today=today or timezone.localdate(now))
    figures = [
        case_types_figure(counts),
        handling_figure(handling),
        in_time_figure(handling),
        unanswered_figure(waiting),
        status_figure(counts),
        bookings_figure(booked),
        coverage_figure(weeks),
        video_evaluation_figure(evaluation_figures(unit_id=unit.pk, start=period.start, end=period.end)),
    ]
    return UnitStatistics(unit=unit, period=period, figures=figures)


def case_types_figure(counts: Counts) -> Figure:
    labels = dict(ServiceKind.choices)
    pairs = [(str(labels[kind]), counts.by_kind[kind], integer(counts.by_kind[kind])) for kind in KINDS]
    table = Table(
        "case-types",
        _("Cases received in the period, per case type"),
        [_("Case type"), _("Cases")],
        [[label, text] for label, _value, text in pairs] + [[_("All case types"), integer(counts.received)]],
        total_row=True,
    )
    return Figure(
        _("Cases per case type"),
        _("Bar chart: the number of cases received in the period for each case type."),
        chart(pairs),
        table,
    )


def handling_figure(handling: HandlingTimes) -> Figure:
    answer, close = _("Time to first answer"), _("Time to closing")
    pairs = [
        (
            _("%(measure)s, median") % {"measure": answer},
            hours_value(handling.answer_median),
            hours(handling.answer_median),
        ),
        (
            _("%(measure)s, 90th percentile") % {"measure": answer},
            hours_value(handling.answer_p90),
            hours(handling.answer_p90),
        ),
        (
            _("%(measure)s, median") % {"measure": close},
            hours_value(handling.close_median),
            hours(handling.close_median),
        ),
        (
            _("%(measure)s, 90th percentile") % {"measure": close},
            hours_value(handling.close_p90),
            hours(handling.close_p90),
        ),
    ]
    table = Table(
        "handling-times",
        _("Handling times of the cases received in the period, in hours"),
        [_("Measure"), _("Cases"), _("Median (hours)"), _("90th percentile (hours)")],
        [
            [answer, integer(handling.answered), hours(handling.answer_median), hours(handling.answer_p90)],
            [close, integer(handling.closed), hours(handling.close_median), hours(handling.close_p90)],
        ],
    )
    return Figure(
        _("Handling times"),
        _("Bar chart: median and 90th percentile of the time to first answer and to closing, in hours."),
        chart(pairs),
        table,
        axis_label=_("hours"),
        note=_(
            "Time to first answer counts the answered cases; time to closing the cases the unit has closed "
            "(withdrawn cases are left out). Nine in ten cases took at most the 90th percentile."
        ),
    )


def in_time_figure(handling: HandlingTimes) -> Figure:
    pairs = [
        (_("Answered in time"), handling.in_time, integer(handling.in_time)),
        (_("Not answered in time"), handling.missed, integer(handling.missed)),
    ]
    table = Table(
        "answered-in-time",
        _("Cases received in the period answered within the working-day target"),
        [
            _("Cases with a known outcome"),
            _("Answered in time"),
            _("Not answered in time"),
            _("Share answered in time (%)"),
        ],
        [
            [
                integer(handling.decided),
                integer(handling.in_time),
                integer(handling.missed),
                per_cent(handling.share_in_time),
            ]
        ],
        numeric_from=0,
    )
    return Figure(
        _("Answered within the target"),
        _("Bar chart: cases answered within the working-day target and cases not answered in time."),
        chart(pairs),
        table,
        note=_(
            "The target is the unit's number of working days (weekends and holidays excluded). Cases not yet "
            "answered whose deadline has not passed are not counted yet; a case withdrawn before its deadline "
            "is not counted."
        ),
    )


def unanswered_figure(waiting: Unanswered) -> Figure:
    pairs = [
        (_("Open"), waiting.open, integer(waiting.open)),
        (_("Of them not answered"), waiting.unanswered, integer(waiting.unanswered)),
        (_("Of them overdue"), waiting.overdue, integer(waiting.overdue)),
    ]
    table = Table(
        "unanswered",
        _("The unit's open cases now"),
        [_("Cases"), _("Number")],
        [[label, text] for label, _value, text in pairs],
    )
    return Figure(
        _("Unanswered cases now"),
        _("Bar chart: the cases open now, those of them not answered yet, and those of them past their deadline."),
        chart(pairs),
        table,
        note=_("Counted now, whatever period is chosen, as in the inbox."),
    )


def status_figure(counts: Counts) -> Figure:
    pairs = [(str(STATUS_LABELS[key]), counts.by_status[key], integer(counts.by_status[key])) for key in STATUS_KEYS]
    table = Table(
        "statuses",
        _("Status now of the cases received in the period"),
        [_("Status"), _("Cases")],
        [[label, text] for label, _value, text in pairs] + [[_("All statuses"), integer(counts.received)]],
        total_row=True,
    )
    return Figure(
        _("Case status"),
        _("Bar chart: the status now of the cases received in the period."),
        chart(pairs),
        table,
    )


def bookings_figure(booked: Bookings) -> Figure:
    pairs = [
        (_("Booked online by residents"), booked.online, integer(booked.online)),
        (_("Booked by staff"), booked.by_staff, integer(booked.by_staff)),
        (_("Cancelled online"), booked.cancelled_online, integer(booked.cancelled_online)),
        (_("Moved online to another time"), booked.rebooked_online, integer(booked.rebooked_online)),
    ]
    table = Table(
        "bookings",
        _("Bookings made, cancelled and moved in the period"),
        [_("Bookings"), _("Number")],
        [[label, text] for label, _value, text in pairs],
    )
    return Figure(
        _("Bookings"),
        _("Bar chart: bookings by channel, online cancellations and online rebookings in the period."),
        chart(pairs),
        table,
        note=_("A booking moved to another time counts once as a booking and once as moved."),
    )


def video_evaluation_figure(found: EvaluationFigures) -> Figure:
    """The survey after video visits: the mean of each question's score (1–5) and the answers."""

    def mean(value: float | None) -> str:
        return NONE if value is None else formats.number_format(round(value, 1), 1)

    pairs = [
        (_("Picture and sound"), found.picture_and_sound, mean(found.picture_and_sound)),
        (_("Easy to join"), found.easy_to_join, mean(found.easy_to_join)),
        (_("The visit helped"), found.helped, mean(found.helped)),
    ]
    table = Table(
        "video-evaluations",
        _("Answers to the survey after video visits in the period: mean score, 1 (very poor) to 5 (very good)"),
        [_("Question"), _("Mean score")],
        [[label, text] for label, _value, text in pairs] + [[_("Answers"), integer(found.answers)]],
    )
    return Figure(
        _("Video visits: the survey"),
        _("Bar chart: the mean score of each question of the survey after video visits, 1 to 5."),
        chart(pairs, maximum=5),
        table,
        note=_("Each person answers once per video visit; the free texts are not shown here."),
    )


def coverage_figure(weeks: list[coverage.WeekCoverage]) -> Figure:
    target = int(coverage.TARGET * 100)
    rows, pairs = [], []
    for week in weeks:
        name = _("Week %(number)s") % {"number": week.week}
        share = NONE if week.percent is None else integer(week.percent)
        rows.append(
            [
                name,
                f"{week.starts_on.isoformat()} – {week.ends_on.isoformat()}",
                integer(week.slots),
                integer(week.open_online),
                share,
            ]
        )
        pairs.append((name, week.percent, share if week.percent is None else f"{share} %"))
    table = Table(
        "online-bookable",
        _("Times open for online booking in the coming weeks"),
        [_("Week"), _("Dates"), _("Times"), _("Open online"), _("Share open online (%)")],
        rows,
        numeric_from=2,
    )
    return Figure(
        _("Share of times open for online booking"),
        _(
            "Bar chart: the share of each coming week's times open for online booking, against the target of %(target)s %%."
        )
        % {"target": target},
        chart(pairs, maximum=100, target=target, target_label=_("Target %(target)s %%") % {"target": target}),
        table,
        axis_label="%",
        note=_(
            "The region's target: at least %(target)s %% of all times open for online booking, at least eight "
            "weeks ahead. Shares are rounded down to whole per cent. Counted for the coming weeks, whatever "
            "period is chosen."
        )
        % {"target": target},
    )
