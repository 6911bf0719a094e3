from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vardkontakt.access.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit log: its keyed hash chain and the signed checkpoints outside the database. Names the "
        "first problem: a changed, removed or inserted entry, entries cut off the end, a forged checkpoint, or "
        "a checkpoint that is missing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"Audit log broken at entry {report.broken_at}: {report.reason} "
                f"({report.checked} entries intact before it)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit log intact: {report.checked} entries, {report.checkpoints} signed checkpoints agree."
            )
        )
