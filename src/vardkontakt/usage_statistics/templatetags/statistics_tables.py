"""{% statistics_table table %}: a statistics table (statistics.tables.Table) as NHS.UK table markup,
cell for cell what its CSV file holds. Written in Python, like the charts, because a page of figures
has hundreds of cells and the template engine's cost per cell showed in the benchmark."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from vardkontakt.usage_statistics.tables import Table

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
