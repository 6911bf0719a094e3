"""Test results over time: which analyses repeat, and one analysis's values for a chart.

Both work on the queryset ``publishing.published_items(LabResult, subject)`` gives the page after
the door is opened, so a chart shows exactly what the results list may show and nothing else.
A series is one analysis in one unit of measure: values measured in different units are not
drawn on one axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vardkontakt.core.charts import Marker, Point
from vardkontakt.records.models import LabResult, ResultFlag, ValueType, absent_label

# The newest values drawn; a longer history is cut here so the page stays light.
CHART_MAX_POINTS = 120
MAX_NAME_LENGTH = 200  # LabResult.analysis


# A report or panel shows its results nested this deep (report → panel → results → one more).
MEMBER_DEPTH = 4
# Values drawn as numbers on a chart (a range, a text or a missing value is not a point).
NUMERIC = [ValueType.QUANTITY, ValueType.INTEGER]


@dataclass(frozen=True)
class Series:
    analysis: str
    unit_of_measure: str
    results: list[LabResult]  # oldest first
    cut: bool  # older values exist that are not drawn
    components: tuple[str, ...] = ()  # the lines of a result in parts (blood pressure: two)

    @property
    def outside(self) -> int:
        if self.components:
            return sum(1 for r in self.results for part in parts_of(r) if part.outside)
        return sum(1 for r in self.results if marker_of(r) is not Marker.NORMAL)


# --- what a result shows: its value of any kind, its parts, the results it groups ---------------


@dataclass(frozen=True)
class Part:
    """One component of a result (systolic, diastolic), as shown."""

    analysis: str
    value: Decimal | None
    shown: str
    unit_of_measure: str
    reference_range: str
    marker: Marker

    @property
    def outside(self) -> bool:
        return self.marker is not Marker.NORMAL


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def value_shown(
    value_type: str, value: Decimal | None, value_high: Decimal | None, text: str, unit: str, absent: str
) -> str:
    """A value as the resident reads it, whatever its kind: "7,2 mmol/L", "Nej", "≤ 5 mg/L",
    "Värde saknas: hemolyserat prov"."""
    if value_type == ValueType.ABSENT:
        return _("Value missing: %(reason)s") % {"reason": absent_label(absent)}
    if value_type == ValueType.BOOLEAN:
        return _("Yes") if text == "true" else _("No")
    if value_type == ValueType.RANGE:
        if value is not None and value_high is not None:
            shown = f"{number(value)}–{number(value_high)}"
        else:
            shown = f"≥ {number(value)}" if value is not None else f"≤ {number(value_high)}"
        return f"{shown} {unit}".strip()
    if value is not None:
        return f"{number(value)} {unit}".strip()
    return text


def _marker(flag: str, value: Decimal | None, low: Decimal | None, high: Decimal | None) -> Marker:
    if flag == ResultFlag.HIGH:
        return Marker.HIGH
    if flag == ResultFlag.LOW:
        return Marker.LOW
    if flag == ResultFlag.NORMAL or value is None:
        return Marker.NORMAL
    if high is not None and value > high:
        return Marker.HIGH
    if low is not None and value < low:
        return Marker.LOW
    return Marker.NORMAL


def parts_of(result: LabResult) -> list[Part]:
    found = []
    for part in result.components or []:
        value, low, high = _decimal(part["value"]), _decimal(part["low"]), _decimal(part["high"])
        numeric = value if part["value_type"] in NUMERIC else None
        found.append(
            Part(
                analysis=part["analysis"],
                value=numeric,
                shown=value_shown(
                    part["value_type"],
                    value,
                    _decimal(part["value_high"]),
                    part["value_text"],
                    part["unit"],
                    part["absent_reason"],
                ),
                unit_of_measure=part["unit"],
                reference_range=_range_text(low, high),
                marker=_marker(part["flag"], numeric, low, high),
            )
        )
    return found


def prepare(shown: Iterable[LabResult]) -> None:
    """What the pages and the extract show of each result (and of the results it groups):
    ``shown`` (the value in words), ``range_shown``, ``parts`` (its components)."""
    for result in shown:
        result.shown = value_shown(  # type: ignore[attr-defined]
            result.value_type,
            result.value,
            result.value_high,
            result.value_text,
            result.unit_of_measure,
            result.absent_reason,
        )
        result.range_shown = reference_range(result)  # type: ignore[attr-defined]
        result.outside_label = outside_label(marker_of(result))  # type: ignore[attr-defined]
        result.parts = parts_of(result)  # type: ignore[attr-defined]
        prepare(getattr(result, "shown_members", []))


def outside_label(marker: Marker) -> str:
    """The lab's flag, or the value against the range when the lab gave none: what the page says."""
    if marker is Marker.HIGH:
        return str(ResultFlag.HIGH.label)
    if marker is Marker.LOW:
        return str(ResultFlag.LOW.label)
    return ""


