from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vardkontakt.access.audit import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain; name the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"Audit chain broken at entry {report.broken_at}: {report.reason} ({report.checked} entries intact before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} entries."))
