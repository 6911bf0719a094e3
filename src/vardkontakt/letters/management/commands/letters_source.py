from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vardkontakt.access.audit import Actor
from vardkontakt.letters.models import SourceLetters
from vardkontakt.letters.services import source_letters_set


class Command(BaseCommand):
    help = (
        "Whether the platform sends the letters (kallelser) of the appointments a booking system "
        "publishes. A source system that sends its own paper letters gets --own-letters; without a "
        "choice the platform sends them. With neither option: show the choice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="The source system's key, as its integration client sends it, e.g. 'pasis'.")
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument("--own-letters", action="store_true", help="The source sends its own letters: none here.")
        choice.add_argument("--platform-letters", action="store_true", help="The platform sends the letters (default).")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["source"]
        if options["own_letters"] or options["platform_letters"]:
            row = source_letters_set(
                source_system=source,
                platform_sends_letters=bool(options["platform_letters"]),
                by=Actor("system", "manage.py", "letters_source"),
            )
            sends = row.platform_sends_letters
        else:
            found = SourceLetters.objects.filter(source_system=source).first()
            sends = found is None or found.platform_sends_letters
        self.stdout.write(
            f"{source}: the platform sends the letters"
            if sends
            else f"{source}: the source system sends its own letters; the platform sends none"
        )
