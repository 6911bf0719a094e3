"""Rate limits with lockout and back-off, kept in Django's cache (Redis where VK_REDIS_URL is set,
so every web process shares them; the per-process memory cache otherwise).

A limit counts attempts of one kind by one key (a client id, an address) in a fixed window. When the
count reaches the limit the key is locked out; each further lockout within a day lasts twice as long
as the one before, up to the limit's ceiling. A lockout holds even for a right answer: guessing a
secret and then sending the right one does not get in.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

_STRIKES_MEMORY = 24 * 3600


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int  # allowed in the window; the one that reaches it locks the key
    window: int  # seconds
    lockout: int  # seconds of the first lockout
    max_lockout: int  # seconds, the ceiling of the back-off

    @classmethod
    def named(cls, name: str) -> Limit:
        attempts, window, lockout, max_lockout = settings.RATE_LIMITS[name]
        return cls(name, attempts, window, lockout, max_lockout)


def _key(limit: Limit, part: str, ident: str) -> str:
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
    return f"vk-rl:{limit.name}:{part}:{digest}"


def retry_after(limit: Limit, ident: str) -> int:
    """Seconds until the key may try again; 0 when it is not locked out."""
    until = cache.get(_key(limit, "lock", ident))
    if until is None:
        return 0
    return max(0, math.ceil(float(until) - time.time()))


def register(limit: Limit, ident: str) -> int:
    """Count one attempt (or one failure). Returns the lockout in seconds it started, else 0."""
    count_key = _key(limit, "count", ident)
    cache.add(count_key, 0, timeout=limit.window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=limit.window)
        count = 1
    if count < limit.attempts:
        return 0
    strikes_key = _key(limit, "strikes", ident)
    strikes = int(cache.get(strikes_key) or 0)
    seconds = min(limit.max_lockout, limit.lockout * 2**strikes)
    cache.set(strikes_key, strikes + 1, timeout=_STRIKES_MEMORY)
    cache.set(_key(limit, "lock", ident), time.time() + seconds, timeout=seconds)
    cache.delete(count_key)
    return seconds


def reset(limit: Limit, ident: str) -> None:
    """After a success: the failures so far are forgiven (a lockout in force is not)."""
    cache.delete(_key(limit, "count", ident))


def client_address(request: HttpRequest) -> str:
    """The client's address: behind the TLS proxy (VK_BEHIND_TLS_PROXY) the last address the proxy
    appended to X-Forwarded-For; otherwise the connection's."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return str(request.META.get("REMOTE_ADDR", ""))
