"""Bootstrap of a region's own installation: `manage.py region_create` and the first SITHS login."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.identity.test_oidc_login import choose, finish
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Region, RegionRole, RegionRoleKind

ADMIN = "SE2321000255-R0001"


def create(name: str = "Region Exempelby", hsa_id: str = ADMIN, **names: str) -> str:
    out = StringIO()
    call_command(
        "region_create",
        name,
        "--admin-hsa-id",
        hsa_id,
        "--admin-given-name",
        names.get("given", "Rut"),
        "--admin-family-name",
        names.get("family", "Regionadmin"),
        stdout=out,
    )
    return out.getvalue()


@pytest.mark.django_db
def test_it_creates_the_region_and_its_first_administrator_once_and_says_what_next():
    first = create()
    assert "created" in first and "logs in with SITHS" in first and "docs/operations.md" in first
    again = create(given="Annan", family="Person")  # a second run changes nothing
    assert "already there, unchanged" in again and "already region administrator" in again
    region = Region.objects.get()
    admin = Staff.objects.get()
    assert (region.name, admin.hsa_id, admin.full_name) == ("Region Exempelby", ADMIN, "Rut Regionadmin")
    assert RegionRole.objects.filter(region=region, staff=admin, role=RegionRoleKind.REGION_ADMIN).count() == 1
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["region.create", "region_role.grant"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"hsa_id": "not-an-hsa-id"}, "HSA"), ({"name": "  "}, "namn"), ({"given": " "}, "förnamn")],
)
def test_bad_input_is_refused_and_changes_nothing(arguments, message):
    with pytest.raises(CommandError, match=message):
        create(**arguments)
    assert not Region.objects.exists() and not Staff.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_bootstrapped_administrator_logs_in_with_siths_and_reaches_the_staff_home(site):
    create()
    response = finish(choose(site, ADMIN, side="staff"))
    assert response.status_code == 302  # not refused as an unknown HSA-id
    assert Staff.objects.get(hsa_id=ADMIN).user is not None


def test_the_archive_contact_is_set_and_said_or_its_absence_said(db):
    """Issue 16 §15: residents who seal are told how to reach the archive; the command sets it."""
    assert "Region archive: not set" in create()
    out = StringIO()
    call_command(
        "region_create",
        "Region Exempelby",
        "--admin-hsa-id",
        ADMIN,
        "--admin-given-name",
        "Rut",
        "--admin-family-name",
        "Regionadmin",
        "--archive-phone",
        "010-123 45 00",
        "--archive-address",
        "Regionarkivet, Box 1, 100 00 Exempelby",
        "--archive-hours",
        "Vardagar 9–12",
        stdout=out,
    )
    region = Region.objects.get(name="Region Exempelby")
    assert (region.archive_phone, region.archive_hours) == ("010-123 45 00", "Vardagar 9–12")
    assert "Region archive (told to residents who seal their record): 010-123 45 00" in out.getvalue()
    assert AuditEntry.objects.filter(action="region.archive_contact").count() == 1
