from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vardkontakt.regions.services import region_bootstrap


class Command(BaseCommand):
    help = (
        "Create a region and its first region administrator (by HSA-id), who then logs in with SITHS "
        "and sets up the rest on the region administration pages. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help='The region\'s name, e.g. "Region Exempelby".')
        parser.add_argument("--admin-hsa-id", required=True, help="The first region administrator's HSA-id.")
        parser.add_argument("--admin-given-name", required=True)
        parser.add_argument("--admin-family-name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = region_bootstrap(
                name=options["name"],
                admin_hsa_id=options["admin_hsa_id"],
                admin_given_name=options["admin_given_name"],
                admin_family_name=options["admin_family_name"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        region, admin = done.region, done.administrator
        self.stdout.write(
            f"Region: {region.name} ({'created' if done.region_created else 'already there, unchanged'})\n"
            f"Region administrator: {admin.full_name}, {admin.hsa_id} "
            f"({'added' if done.administrator_created else 'already known'}"
            f"{', role granted' if done.role_granted else ', already region administrator'})\n"
        )
        site = getattr(settings, "SITE_URL", "") or "https://<your host>"
        self.stdout.write(
            "Next:\n"
            f"  1. {admin.given_name} logs in with SITHS at {site}/login/staff/\n"
            "  2. On the staff start page, 'Region administration': add administrations, units and staff,\n"
            "     appoint coordinators, archivists and support, and review the region's rules.\n"
            "  3. Each new unit is taken live through onboarding by its administration's coordinator.\n"
            "See docs/operations.md, 'From an empty database to the first unit live'.\n"
        )
