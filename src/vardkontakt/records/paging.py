"""Paging the record's lists by key ("older than this entry"), never by OFFSET or a count.

A page is the ``size`` rows that follow (or precede) one entry in the list's order, found by a
condition on the order's columns, so page 1,500 of a long history costs what page 1 costs: the
index is entered at that entry instead of being walked from the top (OFFSET read and threw away
37,500 rows for results page 1500). The order is the model's own (``Meta.ordering``) with the
primary key added, so entries with the same date keep one stable order and no entry is shown
twice or skipped between pages.

The links carry that entry's key (``?before=2019-03-04_…`` for older, ``?after=…`` for newer),
so a page is bookmarkable and still shows the same entries' neighbours after new entries
arrive. A key that no longer fits (past the end, mistyped, an entry since removed with
nothing beyond it) shows the first page, never an error. Fetching one row more than a page
tells whether there is a next one, so the total (a COUNT over 50,000 results) is never needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import DateField, DateTimeField, Field, Model, Q, QuerySet
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

OLDER, NEWER = "before", "after"
# The key's parts are joined by this; only the first part (a medicine's name) may contain it, and
# the key is split from the right.
SEPARATOR = "_"


@dataclass(frozen=True)
class Column:
    name: str
    descending: bool


@dataclass
class Page:
    """One page of a list, with the query strings of the pages before and after it."""

    object_list: list[Any]
    has_next: bool
    has_previous: bool
    next_query: str = ""
    previous_query: str = ""
    # "Newer"/"Older" for lists newest first, "Previous"/"Next" otherwise (medicines by name).
    previous_label: Promise | str = ""
    next_label: Promise | str = ""

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def order_of(rows: QuerySet[Any]) -> list[Column]:
    """The list's order (the query's, else the model's) ending with the primary key as tie-breaker."""
    model: type[Model] = rows.model
    names = [str(name) for name in (rows.query.order_by or model._meta.ordering or ())]
    columns = [Column(name.lstrip("-"), name.startswith("-")) for name in names]
    pk_name = model._meta.pk.name if model._meta.pk is not None else "pk"
    if not any(column.name in ("pk", pk_name) for column in columns):
        columns.append(Column(pk_name, columns[0].descending if columns else False))
    return columns


def key_of(row: Model, columns: Sequence[Column]) -> str:
    """The entry's key as it stands in a link."""
    return SEPARATOR.join(_text(getattr(row, "pk" if column.name == "pk" else column.name)) for column in columns)


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        # UTC with microseconds, so equal instants give equal keys whatever the zone shown.
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _parse(model: type[Model], columns: Sequence[Column], key: str) -> list[Any] | None:
    parts = key.rsplit(SEPARATOR, len(columns) - 1)
    if len(parts) != len(columns):
        return None
    values = []
    for column, part in zip(columns, parts, strict=True):
        field: Field[Any, Any] = model._meta.pk if column.name == "pk" else model._meta.get_field(column.name)  # type: ignore[assignment]
        try:
            value = field.to_python(part)
        except (ValidationError, ValueError, TypeError):
            return None
        if value is None or (
            isinstance(field, DateTimeField) and isinstance(value, dt.datetime) and value.tzinfo is None
        ):
            return None
        values.append(value)
    return values


def _beyond(columns: Sequence[Column], values: Sequence[Any], *, forward: bool) -> Q:
    """Rows strictly after the key in the list's order (``forward``) or strictly before it.

    Written as (a < x) or (a = x and b < y) or …, and with the first column's bound repeated on
    its own (a <= x), which is the condition an index on (patient, a) is entered by."""

    def op(column: Column, *, inclusive: bool = False) -> str:
        smaller = column.descending == forward
        return ("lte" if inclusive else "lt") if smaller else ("gte" if inclusive else "gt")

    either = Q()
    for index, column in enumerate(columns):
        step = Q(**{f"{earlier.name}": value for earlier, value in zip(columns[:index], values[:index], strict=True)})
        step &= Q(**{f"{column.name}__{op(column)}": values[index]})
        either = step if index == 0 else either | step
    first = columns[0]
    return Q(**{f"{first.name}__{op(first, inclusive=True)}": values[0]}) & either


def _labels(model: type[Model], columns: Sequence[Column]) -> tuple[Promise, Promise]:
    first = columns[0]
    field = model._meta.pk if first.name == "pk" else model._meta.get_field(first.name)
    if first.descending and isinstance(field, DateField):
        return gettext_lazy("Newer"), gettext_lazy("Older")
    return gettext_lazy("Previous"), gettext_lazy("Next")


def keyset_page(rows: QuerySet[Any], params: Mapping[str, Any], size: int) -> Page:
    """The page of ``rows`` that ``params`` asks for (``before`` or ``after`` an entry's key; the
    first page otherwise), with links that keep the other parameters (a filter) as they are."""
    columns = order_of(rows)
    model = rows.model
    ordered = rows.order_by(*[("-" if c.descending else "") + c.name for c in columns])
    kept = {name: value for name, value in params.items() if name not in (OLDER, NEWER, "page") and value != ""}
    previous_label, next_label = _labels(model, columns)

    def page(found: list[Any], *, has_next: bool, has_previous: bool) -> Page:
        return Page(
            object_list=found,
            has_next=has_next and bool(found),
            has_previous=has_previous and bool(found),
            next_query=urlencode({**kept, OLDER: key_of(found[-1], columns)}) if found else "",
            previous_query=urlencode({**kept, NEWER: key_of(found[0], columns)}) if found else "",
            previous_label=previous_label,
            next_label=next_label,
        )

    def first() -> Page:
        found = list(ordered[: size + 1])
        return page(found[:size], has_next=len(found) > size, has_previous=False)

    direction = OLDER if params.get(OLDER) else NEWER if params.get(NEWER) else ""
    values = _parse(model, columns, str(params[direction])) if direction else None
    if values is None:
        return first()
    if direction == OLDER:
        found = list(ordered.filter(_beyond(columns, values, forward=True))[: size + 1])
        if not found:
            return first()
        # There is an entry before these: the one whose key the link carried (or its place).
        return page(found[:size], has_next=len(found) > size, has_previous=True)
    backwards = ordered.reverse().filter(_beyond(columns, values, forward=False))
    found = list(backwards[: size + 1])
    if not found:
        return first()
    shown = list(reversed(found[:size]))
    return page(shown, has_next=True, has_previous=len(found) > size)
