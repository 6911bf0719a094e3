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

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from vardkontakt.identity.middleware import session_ended

logger = logging.getLogger(__name__)


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


# A socket lives no longer than the login it was opened with: a logout (by the person, or by the
# middleware once the session has passed its idle or absolute limit) closes every socket of that
# session, on whichever process holds it, through the channel layer. Another session of the same
# person (another browser) keeps its sockets. The close code is the application's own (4000–4999),
# so the page can say "you are logged out" rather than "the connection was lost".
LOGGED_OUT = 4401


def _session_group(session_key: str) -> str:
    # Not the key itself: group names are stored in the channel layer (Redis) as they are.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


class EndsWithItsSession:
    """For a consumer (AsyncWebsocketConsumer): ``follow_session`` as soon as the socket is
    accepted, before its session is read (a logout from then on reaches it; one before it leaves
    the session anonymous and the socket refused), ``unfollow_session`` at its disconnect; the
    socket is closed with LOGGED_OUT when its session is logged out."""

    # The consumer's own (declared, not defined: the consumer's methods stay first in the MRO).
    scope: dict[str, Any]
    channel_layer: Any
    channel_name: str
    close: Callable[..., Awaitable[None]]
    _followed_group: str | None = None

    async def follow_session(self) -> None:
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key and self.channel_layer is not None:
            self._followed_group = _session_group(session_key)
            await self.channel_layer.group_add(self._followed_group, self.channel_name)

    async def unfollow_session(self) -> None:
        if self._followed_group is not None and self.channel_layer is not None:
            await self.channel_layer.group_discard(self._followed_group, self.channel_name)
            self._followed_group = None

    async def session_logged_out(self, event: dict[str, Any]) -> None:
        await self.close(code=LOGGED_OUT)


def close_sockets_of_session(sender: Any, request: Any, user: Any, **_: object) -> None:
    """``user_logged_out``: before the session is flushed, so its key is still known. A channel
    layer that cannot be reached does not stop the logout; the sockets then end with their page."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    layer = get_channel_layer()
    if not session_key or layer is None:
        return
    try:
        async_to_sync(layer.group_send)(_session_group(session_key), {"type": "session.logged_out"})
    except Exception:
        logger.warning("logout: the session's sockets could not be told", exc_info=True)
