"""Import guardianships from a population-register extract (CSV: guardian,child personnummer).

All or nothing: one bad row and nothing is imported, with every bad line named. For each child
in the file, relations the file no longer lists are ended; other children are left alone.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vardkontakt.access.services import guardianships_import
from vardkontakt.identity.numbers import normalise_personnummer


class Command(BaseCommand):
    help = "Import guardian–child relations from a CSV file with the columns guardian,child."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            handle = path.open(encoding="utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        pairs: list[tuple[str, str]] = []
        problems: list[str] = []
        with handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or {"guardian", "child"} - set(reader.fieldnames):
                raise CommandError("The file needs a header row with the columns guardian,child.")
            for line, row in enumerate(reader, start=2):
                try:
                    guardian = normalise_personnummer(row["guardian"] or "")
                    child = normalise_personnummer(row["child"] or "")
                except ValidationError as exc:
                    problems.append(f"line {line}: {' '.join(str(m) for m in exc.messages)}")
                    continue
                if guardian == child:
                    problems.append(f"line {line}: a person cannot be their own guardian")
                    continue
                pairs.append((guardian, child))
        if problems:
            raise CommandError("Nothing was imported:\n" + "\n".join(problems))
        result = guardianships_import(pairs=pairs)
        self.stdout.write(
            self.style.SUCCESS(f"Guardianships: {result.created} new, {result.kept} unchanged, {result.ended} ended.")
        )
