"""{% statistics_table table %}: a statistics table (statistics.tables.Table) as NHS.UK table markup,
cell for cell what its CSV file holds. Written in Python, like the charts, because a page of figures
has hundreds of cells and the template engine's cost per cell showed in the benchmark.

{% statistics_figure figure csv_url %}: one figure's section (heading, note, chart, table and the CSV
link) around them, for the same reason: as an included template it cost 0.6 ms of a statistics page."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from vardkontakt.core.charts import render_bar_chart
from vardkontakt.usage_statistics.tables import Figure, Table

register = template.Library()

HEADER, CELL = "nhsuk-table__header", "nhsuk-table__cell"


def _row(table: Table, row: list[str], total: bool) -> str:
    cells = []
    for index, text in enumerate(row):
        header = index == 0 and table.numeric_from > 0
        numeric = index >= table.numeric_from
        css = (HEADER if header else CELL) + (f" {CELL}--numeric" if numeric else "")
        content = f"<strong>{escape(text)}</strong>" if total else escape(text)
        cells.append(f'<th scope="row" class="{css}">{content}</th>' if header else f'<td class="{css}">{content}</td>')
    return f'<tr class="nhsuk-table__row">{"".join(cells)}</tr>'


@register.simple_tag
def statistics_table(table: Table) -> SafeString:
    """Every text escaped; the markup around it is constant."""
    head = "".join(
        f'<th scope="col" class="{HEADER}{f" {HEADER}--numeric" if i >= table.numeric_from else ""}">{escape(column)}</th>'
        for i, column in enumerate(table.columns)
    )
    last = len(table.rows) - 1
    body = "".join(_row(table, row, table.total_row and i == last) for i, row in enumerate(table.rows))
    if not table.rows:
        body = f'<tr class="nhsuk-table__row"><td class="{CELL}" colspan="{len(table.columns)}">{escape(_("Nothing to show."))}</td></tr>'
    key = escape(table.key)
    # A wide table scrolls sideways inside its own region (focusable, so keyboards can scroll it).
    return mark_safe(  # noqa: S308 (every text is escaped)
        f'<div class="vk-table-scroll" role="region" aria-labelledby="{key}-caption" tabindex="0">'
        f'<table class="nhsuk-table"><caption class="nhsuk-table__caption" id="{key}-caption">{escape(table.caption)}</caption>'
        f'<thead class="nhsuk-table__head"><tr class="nhsuk-table__row">{head}</tr></thead>'
        f'<tbody class="nhsuk-table__body">{body}</tbody></table></div>'
    )


@register.simple_tag
def statistics_figure(figure: Figure, csv_url: str) -> SafeString:
    """A heading, the chart and the table with the same numbers beside it (below it when the table is
    wide), and the table as CSV. Every text escaped; ``csv_url`` is the table's CSV with the period."""
    key, title = escape(figure.key), escape(figure.title)
    note = f'<p class="nhsuk-body-s">{escape(figure.note)}</p>' if figure.note else ""
    drawn: str
    if figure.chart.bars:
        drawn = render_bar_chart(
            figure.chart,
            chart_id=figure.chart_id,
            title=figure.title,
            description=figure.description,
            axis_label=figure.axis_label,
        )
    else:
        drawn = f"<p>{escape(_('Nothing to draw.'))}</p>"
    beside = "nhsuk-grid-column-full" if figure.wide else "nhsuk-grid-column-one-half"
    # The translation's own markup is kept; only the name put into it is escaped.
    download = _('Download the table as CSV<span class="nhsuk-u-visually-hidden">: %(name)s</span>') % {"name": title}
    return mark_safe(  # noqa: S308 (every text is escaped)
        f'\n<section class="nhsuk-u-margin-bottom-7" aria-labelledby="{key}-heading">\n'
        f'  <h2 id="{key}-heading">{title}</h2>\n'
        f"  {note}\n"
        '  <div class="nhsuk-grid-row">\n'
        '    <div class="nhsuk-grid-column-one-half">\n'
        f"      {drawn}\n"
        "    </div>\n"
        f'    <div class="{beside}">\n'
        f"      {statistics_table(figure.table)}\n"
        f'      <p class="nhsuk-body-s"><a href="{escape(csv_url)}" download>{download}</a></p>\n'
        "    </div>\n"
        "  </div>\n"
        "</section>\n"
    )
