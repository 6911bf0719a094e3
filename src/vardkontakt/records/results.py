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

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vardkontakt.core.charts import Marker, Point
from vardkontakt.records.models import LabResult, ResultFlag

# The newest values drawn; a longer history is cut here so the page stays light.
CHART_MAX_POINTS = 120
MAX_NAME_LENGTH = 200  # LabResult.analysis


@dataclass(frozen=True)
class Series:
    analysis: str
    unit_of_measure: str
    results: list[LabResult]  # oldest first
    cut: bool  # older values exist that are not drawn

    @property
    def outside(self) -> int:
        return sum(1 for r in self.results if marker_of(r) is not Marker.NORMAL)


def chart_url(analysis: str, unit_of_measure: str) -> str:
    # The unit goes along even when empty, so the chart is of the very values the row counted.
    return f"{reverse('records:result_chart')}?{urlencode({'analysis': analysis, 'unit': unit_of_measure})}"


def link_charts(items: QuerySet[LabResult], shown: Sequence[LabResult]) -> None:
    """Give each shown result whose analysis repeats (2+ numeric values in its unit) a ``chart_url``.

    One query over the page's own rows, each asking whether another value of its analysis
    exists: every check stops at its first match on the (patient, analysis) index, so the cost
    follows the page, not the length of the history.
    """
    numeric = [result.pk for result in shown if result.value is not None]
    repeating: set[object] = set()
    if numeric:
        other_value = items.filter(
            analysis=OuterRef("analysis"), unit_of_measure=OuterRef("unit_of_measure"), value__isnull=False
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
    numeric = items.filter(analysis=analysis, value__isnull=False)
    if unit_of_measure is None:
        unit_of_measure = numeric.order_by("-taken_at").values_list("unit_of_measure", flat=True).first()
        if unit_of_measure is None:
            return None
    newest = list(numeric.filter(unit_of_measure=unit_of_measure).order_by("-taken_at")[: CHART_MAX_POINTS + 1])
    if len(newest) < 2:
        return None
    drawn = newest[:CHART_MAX_POINTS]
    drawn.reverse()
    return Series(analysis=analysis, unit_of_measure=unit_of_measure, results=drawn, cut=len(newest) > CHART_MAX_POINTS)


def marker_of(result: LabResult) -> Marker:
    """The lab's own flag when it gave one; otherwise the value against the reference range."""
    if result.flag == ResultFlag.HIGH:
        return Marker.HIGH
    if result.flag == ResultFlag.LOW:
        return Marker.LOW
    if result.flag == ResultFlag.NORMAL or result.value is None:
        return Marker.NORMAL
    if result.reference_high is not None and result.value > result.reference_high:
        return Marker.HIGH
    if result.reference_low is not None and result.value < result.reference_low:
        return Marker.LOW
    return Marker.NORMAL


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
    if result.reference_low is None and result.reference_high is None:
        return ""
    return f"{number(result.reference_low)}–{number(result.reference_high)}"


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
