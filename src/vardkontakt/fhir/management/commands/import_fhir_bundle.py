from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vardkontakt.fhir.importer import FhirRejected, Sender, import_bundle


class Command(BaseCommand):
    help = "Import a FHIR R4 transaction Bundle (JSON) of record data; all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", required=True, help="The source system's name, e.g. 'pmo' or 'flexlab'.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = json.loads(options["path"].read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read a JSON Bundle from {options['path']}: {exc}") from exc
        try:
            # The operator's own import: any unit; the audit log names the source system.
            result = import_bundle(data, sender=Sender(options["source"]))
        except FhirRejected as rejected:
            raise CommandError(
                "Nothing was imported:\n" + "\n".join(f"{i.location}: {i.message}" for i in rejected.issues)
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported: {result.created} new, {result.updated} updated {result.by_type}.")
        )