def top_level(items: QuerySet[LabResult]) -> QuerySet[LabResult]:
    """The results not shown inside a report or panel that is itself shown (a result whose
    report the rules keep back stands on its own).

    Asked per row, and only of a row that sits in a report: with the list's order and its page's
    LIMIT, PostgreSQL stops after a page of rows. (``exclude(panel__in=items)`` hashed every shown
    result of the patient first: the results page of a 50,000-result record took twice the small
    record's time.)"""
    shown_report = items.filter(pk=OuterRef("panel_id"))
    return items.filter(Q(panel__isnull=True) | ~Exists(shown_report))


def with_members(shown: Iterable[LabResult]) -> list[LabResult]:
    """The shown results and, depth first, the results each groups (attach_members)."""
    found = []
    for result in shown:
        found.append(result)
        found += with_members(getattr(result, "shown_members", []))
    return found


def attach_members(items: QuerySet[LabResult], shown: Sequence[LabResult]) -> None:
    """Each shown report's and panel's results (``shown_members``, by name), from ``items`` (what
    the reader may see), MEMBER_DEPTH levels deep: one query per level, not per row."""
    level = list(shown)
    for _depth in range(MEMBER_DEPTH):
        for result in level:
            result.shown_members = []  # type: ignore[attr-defined]
        ids = [result.pk for result in level if result.value_type in (ValueType.PANEL, ValueType.TEXT)]
        if not ids:
            return
        children = list(items.filter(panel_id__in=ids).order_by("analysis", "-taken_at"))
        by_pk = {result.pk: result for result in level}
        for child in children:
            by_pk[child.panel_id].shown_members.append(child)  # type: ignore[attr-defined,index]
        level = children


def chart_url(analysis: str, unit_of_measure: str) -> str:
    # The unit goes along even when empty, so the chart is of the very values the row counted.
    return f"{reverse('records:result_chart')}?{urlencode({'analysis': analysis, 'unit': unit_of_measure})}"


def link_charts(items: QuerySet[LabResult], shown: Sequence[LabResult]) -> None:
    """Give each shown result whose analysis repeats (2+ numeric values in its unit) a ``chart_url``.

    One query over the page's own rows, each asking whether another value of its analysis
    exists: every check stops at its first match on the (patient, analysis) index, so the cost
    follows the page, not the length of the history.
    """
    numeric = [
        result.pk
        for result in shown
        if (result.value is not None and result.value_type in NUMERIC) or result.value_type == ValueType.COMPONENTS
    ]
    repeating: set[object] = set()
    if numeric:
        other_value = items.filter(
            Q(value__isnull=False, value_type__in=NUMERIC) | Q(value_type=ValueType.COMPONENTS),
            analysis=OuterRef("analysis"),
            unit_of_measure=OuterRef("unit_of_measure"),
            value_type=OuterRef("value_type"),
        ).exclude(pk=OuterRef("pk"))
        repeating = set(
            LabResult.objects.filter(pk__in=numeric)
            .annotate(repeats=Exists(other_value))
            .filter(repeats=True)
            .values_list("pk", flat=True)
        )
    for result in shown:
        repeats = result.pk in repeating
        result.chart_url = chart_url(result.analysis, result.unit_of_measure) if repeats else ""  # type: ignore[attr-defined]


