"""Line charts over time as plain geometry: scales, round ticks, a calendar axis, SVG coordinates.

The server works out every coordinate and ``templates/includes/line_chart.html`` draws them as
SVG, with no JavaScript and no canvas: the chart then works without scripts and under the strict
CSP, prints, goes into a PDF, and its numbers can be given in a table beside it. The record's
results draw with it; the statistics pages will reuse it.

Times are placed by their instant (so a DST night is an hour shorter or longer, as it was); the
calendar ticks fall on local midnights in Europe/Stockholm and are labelled in the active language.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal

from django.utils import dateformat, formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from vardkontakt.core.calendar import STOCKHOLM

Number = float | int | Decimal
TimeTick = tuple[dt.datetime, str]


class Marker(enum.StrEnum):
    """How a point is drawn. Outside the band it gets its own shape, not only another colour."""

    NORMAL = "normal"  # a circle
    HIGH = "high"  # a triangle pointing up
    LOW = "low"  # a triangle pointing down


@dataclass(frozen=True)
class Point:
    at: dt.datetime  # aware
    value: Number
    low: Number | None = None  # the band (e.g. the reference range) that applied to this point
    high: Number | None = None
    marker: Marker = Marker.NORMAL
    label: str = ""  # the point's tooltip


@dataclass(frozen=True)
class LinearScale:
    domain: tuple[float, float]
    range: tuple[float, float]

    def __call__(self, value: Number) -> float:
        (d0, d1), (r0, r1) = self.domain, self.range
        if d1 == d0:
            return (r0 + r1) / 2
        return r0 + (float(value) - d0) * (r1 - r0) / (d1 - d0)


@dataclass(frozen=True)
class Tick:
    position: float  # in SVG units along its axis
    label: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Plotted:
    x: float
    y: float
    marker: Marker
    label: str
    shape: str  # the marker's SVG path


@dataclass(frozen=True)
class PlottedLine:
    """One of several lines in a chart (blood pressure: systolic and diastolic), each its own
    colour and dash so the lines differ without colour too."""

    name: str
    path: str
    points: list[Plotted]
    colour: str
    dash: str  # SVG stroke-dasharray ("" for a solid line)


# Colours and dashes of the lines of a chart with several, in order (dark teal, plum, brown).
LINE_STYLES = [("#0b5560", ""), ("#6b2c5f", "7 4"), ("#7a4a00", "2 3")]


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: float  # the plot area inside the axes
    top: float
    right: float
    bottom: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    points: list[Plotted]
    line: str  # SVG path through the points, oldest first
    bands: list[Rect]
    lines: list[PlottedLine] = dataclass_field(default_factory=list)  # several lines (lines_chart)

    @property
    def has_outside(self) -> bool:
        every = [*self.points, *(p for line in self.lines for p in line.points)]
        return any(p.marker is not Marker.NORMAL for p in every)

    @property
    def markers(self) -> set[str]:
        return {str(p.marker) for p in self.points} | {str(p.marker) for line in self.lines for p in line.points}


# --- numbers -------------------------------------------------------------------------------------


def nice_step(span: float, count: int) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) giving about ``count`` intervals."""
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5):
        if raw <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude
    return 10 * magnitude


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values from at or below ``low`` to at or above ``high``, ``count`` or so apart."""
    low, high = min(low, high), max(low, high)
    if high == low:
        # One value only: show it in the middle of a small range around it.
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = nice_step(high - low, count)
    start = math.floor(low / step + 1e-9) * step
    stop = math.ceil(high / step - 1e-9) * step
    return [round(start + i * step, 10) for i in range(round((stop - start) / step) + 1)]


def decimals_for(step: float) -> int:
    """Enough decimals to tell ticks ``step`` apart (2.5 needs one more than 2)."""
    places = max(0, -math.floor(math.log10(step) + 1e-9))
    scaled = step * 10**places
    return places + (0 if abs(scaled - round(scaled)) < 1e-6 else 1)


def number_label(value: float, decimals: int) -> str:
    """In the active language's notation (Swedish: a decimal comma)."""
    return formats.number_format(round(value, decimals), decimal_pos=decimals)


