"""Dates as Swedish writes them: a month's abbreviation in lower case ("6 dec"), not Django's "6 Dec"."""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.translation import get_language

register = template.Library()


@register.filter
def short_date(value: dt.date | dt.datetime | None, format_string: str) -> str:
    """``|date`` with the format's ``M`` (month, three letters, capitalised) written as ``b`` (lower
    case) in Swedish; English keeps "Dec"."""
    if (get_language() or "").startswith("sv"):
        format_string = format_string.replace("M", "b")
    return date_filter(value, format_string)
