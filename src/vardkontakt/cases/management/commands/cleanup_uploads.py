from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vardkontakt.cases.attachments import attachments_remove_abandoned


class Command(BaseCommand):
    help = "Remove uploaded files of cases never sent (after a day) and files without a database row."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = attachments_remove_abandoned(scan_files=True)
        self.stdout.write(self.style.SUCCESS(f"Removed {removed} abandoned upload(s)."))
