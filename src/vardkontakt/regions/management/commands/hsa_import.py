from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vardkontakt.organisation.models import Region
from vardkontakt.regions import catalogue


class Command(BaseCommand):
    help = (
        "Import an extract of the HSA catalogue (CSV or JSON, docs/hsa-import.md) into a region: prints "
        "what it would change, then applies all of it in one transaction (not with --dry-run). Applying "
        "the same extract again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="The region's name.")
        parser.add_argument("file", help="The extract, a .csv or .json file in UTF-8.")
        parser.add_argument("--dry-run", action="store_true", help="Only print what would change.")

    def handle(self, *args: Any, **options: Any) -> None:
        region = Region.objects.filter(name=options["region"]).first()
        if region is None:
            raise CommandError(f"No region named {options['region']!r}.")
        path = Path(options["file"])
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        try:
            stored = catalogue.upload(region=region, by=None, content=content, file_name=path.name)
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from None
        try:
            plan = catalogue.preview(stored)
        except ValidationError as error:
            stored.delete()
            raise CommandError("\n".join(error.messages)) from None
        for name, count in plan.counts().items():
            self.stdout.write(f"{name.replace('_', ' ')}: {count}")
        if options["dry_run"]:
            stored.delete()
            self.stdout.write("Dry run: nothing was changed.")
            return
        try:
            changed = catalogue.apply(stored, by=None)
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from None
        self.stdout.write("Applied." if changed else "The same extract as the latest: nothing was changed.")
