"""Sessions in the shared cache (Redis, ``VK_REDIS_URL``): no database statement per request.

Every web node reads and writes the same Redis, so a logout (``flush``: the key deleted) ends the
session on all of them at once, as a deleted database row did. The idle and absolute limits are
judged by identity.middleware on every request, as with database sessions; here they also set
the key's lifetime, so a session nobody uses disappears from Redis by itself a little after its
idle limit (the grace lets a person who comes back shortly after be told why they were logged
out) instead of lingering for the 12 hours of the cookie.

Without Redis (the demo, SQLite, a single process) settings keep the database store.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from vardkontakt.core.degraded import REDIS_UNREACHABLE
from vardkontakt.identity.middleware import AUTH_AT, SEEN_AT

# How long an ended session's key outlives its limit: the next request still finds it and is told
# "you were logged out because the session ended" rather than just being anonymous.
GRACE_SECONDS = 15 * 60


class SessionStore(CacheSessionStore):
    def load(self) -> dict[str, Any]:
        """Django's cache store takes any error of the cache for "no session" and starts an empty
        one: with Redis down every resident would silently become a visitor (and a login would then
        fail on the write). A Redis that cannot be reached is raised instead, and the error handler
        answers 503 with Retry-After (core.views.server_error; docs/operations.md, "Redis down")."""
        try:
            data = self._cache.get(self.cache_key)  # type: ignore[attr-defined]
        except REDIS_UNREACHABLE:
            raise
        except Exception:
            data = None
        if data is not None:
            return dict(data)
        self._session_key = None
        return {}

    def lifetime(self, data: dict[str, Any]) -> int:
        """Seconds the stored session may live: to its idle or absolute limit (whichever comes
        first) plus the grace, for a logged-in session; Django's expiry otherwise (a login not yet
        completed: minutes)."""
        seen_at, auth_at = data.get(SEEN_AT), data.get(AUTH_AT)
        if seen_at is None or auth_at is None:
            return self.get_expiry_age()
        ends_at = min(
            int(seen_at) + settings.SESSION_IDLE_TIMEOUT_MINUTES * 60,
            int(auth_at) + settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600,
        )
        return max(60, ends_at + GRACE_SECONDS - int(time.time()))

    def save(self, must_create: bool = False) -> None:
        # Django's cache store, with the lifetime above instead of the cookie's age. (_cache and
        # _get_session are Django's own, missing from django-stubs.)
        if self.session_key is None:
            return self.create()
        cache = self._cache  # type: ignore[attr-defined]
        if must_create:
            store = cache.add
        elif cache.get(self.cache_key) is not None:
            store = cache.set
        else:
            raise UpdateError
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        if not store(self.cache_key, data, self.lifetime(data)) and must_create:
            raise CreateError
        return None
