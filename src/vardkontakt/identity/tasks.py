"""Housekeeping of sessions, run on the worker heartbeat (settings.PERIODIC_JOBS)."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.sessions.models import Session
from django.utils import timezone

logger = logging.getLogger(__name__)

# Short DELETEs (short locks) and a bounded run, as with login records: a backlog goes over the
# next heartbeats.
BATCH_SIZE = 1000
MAX_BATCHES_PER_RUN = 50


def remove_expired_sessions(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES_PER_RUN
) -> int:
    """Session rows past their expiry (logins never finished, people who walked away) are removed;
    Django itself never deletes them. Returns how many went."""
    cutoff = now or timezone.now()
    removed = 0
    for _ in range(max_batches):
        batch = list(
            Session.objects.filter(expire_date__lt=cutoff)
            .order_by("expire_date")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            break
        deleted, _by_model = Session.objects.filter(pk__in=batch, expire_date__lt=cutoff).delete()
        removed += deleted
        if len(batch) < batch_size:
            break
    if removed:
        logger.info("Removed %d expired sessions", removed)
    return removed
