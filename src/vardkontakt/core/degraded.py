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
