"""Rows that change rarely, kept in each process and read again when any process changes them.

A ``SharedVersion`` keeps what its loader returned per key in this process, under a token stored
in the shared cache (Redis where VK_REDIS_URL is set, so every web node and worker sees it). A
change anywhere replaces the token (``forget``, called on the save and again at its commit, since
a read between the two would have kept the old row under the new token), and every process reads
the rows again on its next use. Each use costs one cache read instead of a database query.

Where the cache is each process's own memory (no Redis: one process, or the tests), a change is
seen at once in the process that made it; the tests clear the cache between tests, which gives a
new token and so forgets everything kept.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


def forget_at_commit(forget: Callable[[], object]) -> None:
    """Run a cache invalidation once more when the transaction commits. Marked as only forgetting
    (``only_forgets_cache``), so that the tests' demo snapshot (tests/demo_snapshot.py) knows that a
    copy of the build's rows misses no work the commit would have done."""

    def at_commit() -> None:
        forget()

    at_commit.only_forgets_cache = True  # type: ignore[attr-defined]
    transaction.on_commit(at_commit)


class SharedVersion(Generic[T]):
    def __init__(self, name: str) -> None:
        self.key = f"shared-version:{name}"
        self._kept: dict[Hashable, tuple[str, T]] = {}

    def _token(self) -> str | None:
        try:
            token = cache.get(self.key)
            if token is None:
                cache.add(self.key, uuid.uuid4().hex, timeout=None)
                token = cache.get(self.key)
        except Exception:  # the cache is down: read the database every time until it is back
            logger.warning("shared version %s: the cache cannot be read", self.key, exc_info=True)
            return None
        return str(token) if token is not None else None

    def get(self, key: Hashable, load: Callable[[], T | None]) -> T | None:
        """What ``load`` gives for ``key``, from this process if nothing changed since (None is
        never kept: a row that is missing is looked for again)."""
        token = self._token()  # read before loading: a change during the load leaves a newer token
        kept = self._kept.get(key)
        if token is not None and kept is not None and kept[0] == token:
            return kept[1]
        value = load()
        if token is not None and value is not None:
            self._kept[key] = (token, value)
        return value

    def forget(self, **_: object) -> None:
        """Every process reads again: now, and once more when the change commits."""
        self._replace_token()
        forget_at_commit(self._replace_token)

    def _replace_token(self) -> None:
        self._kept.clear()
        try:
            cache.set(self.key, uuid.uuid4().hex, timeout=None)
        except Exception:
            logger.warning("shared version %s: the cache cannot be written", self.key, exc_info=True)