# --- time ----------------------------------------------------------------------------------------

# Calendar steps from fine to coarse; the first giving few enough ticks is used.
DATE_STEPS: list[tuple[str, int]] = [
    ("day", 1),
    ("day", 2),
    ("week", 1),
    ("week", 2),
    ("month", 1),
    ("month", 2),
    ("month", 3),
    ("month", 6),
    ("year", 1),
    ("year", 2),
    ("year", 5),
    ("year", 10),
    ("year", 20),
    ("year", 50),
]
APPROX_DAYS = {"day": 1, "week": 7, "month": 30.4, "year": 365.25}


def _calendar_dates(first: dt.date, last: dt.date, unit: str, every: int) -> list[dt.date]:
    if unit in ("day", "week"):
        day = first
        if unit == "week":
            day += dt.timedelta(days=-first.weekday() % 7)  # Mondays
        step = dt.timedelta(days=every * (7 if unit == "week" else 1))
        found = []
        while day <= last:
            found.append(day)
            day += step
        return found
    if unit == "month":
        months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
        return [
            dt.date(m // 12, m % 12 + 1, 1)
            for m in months
            if m % every == 0 and dt.date(m // 12, m % 12 + 1, 1) >= first
        ]
    return [dt.date(y, 1, 1) for y in range(first.year, last.year + 1) if y % every == 0 and dt.date(y, 1, 1) >= first]


def date_ticks(start: dt.datetime, end: dt.datetime, *, tz: dt.tzinfo = STOCKHOLM, count: int = 6) -> list[dt.datetime]:
    """Local midnights between ``start`` and ``end`` on whole days, weeks, months or years."""
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    span_days = (last - first).days + 1
    for unit, every in DATE_STEPS:
        if span_days / (APPROX_DAYS[unit] * every) > count + 1:
            continue  # certainly too many: don't list them
        dates = _calendar_dates(first, last, unit, every)
        if len(dates) <= count:
            break
    # Midnight exists every day in Stockholm (the clocks change at 02:00 and 03:00).
    instants = [dt.datetime.combine(day, dt.time.min, tzinfo=tz) for day in dates]
    return [at for at in instants if start <= at <= end]


def time_ticks(start: dt.datetime, end: dt.datetime, *, tz: dt.tzinfo = STOCKHOLM, count: int = 6) -> list[TimeTick]:
    """(instant, label) pairs for the axis; within a day or two, the first and last instants."""
    ticks = date_ticks(start, end, tz=tz, count=count)
    if len(ticks) >= 2:
        return [(t, date_label(t, ticks, tz=tz)) for t in ticks]
    return [(t, dateformat.format(t.astimezone(tz), "j N Y H:i")) for t in (start, end)]


def date_label(at: dt.datetime, ticks: Sequence[dt.datetime], *, tz: dt.tzinfo = STOCKHOLM) -> str:
    """Short and unambiguous for the ticks shown together: "3 okt", "okt 2026" or "2026".

    "N" is the month as the active language abbreviates it in running text ("okt", "Oct.").
    """
    local = [t.astimezone(tz) for t in ticks]
    if all(t.month == 1 and t.day == 1 for t in local) and len({t.year for t in local}) == len(local):
        fmt = "Y"
    elif all(t.day == 1 for t in local):
        fmt = "N Y"
    elif len({t.year for t in local}) > 1:
        fmt = "j N Y"
    else:
        fmt = "j N"
    return dateformat.format(at.astimezone(tz), fmt)


# --- the chart -----------------------------------------------------------------------------------

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 32, 40
INSET = 14  # keeps the first and last points off the axes
MARKER_SIZE = 5.0


def _f(value: float) -> str:
    return f"{value:.1f}"


def marker_shape(x: float, y: float, marker: Marker, size: float = MARKER_SIZE) -> str:
    if marker is Marker.HIGH:
        return f"M{_f(x)} {_f(y - size * 1.3)}L{_f(x + size * 1.2)} {_f(y + size * 0.8)}L{_f(x - size * 1.2)} {_f(y + size * 0.8)}Z"
    if marker is Marker.LOW:
        return f"M{_f(x)} {_f(y + size * 1.3)}L{_f(x + size * 1.2)} {_f(y - size * 0.8)}L{_f(x - size * 1.2)} {_f(y - size * 0.8)}Z"
    return f"M{_f(x - size)} {_f(y)}a{size} {size} 0 1 0 {2 * size} 0a{size} {size} 0 1 0 {-2 * size} 0Z"


def _bands(points: Sequence[Point], xs: Sequence[float], y: LinearScale, left: float, right: float) -> list[Rect]:
    """The band as steps: each point's range holds halfway to its neighbours; equal neighbours join."""
    bottom, top = y.domain
    rects: list[Rect] = []
    run_start: float | None = None
    run_range: tuple[float, float] | None = None
    edges = [left, *((a + b) / 2 for a, b in itertools.pairwise(xs)), right]
    for i, point in enumerate(points):
        this = None
        if point.low is not None or point.high is not None:
            low = float(point.low) if point.low is not None else bottom
            high = float(point.high) if point.high is not None else top
            this = (max(low, bottom), min(high, top))
        if this != run_range:
            if run_range is not None and run_start is not None:
                rects.append(_rect(run_start, edges[i], run_range, y))
            run_start, run_range = edges[i], this
    if run_range is not None and run_start is not None:
        rects.append(_rect(run_start, edges[-1], run_range, y))
    return rects


def _rect(x0: float, x1: float, band: tuple[float, float], y: LinearScale) -> Rect:
    y_top, y_bottom = y(band[1]), y(band[0])
    return Rect(x=x0, y=y_top, width=max(x1 - x0, 0.0), height=max(y_bottom - y_top, 0.0))


def line_chart(
    points: Sequence[Point],
    *,
    width: int = 640,
    height: int = 300,
    tz: dt.tzinfo = STOCKHOLM,
    x_tick_count: int = 6,
    y_tick_count: int = 5,
) -> LineChart:
    """Points (oldest first) placed on a time axis and a value axis that covers values and band."""
    if not points:
        raise ValueError("a line chart needs at least one point")
    return _chart([("", points)], width=width, height=height, tz=tz, x_count=x_tick_count, y_count=y_tick_count)


def lines_chart(
    lines: Sequence[tuple[str, Sequence[Point]]],
    *,
    width: int = 640,
    height: int = 300,
    tz: dt.tzinfo = STOCKHOLM,
    x_tick_count: int = 6,
    y_tick_count: int = 5,
) -> LineChart:
    """Several named lines (each oldest first) on one time axis and one value axis, in
    ``LineChart.lines``. No band: each line may have its own range (systolic and diastolic
    pressure), and overlapping bands would say neither; the markers still say outside."""
    lines = [(name, points) for name, points in lines if points]
    if not lines:
        raise ValueError("a line chart needs at least one point")
    return _chart(lines, width=width, height=height, tz=tz, x_count=x_tick_count, y_count=y_tick_count)


def _chart(
    lines: Sequence[tuple[str, Sequence[Point]]], *, width: int, height: int, tz: dt.tzinfo, x_count: int, y_count: int
) -> LineChart:
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, height - MARGIN_BOTTOM
    several = len(lines) > 1 or bool(lines[0][0])
    every = [p for _, points in lines for p in points]

    start, end = min(p.at for p in every), max(p.at for p in every)
    if end <= start:
        start, end = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
    x = LinearScale((start.timestamp(), end.timestamp()), (left + INSET, right - INSET))

    values = [float(p.value) for p in every]
    if not several:
        values += [float(b) for p in every for b in (p.low, p.high) if b is not None]
    y_values = nice_ticks(min(values), max(values), y_count)
    y = LinearScale((y_values[0], y_values[-1]), (bottom, top))
    decimals = decimals_for(y_values[1] - y_values[0]) if len(y_values) > 1 else 0

    def plot(points: Sequence[Point]) -> tuple[list[float], list[Plotted], str]:
        xs = [x(p.at.timestamp()) for p in points]
        plotted = [
            Plotted(x=px, y=(py := y(p.value)), marker=p.marker, label=p.label, shape=marker_shape(px, py, p.marker))
            for p, px in zip(points, xs, strict=True)
        ]
        return xs, plotted, "".join(f"{'M' if i == 0 else 'L'}{_f(p.x)} {_f(p.y)}" for i, p in enumerate(plotted))

    drawn = []
    for index, (name, points) in enumerate(lines):
        _, plotted, path = plot(points)
        colour, dash = LINE_STYLES[index % len(LINE_STYLES)]
        drawn.append(PlottedLine(name=name, path=path, points=plotted, colour=colour, dash=dash))
    first_xs, first, first_path = plot(lines[0][1])
    return LineChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        x_ticks=[Tick(x(at.timestamp()), label) for at, label in time_ticks(start, end, tz=tz, count=x_count)],
        y_ticks=[Tick(y(v), number_label(v, decimals)) for v in y_values],
        points=[] if several else first,
        line="" if several else first_path,
        bands=[] if several else _bands(lines[0][1], first_xs, y, left, right),
        lines=drawn if several else [],
    )


# --- bar charts ----------------------------------------------------------------------------------
#
# Horizontal bars, one per category, each with its label on a line above it: Swedish labels are
# long ("Stöd att ändra levnadsvanor") and a label above the bar never has to be cut or guessed in
# width. The value is written at the end of each bar, so the chart reads without the axis; the
# table beside it carries the same numbers for screen readers and for copying.
#
# The SVG is written here (every text escaped) rather than in a template: a statistics page draws
# seven to nine charts, and the template engine spent more time on their elements than the
# database on some of the figures. Templates use it as {% bar_chart %} (core_charts).

# Sized to be drawn about 1:1 in half a page's width, so its 14-pixel text stays readable.
BAR_LABEL_HEIGHT, BAR_HEIGHT, BAR_GAP = 20, 20, 12
BAR_MARGIN_LEFT, BAR_MARGIN_RIGHT, BAR_MARGIN_TOP, BAR_MARGIN_BOTTOM = 20, 80, 30, 46


@dataclass(frozen=True)
class Bar:
    label: str
    value: Number | None  # None: nothing to draw (e.g. a median of no cases); the text says so
    text: str  # the value as written at the bar's end, in the active language's notation


@dataclass(frozen=True)
class PlacedBar:
    label: str
    text: str
    label_y: float
    y: float
    width: float  # 0 for a zero or missing value
    text_x: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bar_height: int
    bars: list[PlacedBar]
    x_ticks: list[Tick]
    target_x: float | None
    target_label: str


def bar_chart(
    bars: Sequence[Bar],
    *,
    width: int = 460,
    maximum: Number | None = None,
    target: Number | None = None,
    target_label: str = "",
    tick_count: int = 4,
) -> BarChart:
    """Bars from zero; the scale runs to a round value at or above the largest value, ``maximum``
    (e.g. 100 for shares) and ``target`` (drawn as a dashed line with ``target_label``)."""
    left, right = BAR_MARGIN_LEFT, width - BAR_MARGIN_RIGHT
    top = BAR_MARGIN_TOP
    step = BAR_LABEL_HEIGHT + BAR_HEIGHT + BAR_GAP
    bottom = top + step * max(len(bars), 1)
    height = int(bottom + BAR_MARGIN_BOTTOM)
    values = [float(b.value) for b in bars if b.value is not None]
    values += [float(v) for v in (maximum, target) if v is not None]
    highest = max(values, default=0.0)
    ticks = nice_ticks(0.0, highest if highest > 0 else 1.0, tick_count)
    if all(isinstance(b.value, int) for b in bars if b.value is not None) and ticks[1] % 1:
        # Counts: whole-number steps only (no "2,5 cases").
        step = math.ceil(ticks[1])
        ticks = [float(step * n) for n in range(math.ceil(ticks[-1] / step) + 1)]
    scale = LinearScale((0.0, ticks[-1]), (left, right))
    decimals = decimals_for(ticks[1] - ticks[0]) if len(ticks) > 1 else 0
    placed = []
    for index, bar in enumerate(bars):
        label_y = top + index * step + BAR_LABEL_HEIGHT - 5
        y = top + index * step + BAR_LABEL_HEIGHT
        length = max(scale(bar.value) - left, 0.0) if bar.value is not None else 0.0
        placed.append(PlacedBar(bar.label, bar.text, label_y, y, length, left + length + 6))
    return BarChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        bar_height=BAR_HEIGHT,
        bars=placed,
        x_ticks=[Tick(scale(v), number_label(v, decimals)) for v in ticks],
        target_x=scale(float(target)) if target is not None else None,
        target_label=target_label,
    )


