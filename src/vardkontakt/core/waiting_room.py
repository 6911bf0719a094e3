"""A waiting room for rushes (vaccination-booking days): past a number of requests in progress in
this process, a few wait a moment for their turn and the rest are answered at once with 503 and
Retry-After, never left hanging and never an error page.

The limit keeps the CPU, the database's connections and its locks for the requests that can
finish; a person told "many are booking right now, try again in a few seconds" loses nothing,
since a booking is only made by the request that gets its turn.

Two ways in, one room per process:

- ``@waiting_room`` on a view (the booking POSTs). Under any WSGI server this works alone, but a
  request turned away has first been through every middleware (the session and the user are read
  from the database), which in a rush costs nearly as much as the booking it protects.
- ``WaitingRoomGate``, a WSGI middleware (installed by ``deploy/gunicorn.conf.py``), takes the
  turn *before* Django's middleware: a request to a waiting-room view that gets no turn is
  answered with a small static page without a single query, so the server keeps up with a flood
  (bench/booking_rush.py: ten times what it sustains). With ``WAITING_ROOM_PAGE_QUEUE`` above 0
  the gate also gives the views' GETs (the confirmation page) turns, after the bookings: a turn
  that frees goes to a waiting booking first, so work in progress is finished before new work is
  started, and in a rush people wait at the confirmation page rather than at "Boka". The view's
  decorator sees that the gate holds the turn and does not take a second one.

Waiting is bounded twice: at most ``WAITING_ROOM_QUEUE`` bookings (and ``WAITING_ROOM_PAGE_QUEUE``
pages) wait, in arrival order, for at most ``WAITING_ROOM_WAIT_SECONDS``, so waiting requests
never occupy every server thread. The Retry-After varies around
``WAITING_ROOM_RETRY_AFTER_SECONDS`` (±40 %), so the people turned away together do not all come
back in the same second.
"""

from __future__ import annotations

import functools
import math
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext

# The WSGI environ key by which the gate tells the decorator that this request holds a turn.
TURN_HELD = "vardkontakt.waiting_room.turn"
ATTRIBUTE = "waiting_room"


BOOKING, PAGE = "booking", "page"


class Room:
    """``concurrency`` turns per process. A request without one queues for it: bookings (POSTs)
    before confirmation pages (GETs), each in arrival order; a freed turn is handed straight to
    the next in line, so nobody arriving later overtakes. Each queue holds at most its limit;
    past that, or past the wait, the answer is no."""

    def __init__(self, concurrency: int, limits: dict[str, int]) -> None:
        self.concurrency = concurrency
        self.limits = limits
        self.active = 0
        self._queues: dict[str, deque[threading.Lock]] = {BOOKING: deque(), PAGE: deque()}
        self._lock = threading.Lock()

    def enter(self, kind: str, wait_seconds: float) -> bool:
        with self._lock:
            if self.active < self.concurrency and not any(self._queues.values()):
                self.active += 1
                return True
            queue = self._queues[kind]
            if len(queue) >= self.limits[kind] or wait_seconds <= 0:
                return False
            ticket = threading.Lock()
            ticket.acquire()
            queue.append(ticket)
        if ticket.acquire(timeout=wait_seconds):
            return True  # handed a turn by leave()
        with self._lock:
            try:
                queue.remove(ticket)
            except ValueError:
                return True  # handed over just as the wait ran out: the turn is ours
            return False

    def leave(self) -> None:
        with self._lock:
            for kind in (BOOKING, PAGE):
                if self._queues[kind]:
                    self._queues[kind].popleft().release()  # the turn passes on; active stays
                    return
            self.active -= 1


_lock = threading.Lock()
_room: Room | None = None


def room() -> Room:
    global _room
    with _lock:
        if _room is None:
            limits = {BOOKING: settings.WAITING_ROOM_QUEUE, PAGE: settings.WAITING_ROOM_PAGE_QUEUE}
            _room = Room(settings.WAITING_ROOM_CONCURRENCY, limits)
        return _room


def retry_after_seconds() -> int:
    mean = settings.WAITING_ROOM_RETRY_AFTER_SECONDS
    return random.randint(max(1, math.ceil(mean * 0.6)), max(1, math.floor(mean * 1.4)))  # noqa: S311


