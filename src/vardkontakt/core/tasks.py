"""The worker's heartbeat: a task that records that the worker ran it, then schedules the next.

Running through the queue (rather than a thread beside it) means /healthz reports what matters:
that queued work is actually being picked up.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from vardkontakt.core.models import Heartbeat

WORKER = "worker"


@task()
def worker_heartbeat() -> None:
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=WORKER, defaults={"beat_at": now})
    schedule_heartbeat(after=now + dt.timedelta(seconds=settings.WORKER_HEARTBEAT_SECONDS))
    # Periodic housekeeping rides on the heartbeat, so it runs exactly when a worker runs.
    for job in settings.PERIODIC_JOBS:
        import_string(job)()


def schedule_heartbeat(*, after: dt.datetime | None = None) -> None:
    """Queue the next heartbeat unless one is already waiting (so restarts never fork the chain)."""
    from django_tasks_db.models import DBTaskResult

    backend = settings.TASKS["default"]["BACKEND"]
    if backend == "django_tasks_db.DatabaseBackend":
        # The heartbeat running now is RUNNING itself; only a READY one counts as "already queued".
        if DBTaskResult.objects.filter(task_path=worker_heartbeat.module_path, status="READY").exists():
            return
        worker_heartbeat.using(run_after=after).enqueue()
    else:
        # Immediate/dummy backends (tests): record the beat without chaining forever.
        Heartbeat.objects.update_or_create(name=WORKER, defaults={"beat_at": timezone.now()})


def heartbeat_age_seconds() -> float | None:
    beat = Heartbeat.objects.filter(name=WORKER).first()
    if beat is None:
        return None
    return (timezone.now() - beat.beat_at).total_seconds()
