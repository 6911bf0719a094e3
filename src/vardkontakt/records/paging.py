"""Paging without counting: fetch one row more than a page to know whether there is a next one.

The record pages only offer "previous" and "next", so the total (a COUNT over a record of
50,000 results on every view) is never needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass
class Page:
    object_list: list[Any]
    number: int
    has_next: bool

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def page_of(rows: QuerySet[Any], requested: str | None, size: int) -> Page:
    """Page ``requested`` (1 for anything that is not a page number; beyond the end: page 1)."""
    try:
        number = max(1, int(requested or 1))
    except ValueError:
        number = 1
    found = list(rows[(number - 1) * size : number * size + 1])
    if not found and number > 1:
        return page_of(rows, "1", size)
    return Page(object_list=found[:size], number=number, has_next=len(found) > size)
