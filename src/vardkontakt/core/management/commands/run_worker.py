"""The task worker: starts the heartbeat chain, then runs django-tasks-db's worker loop."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from vardkontakt.core.tasks import schedule_heartbeat


class Command(BaseCommand):
    help = "Run the background task worker (with the heartbeat that /healthz reads)."

    def handle(self, *args: Any, **options: Any) -> None:
        schedule_heartbeat()
        call_command("db_worker", queue_name="*", interval=1, reload=False)
