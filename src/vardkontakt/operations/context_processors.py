from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest

from vardkontakt.operations.selectors import current_messages_for
from vardkontakt.operations.support import footer_support_hours


def operations(request: HttpRequest) -> dict[str, Any]:
    """The banner's messages, lazily: a template that never shows them (an htmx fragment, a
    download) costs no query, and base.html's one query is shared with the page (cached per request)."""
    return {
        "operational_messages": functools.partial(current_messages_for, request),
        "support_hours": footer_support_hours,
    }