def waiting_room(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Limit the POSTs of ``view`` that run at once in this process; GETs pass freely."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST" or request.META.get(TURN_HELD):
            return view(request, *args, **kwargs)
        turns = room()
        if not turns.enter(BOOKING, settings.WAITING_ROOM_WAIT_SECONDS):
            seconds = retry_after_seconds()
            response = render(request, "core/waiting_room.html", {"retry_after": seconds}, status=503)
            response["Retry-After"] = str(seconds)
            return response
        try:
            return view(request, *args, **kwargs)
        finally:
            turns.leave()

    setattr(wrapper, ATTRIBUTE, True)  # copied outwards by the decorators' functools.wraps
    return wrapper


# --- the gate in front of Django -----------------------------------------------------------------

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _guarded(path: str) -> bool:
    """Whether ``path`` leads to a waiting-room view; anything odd is left to Django to answer."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    except Exception:  # a path Django itself will refuse (encoding, length): not the room's business
        return False
    return bool(getattr(match.func, ATTRIBUTE, False))


def _language(environ: dict[str, Any]) -> str:
    cookie = f"{settings.LANGUAGE_COOKIE_NAME}="
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        part = part.strip()
        if part.startswith(cookie) and part[len(cookie) :] in dict(settings.LANGUAGES):
            return part[len(cookie) :]
    return settings.LANGUAGE_CODE


@functools.lru_cache(maxsize=64)
def _page(language: str, seconds: int) -> bytes:
    """The waiting room's message as a page of its own: nothing personal, no form, no query."""
    with translation.override(language):
        title = gettext("Many people are booking right now")
        text = ngettext(
            "Nothing has been booked yet. Please go back and try again in %(seconds)s second.",
            "Nothing has been booked yet. Please go back and try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}
    service = settings.SERVICE_NAME_RESIDENTS
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)} – {escape(service)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">\n'
        f'<link rel="stylesheet" href="{escape(static("vardkontakt/build/main.css"))}">\n</head>\n<body>\n'
        '<div class="nhsuk-width-container"><main class="nhsuk-main-wrapper" id="maincontent">\n'
        '<div class="nhsuk-grid-row"><div class="nhsuk-grid-column-two-thirds">\n'
        f"<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>\n"
        "</div></div>\n</main></div>\n</body>\n</html>\n"
    ).encode()


@functools.lru_cache(maxsize=1)
def _security_headers() -> list[tuple[str, str]]:
    """What the middleware would have added to a page: the same policy for the gate's page."""
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    policy = "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
    headers = [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", settings.X_FRAME_OPTIONS),
        ("Referrer-Policy", settings.SECURE_REFERRER_POLICY),
        ("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY),
        ("Cache-Control", "no-store"),
    ]
    if settings.SECURE_HSTS_SECONDS:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        headers.append(
            (
                "Strict-Transport-Security",
                value + ("; includeSubDomains" if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS else ""),
            )
        )
    return headers


class WaitingRoomGate:
    """WSGI middleware: the waiting room's turn for a booking POST, taken before Django runs."""

    def __init__(self, application: WsgiApp) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        kind = BOOKING if method == "POST" else PAGE if method in ("GET", "HEAD") else None
        if kind is None or (kind == PAGE and not settings.WAITING_ROOM_PAGE_QUEUE) or environ.get(TURN_HELD):
            return self.application(environ, start_response)
        if not _guarded(environ.get("PATH_INFO", "")):
            return self.application(environ, start_response)
        turns = room()
        if not turns.enter(kind, settings.WAITING_ROOM_WAIT_SECONDS):
            return self.turned_away(environ, start_response)
        environ[TURN_HELD] = True
        try:
            # Django's answer is complete when the application returns (no streaming views here).
            return self.application(environ, start_response)
        finally:
            turns.leave()

    def turned_away(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        language = _language(environ)
        seconds = retry_after_seconds()
        body = _page(language, seconds)
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Content-Language", language),
            ("Retry-After", str(seconds)),
            ("X-Request-ID", uuid.uuid4().hex),
            *_security_headers(),
        ]
        start_response("503 Service Unavailable", headers)
        return [body]
