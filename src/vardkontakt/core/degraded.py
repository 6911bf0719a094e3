"""What the application does without Redis (docs/operations.md, "Redis down").

Sessions cannot be read: the pages that need one and logins answer 503 with Retry-After
(core.views.server_error). What the cache only speeds up (the footer's support hours, the public
response times) is computed instead: a public page does not depend on Redis.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Redis refused, went away or did not answer in time.
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def cached(key: str) -> Any:
    """The cached value, or None when it is missing or the cache cannot be reached."""
    try:
        return cache.get(key)
    except REDIS_UNREACHABLE:
        return None


def cache_quietly(key: str, value: Any, seconds: int) -> None:
    """Keep a value the caller can compute again; nothing happens when the cache is away."""
    with contextlib.suppress(*REDIS_UNREACHABLE):
        cache.set(key, value, seconds)


# WebSocket close code 1013, "Try Again Later" (RFC 6455's registry): the server cannot serve the
# socket now, the client may reconnect later. The video page's script shows it as such.
TRY_AGAIN_LATER = 1013


class ClosesSocketsWhileRedisIsDown:
    """ASGI middleware for the WebSockets (vardkontakt.asgi): when Redis (the video channel layer,
    the sessions) cannot be reached while a socket is opened or used, the socket is closed with
    1013 "Try Again Later" instead of the server's 1011 or a refused handshake, which the browser
    cannot tell from a network error."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        state = {"accepted": False, "closed": False}

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            await self.application(scope, receive, sending)
        except REDIS_UNREACHABLE:
            if scope.get("type") != "websocket" or state["closed"]:
                raise
            if not state["accepted"]:
                # Failed before the consumer ran (the session read by the auth middleware): the
                # handshake is still waiting; accept it to give the close its code.
                connect = await receive()
                if connect.get("type") != "websocket.connect":
                    return
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
