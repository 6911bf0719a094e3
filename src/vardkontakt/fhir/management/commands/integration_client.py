from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vardkontakt.fhir.auth import all_scopes, client_create
from vardkontakt.fhir.models import IntegrationClient
from vardkontakt.organisation.models import CareUnit


class Command(BaseCommand):
    help = "Register a source system for the FHIR API (prints its secret once), or deactivate one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")
        parser.add_argument("--name", help="What the system is, e.g. 'Lab system Flexlab'.")
        parser.add_argument("--source", help="The source system's key for the rows it sends, e.g. 'flexlab'.")
        parser.add_argument(
            "--scope", action="append", default=[], help=f"Repeat for each scope; one of: {' '.join(all_scopes())}"
        )
        parser.add_argument(
            "--unit",
            action="append",
            default=[],
            help="Repeat for each care unit (HSA-id) whose record data the system may write.",
        )
        parser.add_argument("--deactivate", action="store_true", help="Refuse the client's tokens from now on.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["deactivate"]:
            changed = IntegrationClient.objects.filter(client_id=options["client_id"]).update(active=False)
            if not changed:
                raise CommandError(f"No client {options['client_id']}.")
            self.stdout.write(self.style.SUCCESS(f"{options['client_id']} is deactivated; its tokens no longer work."))
            return
        if not options["name"] or not options["source"] or not options["scope"]:
            raise CommandError("--name, --source and at least one --scope are required.")
        wanted = [hsa.upper() for hsa in options["unit"]]
        units = list(CareUnit.objects.filter(hsa_id__in=wanted))
        unknown = sorted(set(wanted) - {unit.hsa_id for unit in units})
        if unknown:
            raise CommandError(f"No care unit with HSA-id {', '.join(unknown)}.")
        try:
            client, secret = client_create(
                client_id=options["client_id"],
                name=options["name"],
                source_system=options["source"],
                scopes=options["scope"],
                units=units,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"client_id: {client.client_id}\nclient_secret: {secret}\n(the secret is shown only now)")
        if not units:
            self.stdout.write("No --unit given: the client may write no record data until units are registered.")
