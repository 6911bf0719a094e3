"""Housekeeping of the operations app, run on the worker heartbeat (settings.PERIODIC_JOBS)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from vardkontakt.operations.models import LoginRecord

logger = logging.getLogger(__name__)

# One DELETE removes at most this many rows (a short statement and a short lock), and one run at
# most this many batches: a first run on a big table leaves the rest to the next heartbeats
# instead of holding up the other periodic jobs.
BATCH_SIZE = 1000
MAX_BATCHES_PER_RUN = 50


def login_records_cutoff(now: dt.datetime) -> dt.datetime:
    """Records from before this moment are past the retention limit; one at it or later is kept."""
    return now - dt.timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS)


def remove_old_login_records(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES_PER_RUN
) -> int:
    """Run on the worker heartbeat: login records (logins and refused logins, residents' and
    staff's alike) older than LOGIN_RECORD_RETENTION_DAYS go, oldest first, in batches that each
    commit on their own. Returns how many were removed."""
    cutoff = login_records_cutoff(now or timezone.now())
    old = LoginRecord.objects.filter(at__lt=cutoff)
    removed = 0
    for _ in range(max_batches):
        batch = list(old.order_by("at").values_list("pk", flat=True)[:batch_size])
        if not batch:
            break
        deleted, _by_model = LoginRecord.objects.filter(pk__in=batch).delete()
        removed += deleted
        if len(batch) < batch_size:
            break
    if removed:
        logger.info(
            "Removed %d login records from before %s (retention %d days)",
            removed,
            cutoff.isoformat(),
            settings.LOGIN_RECORD_RETENTION_DAYS,
        )
    return removed
