"""The bar chart: geometry from zero, a target line, and nothing drawn for a missing value."""

from __future__ import annotations

from django.template import Context, Template

from vardkontakt.core.charts import Bar, bar_chart, render_bar_chart


def test_bars_start_at_zero_and_scale_to_a_round_maximum():
    chart = bar_chart([Bar("a", 10, "10"), Bar("b", 5, "5"), Bar("c", None, "–")], width=560)
    a, b, c = chart.bars
    assert a.width == 2 * b.width
    assert c.width == 0
    assert chart.x_ticks[0].label == "0"
    assert chart.right - chart.left >= a.width


def test_a_target_beyond_the_values_widens_the_scale():
    chart = bar_chart([Bar("week 1", 40, "40 %")], maximum=100, target=80, target_label="Mål 80 %")
    assert chart.target_x is not None
    assert chart.bars[0].width < chart.target_x - chart.left
    assert float(chart.x_ticks[-1].label.replace(",", ".")) == 100


def test_all_zero_is_still_a_chart():
    chart = bar_chart([Bar("a", 0, "0")])
    assert chart.bars[0].width == 0 and len(chart.x_ticks) >= 2


def test_the_svg_is_an_image_with_a_name_and_a_description():
    chart = bar_chart([Bar("Rådgivning", 3, "3")])
    html = render_bar_chart(chart, chart_id="c", title="Ärenden", description="Stapeldiagram")
    assert 'role="img"' in html and 'aria-labelledby="c-title" aria-describedby="c-desc"' in html
    assert '<title id="c-title">Ärenden</title>' in html and "Rådgivning" in html


def test_every_text_is_escaped():
    chart = bar_chart([Bar("<script>", 1, "1")], target=2, target_label="<b>")
    html = render_bar_chart(chart, chart_id="c", title="<i>", description="&")
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html


def test_the_template_tag_draws_the_same():
    chart = bar_chart([Bar("a", 1, "1")])
    rendered = Template("{% load core_charts %}{% bar_chart chart chart_id='x' title='T' description='D' %}").render(
        Context({"chart": chart})
    )
    assert rendered == render_bar_chart(chart, chart_id="x", title="T", description="D")
