"""The person behind a WebSocket: the session of the page's cookie and its user, read when the
consumer first uses them in its own database call, not before the socket is routed.

Channels' AuthMiddlewareStack reads the session and the user in a database call of its own for
every socket, before the consumer runs (and its single-use ticket is spent in another one). Under
thousands of sockets each call is a turn in the same thread pool (and, without a connection pool,
a PostgreSQL connection of its own), so a connect paid for two. Here ``scope["user"]`` is lazy:
the consumer's first synchronous call that looks at it (``database_sync_to_async``) reads the
session and the user there, with the same checks as a page's request (``django.contrib.auth.
get_user``: the backend, the session's hash of the user, a session of another secret flushed).
Looked at first in the event loop, it fails loudly (Django's SynchronousOnlyOperation), never
silently anonymous.
"""

from __future__ import annotations

import time
from typing import Any

from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from vardkontakt.identity.middleware import session_ended


class _SessionOnly:
    """What ``django.contrib.auth.get_user`` reads of a request: its session."""

    def __init__(self, session: Any) -> None:
        self.session = session


def _user_of(session: Any) -> Any:
    """The session's user, or anonymous once the session has passed its idle or absolute limit,
    as a page's request would find it (identity.middleware): a socket opened with the cookie of an
    ended session is refused like a stranger's. (The socket does not renew the idle clock.)"""
    user = auth.get_user(_SessionOnly(session))  # type: ignore[arg-type]
    if user.is_authenticated and session_ended(session, int(time.time())):
        return AnonymousUser()
    return user


class LazyUserMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        if "user" not in scope:
            session = scope["session"]
            scope["user"] = SimpleLazyObject(lambda: _user_of(session))
        return await super().__call__(scope, receive, send)


def socket_auth(inner: Any) -> Any:
    """Cookies, the session and the (lazy) user in the socket's scope, as AuthMiddlewareStack."""
    return CookieMiddleware(SessionMiddleware(LazyUserMiddleware(inner)))
