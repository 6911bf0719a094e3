"""Import persons from a population-register extract (CSV, UTF-8, with a header row):
personnummer,given_name,family_name,street_address,postal_code,city,protected_identity

All or nothing: one bad row and nothing is imported, with every bad line named. The registered
address is where paper letters go (letters/services.py).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.identity.services import RegisteredPerson, persons_import

COLUMNS = ["personnummer", "given_name", "family_name", "street_address", "postal_code", "city", "protected_identity"]


class Command(BaseCommand):
    help = "Import persons with their registered address from a CSV extract of the population register."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            handle = path.open(encoding="utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        rows: list[RegisteredPerson] = []
        problems: list[str] = []
        with handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or set(COLUMNS) - set(reader.fieldnames):
                raise CommandError("The file needs a header row with the columns " + ",".join(COLUMNS) + ".")
            for line, row in enumerate(reader, start=2):
                try:
                    number = normalise_personnummer(row["personnummer"] or "")
                except ValidationError as exc:
                    problems.append(f"line {line}: {' '.join(str(m) for m in exc.messages)}")
                    continue
                hidden = (row["protected_identity"] or "").strip().lower()
                if hidden not in ("", "0", "1", "true", "false"):
                    problems.append(f"line {line}: protected_identity must be 0/1 or true/false")
                    continue
                postal_code = (row["postal_code"] or "").replace(" ", "")
                if postal_code and not (postal_code.isdigit() and len(postal_code) == 5):
                    problems.append(f"line {line}: a postal code has five digits")
                    continue
                rows.append(
                    RegisteredPerson(
                        personnummer=number,
                        given_name=(row["given_name"] or "").strip(),
                        family_name=(row["family_name"] or "").strip(),
                        street_address=(row["street_address"] or "").strip(),
                        postal_code=postal_code,
                        city=(row["city"] or "").strip(),
                        protected_identity=hidden in ("1", "true"),
                    )
                )
        if problems:
            raise CommandError("Nothing was imported:\n" + "\n".join(problems))
        result = persons_import(rows=rows)
        self.stdout.write(self.style.SUCCESS(f"Persons: {result.created} new, {result.updated} updated."))