INK, GRID, AXIS, BAR, TARGET = "#212b32", "#d8dde0", "#4c6272", "#0b5560", "#c0281b"


def render_bar_chart(
    chart: BarChart, *, chart_id: str, title: str, description: str, axis_label: str = "", caption: str = ""
) -> SafeString:
    """The chart as an accessible figure: an SVG image named by its title and described in words,
    colours as attributes (the same under the CSP and in print), no script. Every text is escaped;
    the coordinates are numbers formatted here."""
    e, cid = escape, escape(chart_id)
    parts = [
        f'<figure class="vk-chart vk-chart--bars" id="{cid}">'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {chart.width} {chart.height}" width="100%" role="img" '
        f'aria-labelledby="{cid}-title" aria-describedby="{cid}-desc" font-family="sans-serif" font-size="14">'
        f'<title id="{cid}-title">{e(title)}</title><desc id="{cid}-desc">{e(description)}</desc>'
        f'<rect x="0" y="0" width="{chart.width}" height="{chart.height}" fill="#ffffff"/>'
        f'<g stroke="{GRID}" stroke-width="1">'
    ]
    parts += [
        f'<line x1="{_f(t.position)}" x2="{_f(t.position)}" y1="{chart.top}" y2="{chart.bottom}"/>'
        for t in chart.x_ticks
    ]
    parts.append(f'</g><g fill="{INK}" text-anchor="middle">')
    parts += [f'<text x="{_f(t.position)}" y="{chart.bottom + 20}">{e(t.label)}</text>' for t in chart.x_ticks]
    parts.append("</g>")
    if axis_label:
        # Under the tick labels, at the right: clear of the ticks and of the target's label.
        parts.append(
            f'<text x="{chart.right}" y="{chart.bottom + 40}" text-anchor="end" fill="{INK}">{e(axis_label)}</text>'
        )
    for bar in chart.bars:
        parts.append(
            f'<text x="{chart.left}" y="{_f(bar.label_y)}" fill="{INK}">{e(bar.label)}</text>'
            f'<rect x="{chart.left}" y="{_f(bar.y)}" width="{_f(bar.width)}" height="{chart.bar_height}" fill="{BAR}"/>'
            f'<text x="{_f(bar.text_x)}" y="{_f(bar.y)}" dy="15" fill="{INK}" font-weight="bold">{e(bar.text)}</text>'
        )
    parts.append(f'<line x1="{chart.left}" x2="{chart.left}" y1="{chart.top}" y2="{chart.bottom}" stroke="{AXIS}"/>')
    if chart.target_x is not None:
        x = _f(chart.target_x)
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{chart.top - 6}" y2="{chart.bottom}" stroke="{TARGET}" stroke-width="2" '
            f'stroke-dasharray="6 4"/><text x="{x}" y="{chart.top - 10}" text-anchor="middle" fill="{TARGET}" '
            f'font-weight="bold">{e(chart.target_label)}</text>'
        )
    parts.append("</svg>")
    if caption:
        parts.append(f'<figcaption class="nhsuk-body-s">{e(caption)}</figcaption>')
    parts.append("</figure>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
