"""{% bar_chart chart chart_id=… title=… description=… axis_label=… caption=… %}: a server-drawn SVG bar
chart (vardkontakt.core.charts). The page puts the same numbers in a table beside it."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from vardkontakt.core.charts import BarChart, render_bar_chart

register = template.Library()


@register.simple_tag
def bar_chart(
    chart: BarChart, *, chart_id: str, title: str, description: str, axis_label: str = "", caption: str = ""
) -> SafeString:
    return render_bar_chart(
        chart, chart_id=chart_id, title=title, description=description, axis_label=axis_label, caption=caption
    )
