"""Figures as the pages show them: a chart and a table with the same numbers, and the table as CSV.

Every number is written once, here, as text in the active language's notation (Swedish: decimal
comma, no thousands separator), and both the HTML table and the CSV file print those same cells,
so the export matches the table exactly.

CSV format: UTF-8 with a byte-order mark (Excel then reads å, ä, ö right), semicolons between
fields and a decimal comma in every language — the convention Excel expects in Swedish locales,
where the comma is the decimal separator. Cells with no value hold "–", as in the table. A text
cell that would start a formula in a spreadsheet (=, +, -, @) is prefixed with an apostrophe: unit
names come from a public registration form.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from django.http import HttpResponse
from django.utils import formats
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.charts import Bar, BarChart, bar_chart

NONE = "–"


# --- numbers as text -----------------------------------------------------------------------------


def integer(value: int) -> str:
    return formats.number_format(value)


def hours(value: dt.timedelta | None) -> str:
    return NONE if value is None else formats.number_format(round(value.total_seconds() / 3600, 1), 1)


def hours_value(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def per_cent(share: Fraction | None) -> str:
    """One decimal, rounded down: a share just under a target never reads as reaching it."""
    return NONE if share is None else formats.number_format(_floor_per_cent(share), 1)


def per_cent_value(share: Fraction | None) -> float | None:
    return None if share is None else _floor_per_cent(share)


def _floor_per_cent(share: Fraction) -> float:
    return math.floor(share * 1000) / 10


def days(value: float | None) -> str:
    return NONE if value is None else formats.number_format(round(value, 1), 1)


# --- tables and figures --------------------------------------------------------------------------


@dataclass
class Table:
    key: str  # in the CSV's URL and file name
    caption: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    numeric_from: int = 1  # columns from this one on are numbers (right-aligned)
    total_row: bool = False  # the last row sums the others (shown in bold)


@dataclass
class Figure:
    title: str
    description: str  # the chart in words, for its <desc>
    chart: BarChart
    table: Table
    axis_label: str = ""
    note: str = ""
    wide: bool = False  # a table too wide to stand beside its chart: it goes below it

    @property
    def key(self) -> str:
        return self.table.key

    @property
    def chart_id(self) -> str:
        return f"{self.table.key}-chart"


def bars(pairs: Sequence[tuple[str, float | int | None, str]]) -> list[Bar]:
    return [Bar(label, value, text) for label, value, text in pairs]


def chart(
    pairs: Sequence[tuple[str, float | int | None, str]],
    *,
    maximum: float | None = None,
    target: float | None = None,
    target_label: str = "",
) -> BarChart:
    return bar_chart(bars(pairs), maximum=maximum, target=target, target_label=target_label)


# --- CSV -----------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(cell: str) -> str:
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_safe(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_safe(c) for c in row])
    return out.getvalue()


def csv_response(table: Table, *, name: str, first_day: dt.date, last_day: dt.date) -> HttpResponse:
    filename = f"{slugify(name) or 'statistik'}-{table.key}-{first_day.isoformat()}-{last_day.isoformat()}.csv"
    response = HttpResponse(("\ufeff" + csv_text(table)).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


# --- labels shared by the pages -------------------------------------------------------------------
# The staff's words for a case's status (CaseStatus's labels speak to the patient: "waiting for you").

STATUS_LABELS = {
    "received": _("Received, not started"),
    "in_progress": _("Being handled"),
    "answered": _("Answered"),
    "waiting_for_patient": _("Waiting for the patient"),
    "will_call": _("The unit will call"),
    "closed": _("Closed"),
    "withdrawn": _("Withdrawn by the patient"),
}
