"""A waiting room for rushes (vaccination-booking days): past a number of bookings in progress in
this process, a request waits a moment for its turn and otherwise is answered at once with 503
and Retry-After, never left hanging and never an error page.

The limit keeps the database's connections and locks for the requests that can finish; a
person told "many are booking right now, try again in a few seconds" loses nothing, since a
booking is only made by the request that gets its turn.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

_lock = threading.Lock()
_turns: threading.BoundedSemaphore | None = None


def _semaphore() -> threading.BoundedSemaphore:
    global _turns
    with _lock:
        if _turns is None:
            _turns = threading.BoundedSemaphore(settings.WAITING_ROOM_CONCURRENCY)
        return _turns


def waiting_room(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Limit the POSTs of ``view`` that run at once in this process; GETs pass freely."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        turns = _semaphore()
        if not turns.acquire(timeout=settings.WAITING_ROOM_WAIT_SECONDS):
            response = render(request, "core/waiting_room.html", {"retry_after": settings.WAITING_ROOM_RETRY_AFTER_SECONDS}, status=503)  # fmt: skip
            response["Retry-After"] = str(settings.WAITING_ROOM_RETRY_AFTER_SECONDS)
            return response
        try:
            return view(request, *args, **kwargs)
        finally:
            turns.release()

    return wrapper