def series(items: QuerySet[LabResult], *, analysis: str, unit_of_measure: str | None) -> Series | None:
    """The newest numeric values of ``analysis`` (in the given unit, or that of the newest value).

    None unless there are two or more: an unknown name, a text-only analysis or one that is not
    published to the reader all end here, and they look the same.
    """
    if not analysis or len(analysis) > MAX_NAME_LENGTH:
        return None
    numeric = items.filter(analysis=analysis, value__isnull=False, value_type__in=NUMERIC)
    if unit_of_measure is None:
        unit_of_measure = numeric.order_by("-taken_at").values_list("unit_of_measure", flat=True).first()
        if unit_of_measure is None:
            return _component_series(items, analysis)
    newest = list(numeric.filter(unit_of_measure=unit_of_measure).order_by("-taken_at")[: CHART_MAX_POINTS + 1])
    if len(newest) < 2:
        return _component_series(items, analysis) if unit_of_measure == "" else None
    drawn = newest[:CHART_MAX_POINTS]
    drawn.reverse()
    return Series(analysis=analysis, unit_of_measure=unit_of_measure, results=drawn, cut=len(newest) > CHART_MAX_POINTS)


def _component_series(items: QuerySet[LabResult], analysis: str) -> Series | None:
    """A result in parts (blood pressure) over time: a line per part with numbers, named by the
    newest result's parts, in their order."""
    newest = list(
        items.filter(analysis=analysis, value_type=ValueType.COMPONENTS).order_by("-taken_at")[: CHART_MAX_POINTS + 1]
    )
    if len(newest) < 2:
        return None
    names = tuple(part.analysis for part in parts_of(newest[0]) if part.value is not None)
    units = list(dict.fromkeys(part.unit_of_measure for part in parts_of(newest[0]) if part.value is not None))
    if not names:
        return None
    drawn = newest[:CHART_MAX_POINTS]
    drawn.reverse()
    return Series(
        analysis=analysis,
        unit_of_measure=", ".join(units),
        results=drawn,
        cut=len(newest) > CHART_MAX_POINTS,
        components=names,
    )


def lines(found: Series) -> list[tuple[str, list[Point]]]:
    """The chart of a result in parts: one line of points per part."""
    drawn: list[tuple[str, list[Point]]] = []
    for name in found.components:
        points = []
        for result in found.results:
            part = next((p for p in parts_of(result) if p.analysis == name and p.value is not None), None)
            if part is None:
                continue
            day = formats.date_format(timezone.localtime(result.taken_at), "Y-m-d")
            points.append(
                Point(
                    at=result.taken_at,
                    value=part.value,  # type: ignore[arg-type]
                    marker=part.marker,
                    label=f"{day}: {name} {part.shown}",
                )
            )
        drawn.append((name, points))
    return drawn


def marker_of(result: LabResult) -> Marker:
    """The lab's own flag when it gave one; otherwise the value against the reference range."""
    value = result.value if result.value_type in NUMERIC else None
    return _marker(result.flag, value, result.reference_low, result.reference_high)


def number(value: Decimal | None) -> str:
    """A stored decimal as people write it: 7.9000 → "7,9" in Swedish."""
    if value is None:
        return ""
    normal = value.normalize()
    if normal == normal.to_integral():
        normal = normal.quantize(Decimal(1))  # 1E+1 → 10
    return formats.number_format(normal)


def points(found: Series) -> list[Point]:
    unit = found.unit_of_measure
    return [
        Point(
            at=r.taken_at,
            value=r.value if r.value is not None else Decimal(0),
            low=r.reference_low,
            high=r.reference_high,
            marker=marker_of(r),
            label=f"{formats.date_format(timezone.localtime(r.taken_at), 'Y-m-d')}: {number(r.value)} {unit}".strip(),
        )
        for r in found.results
    ]


