"""Text a unit or a region wrote, in the reader's language: its English wording when the reader reads
English and one was written, else the Swedish text marked ``lang="sv"`` so that a screen reader
pronounces it as Swedish (issue 16 item 25)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()


def reads_english() -> bool:
    return (get_language() or "sv").startswith("en")


def in_language(swedish: str, english: str = "") -> SafeString:
    if not reads_english():
        return mark_safe(conditional_escape(swedish))  # noqa: S308 - escaped on the line itself
    if english.strip():
        return mark_safe(conditional_escape(english))  # noqa: S308 - escaped on the line itself
    return format_html('<span lang="sv">{}</span>', swedish)


@register.filter
def translated(thing: Any, field: str) -> SafeString:
    """``{{ service|translated:"name" }}``: ``thing.name_en`` for English readers when it is
    written, else ``thing.name`` (marked Swedish where the page is English)."""
    return in_language(str(getattr(thing, field, "") or ""), str(getattr(thing, f"{field}_en", "") or ""))


@register.filter
def translated_lines(thing: Any, field: str) -> SafeString:
    """As ``translated``, with the text's line breaks kept (terms)."""
    swedish = str(getattr(thing, field, "") or "")
    english = str(getattr(thing, f"{field}_en", "") or "")
    text = english if reads_english() and english.strip() else swedish
    lines = mark_safe("<br>".join(conditional_escape(line) for line in text.splitlines()))  # noqa: S308
    if reads_english() and not english.strip():
        return format_html('<span lang="sv">{}</span>', lines)
    return lines


@register.filter
def translated_text(thing: Any, field: str) -> str:
    """As ``translated`` without the mark-up, for a page's <title> (which cannot hold a lang attribute)."""
    english = str(getattr(thing, f"{field}_en", "") or "")
    return english if reads_english() and english.strip() else str(getattr(thing, field, "") or "")
