"""The error pages and the CSRF failure page: plain templates, nothing from the apps above."""

from __future__ import annotations

import sys

from django.db import InterfaceError, InternalError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from vardkontakt.core.degraded import REDIS_UNREACHABLE

# How long a browser (and a client library honouring Retry-After) waits before asking again while
# the database is unreachable: a PostgreSQL restart or a failover takes seconds, not minutes.
DATABASE_UNAVAILABLE_RETRY_AFTER = 5


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", status=403)


def _error(template: str, status: int):  # type: ignore[no-untyped-def]
    def view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        return render(request, template, status=status)

    return view


bad_request = _error("core/400.html", 400)
permission_denied = _error("core/403.html", 403)
page_not_found = _error("core/404.html", 404)


def database_unavailable(exception: BaseException | None) -> bool:
    """True for the database being unreachable or going away (restart, failover, a pooler with no
    server): the DB-API's OperationalError and InterfaceError ("connection already closed"), as
    Django wraps them, and the driver's own InternalError about the connection's protocol. The
    request can be repeated once the database is back, so it is a 503."""
    if isinstance(exception, (OperationalError, InterfaceError)):
        return True
    return isinstance(exception, InternalError) and _protocol_failure(exception.__cause__)


def _protocol_failure(cause: BaseException | None) -> bool:
    """psycopg's InternalError raised by the driver itself, not by the server (no SQLSTATE): what
    came back on the connection was not what the command expects ("received 2 results from
    command 'BEGIN'"). Seen behind PgBouncer while PostgreSQL restarts: the error PgBouncer sends
    when the server connection breaks reaches the client after its transaction, and is read
    together with the next one's BEGIN (tests/faults/test_nodes.py, 2026-12-07). Nothing of the
    request's transaction ran; the connection is checked before its next use (errors_occurred,
    CONN_HEALTH_CHECKS). An InternalError from the server (SQLSTATE class XX, 24, 25, 2B, 2D) is
    a bug and stays a 500."""
    import psycopg

    return isinstance(cause, psycopg.InternalError) and cause.sqlstate is None


def redis_unavailable(exception: BaseException | None) -> bool:
    """Redis (sessions, the cache, the video channel layer where VK_REDIS_URL is set) unreachable."""
    return isinstance(exception, REDIS_UNREACHABLE)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its exception handler, so the exception is the one in flight.
    exception = sys.exc_info()[1]
    if database_unavailable(exception):
        return service_unavailable(request)
    if redis_unavailable(exception):
        return service_unavailable(request, cause="sessions")
    # Without the request: the context processors read the session and the user, and the failure
    # being handled may be in exactly those.
    return HttpResponse(render_to_string("core/500.html"), status=500)


def service_unavailable(request: HttpRequest, cause: str = "database") -> HttpResponse:
    """503 with Retry-After while the database (or Redis, ``cause="sessions"``) is down: a plain
    page rendered without the request, so no context processor (the signed-in user, the inbox
    counts) touches the database or the session again."""
    body = render_to_string("core/503.html", {"retry_after": DATABASE_UNAVAILABLE_RETRY_AFTER, "cause": cause})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(DATABASE_UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response
