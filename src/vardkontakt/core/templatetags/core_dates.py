"""Dates as Swedish writes them: a month's abbreviation in lower case ("6 dec"), not Django's "6 Dec"."""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.translation import get_language

register = template.Library()


@register.filter(expects_localtime=True)  # as |date: an aware datetime is shown in the current zone
def short_date(value: dt.date | dt.datetime | None, format_string: str) -> str:
    """``|date`` with the format's ``M`` (month, three letters, capitalised) written as ``b`` (lower
    case) in Swedish; English keeps "Dec"."""
    if (get_language() or "").startswith("sv"):
        format_string = format_string.replace("M", "b")
    return date_filter(value, format_string)


@register.filter
def years_old(born: dt.date | None) -> int | str:
    """Whole years from ``born`` to today in Stockholm (a patient's age in a list)."""
    if born is None:
        return ""
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
