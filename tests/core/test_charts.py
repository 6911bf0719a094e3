"""The chart geometry: round ticks, a calendar axis in Stockholm (DST nights too), points and bands."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from vardkontakt.core import charts
from vardkontakt.core.charts import STOCKHOLM, Marker, Point


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (4.0, 7.2, [4.0, 5.0, 6.0, 7.0, 8.0]),
        (0, 100, [0, 20, 40, 60, 80, 100]),
        (117, 153, [110, 120, 130, 140, 150, 160]),
        (0.3, 4.2, [0, 1, 2, 3, 4, 5]),
    ],
)
def test_ticks_are_round_and_cover_the_values(low, high, expected):
    assert charts.nice_ticks(low, high) == expected


def test_a_single_value_gets_a_range_around_it():
    ticks = charts.nice_ticks(5, 5)
    assert ticks[0] < 5 < ticks[-1]


@pytest.mark.parametrize(("step", "decimals"), [(1, 0), (20, 0), (0.5, 1), (0.2, 1), (2.5, 1), (0.25, 2), (0.05, 2)])
def test_tick_labels_have_the_decimals_they_need(step, decimals):
    assert charts.decimals_for(step) == decimals


def test_labels_use_the_languages_decimal_mark():
    with translation.override("sv"):
        assert charts.number_label(2.5, 1) == "2,5"
    with translation.override("en"):
        assert charts.number_label(2.5, 1) == "2.5"


def test_day_ticks_fall_on_stockholm_midnights_across_the_spring_dst_night():
    start = dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC)
    end = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
    ticks = charts.date_ticks(start, end)
    local = [t.astimezone(STOCKHOLM) for t in ticks]
    assert [t.day for t in local] == [28, 29, 30, 31]
    assert all((t.hour, t.minute) == (0, 0) for t in local)
    assert [t.utcoffset() for t in local][1:3] == [dt.timedelta(hours=1), dt.timedelta(hours=2)]
    # The night the clocks go forward is 23 hours long, and the axis shows it.
    chart = charts.line_chart([Point(at=start, value=1), Point(at=end, value=2)], x_tick_count=6)
    gaps = [b.position - a.position for a, b in zip(chart.x_ticks, chart.x_ticks[1:], strict=False)]
    assert gaps[1] == pytest.approx(gaps[0] * 23 / 24)


def test_longer_spans_tick_on_months_then_years_labelled_in_the_language():
    start = dt.datetime(2025, 1, 15, tzinfo=dt.UTC)
    with translation.override("sv"):
        months = charts.time_ticks(start, start + dt.timedelta(days=300))
        years = charts.time_ticks(start, start + dt.timedelta(days=3000))
    assert [label for _, label in months][:2] == ["mars 2025", "maj 2025"]
    assert all(label.isdigit() for _, label in years)
    assert len(years) <= 6


def test_points_map_to_svg_coordinates_with_higher_values_higher_up():
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    points = [
        Point(at=t0, value=Decimal("5.0"), low=4, high=6),
        Point(at=t0 + dt.timedelta(days=10), value=Decimal("7.5"), low=4, high=6, marker=Marker.HIGH),
        Point(at=t0 + dt.timedelta(days=20), value=Decimal("3.0"), low=4, high=6, marker=Marker.LOW),
    ]
    chart = charts.line_chart(points, width=600, height=300)
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs) and chart.left < xs[0] and xs[-1] < chart.right
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])  # time is linear
    assert chart.points[1].y < chart.points[0].y < chart.points[2].y
    assert chart.top <= min(p.y for p in chart.points) and max(p.y for p in chart.points) <= chart.bottom
    assert chart.line.startswith("M") and chart.line.count("L") == 2
    # One band for the unchanged range, drawn between the values 4 and 6.
    [band] = chart.bands
    y_of = {tick.label: tick.position for tick in chart.y_ticks}
    assert (band.y, band.y + band.height) == (pytest.approx(y_of["6"]), pytest.approx(y_of["4"]))
    assert chart.has_outside and chart.markers == {"normal", "high", "low"}


def test_a_changed_reference_range_steps_the_band_and_a_missing_one_leaves_a_gap():
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    points = [
        Point(at=t0, value=5, low=4, high=6),
        Point(at=t0 + dt.timedelta(days=10), value=5, low=4, high=6),
        Point(at=t0 + dt.timedelta(days=20), value=5, low=3.5, high=6.5),
        Point(at=t0 + dt.timedelta(days=30), value=5),
    ]
    chart = charts.line_chart(points)
    assert len(chart.bands) == 2
    first, second = chart.bands
    assert first.x == chart.left and first.x + first.width == pytest.approx(second.x)
    assert second.height > first.height
    assert second.x + second.width < chart.points[3].x  # no band where the lab gave none


def test_a_chart_needs_a_point():
    with pytest.raises(ValueError):
        charts.line_chart([])