def reference_range(result: LabResult) -> str:
    return _range_text(result.reference_low, result.reference_high)


def _range_text(low: Decimal | None, high: Decimal | None) -> str:
    """ "4–6"; a range with one end only as "≤ 140" or "≥ 60" (a dash before a lone number reads as minus)."""
    if low is None and high is None:
        return ""
    if low is None:
        return f"≤ {number(high)}"
    if high is None:
        return f"≥ {number(low)}"
    return f"{number(low)}–{number(high)}"


def ranges_of(results: Iterable[LabResult]) -> list[str]:
    """The distinct reference ranges among the results, in order of first use."""
    return list(dict.fromkeys(r for r in (reference_range(result) for result in results) if r))


@dataclass(frozen=True)
class Row:
    taken: str
    value: str
    unit_of_measure: str
    reference_range: str
    flag: str
    outside: bool


def rows(found: Series) -> list[Row]:
    """The chart's numbers for the table beside it, in the chart's order."""
    table = []
    for result in found.results:
        marker = marker_of(result)
        if marker is Marker.HIGH:
            flag = str(ResultFlag.HIGH.label)
        elif marker is Marker.LOW:
            flag = str(ResultFlag.LOW.label)
        elif result.flag or reference_range(result):
            flag = str(ResultFlag.NORMAL.label)
        else:
            flag = "–"
        table.append(
            Row(
                taken=formats.date_format(timezone.localtime(result.taken_at), "Y-m-d H:i"),
                value=number(result.value),
                unit_of_measure=result.unit_of_measure,
                reference_range=reference_range(result) or "–",
                flag=flag,
                outside=marker is not Marker.NORMAL,
            )
        )
    return table


@dataclass(frozen=True)
class PartsRow:
    taken: str
    parts: list[Part | None]  # in the order of Series.components; None where a part is missing


def parts_rows(found: Series) -> list[PartsRow]:
    """The numbers of a chart of a result in parts, for the table beside it."""
    table = []
    for result in found.results:
        by_name = {part.analysis: part for part in parts_of(result)}
        table.append(
            PartsRow(
                taken=formats.date_format(timezone.localtime(result.taken_at), "Y-m-d H:i"),
                parts=[by_name.get(name) for name in found.components],
            )
        )
    return table


def describe(found: Series) -> str:
    """The chart in words, for its <desc>: span, count, the latest value and how many lie outside."""
    first, last = found.results[0], found.results[-1]
    values: dict[str, object] = {
        "count": len(found.results),
        "analysis": found.analysis,
        "first": formats.date_format(timezone.localtime(first.taken_at), "Y-m-d"),
        "last": formats.date_format(timezone.localtime(last.taken_at), "Y-m-d"),
        "value": f"{number(last.value)} {found.unit_of_measure}".strip(),
        "outside": found.outside,
    }
    if found.components:
        values["value"] = ", ".join(f"{part.analysis} {part.shown}" for part in parts_of(last))
    text = (
        ngettext(
            "%(count)d value of %(analysis)s from %(first)s to %(last)s.",
            "%(count)d values of %(analysis)s from %(first)s to %(last)s.",
            len(found.results),
        )
        % values
    )
    text += " " + _("The latest, on %(last)s, is %(value)s.") % values
    ranges = ranges_of(found.results)
    if found.components:
        ranges = [f"{part.analysis} {part.reference_range}" for part in parts_of(last) if part.reference_range]
    if ranges:
        text += " " + _("Reference range: %(range)s %(unit)s.") % {
            "range": ", ".join(ranges),
            "unit": found.unit_of_measure,
        }
    text += (
        " "
        + ngettext(
            "%(outside)d value is outside the reference range.",
            "%(outside)d values are outside the reference range.",
            found.outside,
        )
        % values
    )
    return text
