from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vardkontakt.regions.services import region_archive_contact_set, region_bootstrap


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
        parser.add_argument("--archive-phone", default="", help="The region archive's phone (for sealed records).")
        parser.add_argument("--archive-address", default="", help="The region archive's postal address.")
        parser.add_argument("--archive-hours", default="", help='When the archive answers, e.g. "Vardagar 9-12".')

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = region_bootstrap(
                name=options["name"],
                admin_hsa_id=options["admin_hsa_id"],
                admin_given_name=options["admin_given_name"],
                admin_family_name=options["admin_family_name"],
            )
            region = done.region
            if options["archive_phone"] or options["archive_address"] or options["archive_hours"]:
                region = region_archive_contact_set(
                    region=region,
                    phone=options["archive_phone"],
                    address=options["archive_address"],
                    hours=options["archive_hours"],
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        admin = done.administrator
        self.stdout.write(
            f"Region: {region.name} ({'created' if done.region_created else 'already there, unchanged'})\n"
            f"Region administrator: {admin.full_name}, {admin.hsa_id} "
            f"({'added' if done.administrator_created else 'already known'}"
            f"{', role granted' if done.role_granted else ', already region administrator'})\n"
        )
        if region.has_archive_contact:
            self.stdout.write(
                f"Region archive (told to residents who seal their record): {region.archive_phone}, "
                f"{region.archive_address}, {region.archive_hours}\n"
            )
        else:
            self.stdout.write(
                "Region archive: not set. Residents who seal their record are told to contact their care unit\n"
                "  until it is: run again with --archive-phone, --archive-address and --archive-hours.\n"
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
