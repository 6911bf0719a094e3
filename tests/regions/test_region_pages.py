"""The region administrator's pages: administrations and units (issue 15 §2)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.regions.helpers import client_of
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.organisation.models import Administration, CareUnit, Region, RegionRole, RegionRoleKind, UnitKind

pytestmark = pytest.mark.django_db


def unit_form(administration: Administration, **changes: str) -> dict[str, str]:
    return {
        "hsa_id": "se2321000255-e7001",
        "name": "Vårdcentralen Nyhem",
        "kind": UnitKind.PRIMARY_CARE,
        "administration": str(administration.pk),
        "street_address": "Nyhemsgatan 3",
        "postal_code": "21400",
        "city": "Malmö",
        "phone": "040-100 20 30",
        "website": "",
        "opening_hours": "Vardagar 8–17",
        "answer_target_working_days": "2",
        **changes,
    }


def test_the_region_administrator_adds_an_administration_once(personas, region):
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/administrations/"
    assert admin.get(url).status_code == 200
    assert admin.post(url, {"name": "Psykiatri Skåne Nord"}).status_code == 302
    again = admin.post(url, {"name": "psykiatri skåne nord"})
    assert again.status_code == 400 and "Regionen har redan en förvaltning med det namnet" in again.text
    empty = admin.post(url, {"name": "  "})
    assert empty.status_code == 400
    assert Administration.objects.filter(region=region, name__iexact="Psykiatri Skåne Nord").count() == 1
    entry = AuditEntry.objects.get(action="administration.create")
    assert entry.actor_id == str(personas.region_admin.pk)


def test_a_new_unit_is_added_out_of_sight_and_audited(personas, region):
    admin = client_of(personas.region_admin)
    administration = region.administrations.first()
    assert administration is not None
    response = admin.post(f"/staff/regions/{region.id}/units/new/", unit_form(administration))
    assert response.status_code == 302
    unit = CareUnit.objects.get(hsa_id="SE2321000255-E7001")  # normalised
    assert (unit.name, unit.live, unit.administration) == ("Vårdcentralen Nyhem", False, administration)
    assert AuditEntry.objects.filter(action="unit.create", unit_id=str(unit.pk)).count() == 1
    listing = admin.get(f"/staff/regions/{region.id}/units/", {"q": "nyhem"})
    assert [u.name for u in listing.context["page"].object_list] == ["Vårdcentralen Nyhem"]
    assert "Vårdcentralen Nyhem" in listing.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hsa_id": "E7001"}, "hsa_id"),
        ({"hsa_id": "EXISTING"}, "hsa_id"),  # the HSA-id of a unit the region has already
        ({"name": ""}, "name"),
        ({"kind": "hospital-ish"}, "kind"),
        ({"answer_target_working_days": "0"}, "answer_target_working_days"),
        ({"website": "javascript:alert(1)"}, "website"),
    ],
)
def test_bad_input_adds_no_unit(personas, region, changes, field):
    existing = CareUnit.objects.order_by("name").first()
    assert existing is not None
    if changes.get("hsa_id") == "EXISTING":
        changes = {"hsa_id": existing.hsa_id.lower()}
    before = CareUnit.objects.count()
    response = client_of(personas.region_admin).post(
        f"/staff/regions/{region.id}/units/new/", unit_form(existing.administration, **changes)
    )
    assert response.status_code == 400
    assert response.context["form"].errors.get(field)
    assert CareUnit.objects.count() == before and not AuditEntry.objects.filter(action="unit.create").exists()


def test_another_regions_administration_cannot_be_chosen(personas, region):
    north = Region.objects.create(name="Region Norr")
    theirs = Administration.objects.create(region=north, name="Primärvård Norr")
    response = client_of(personas.region_admin).post(f"/staff/regions/{region.id}/units/new/", unit_form(theirs))
    assert response.status_code == 400 and not CareUnit.objects.filter(hsa_id="SE2321000255-E7001").exists()


def test_the_unit_list_is_paged_and_searchable(personas, region):
    administration = region.administrations.first()
    assert administration is not None
    for n in range(30):
        CareUnit.objects.create(
            administration=administration,
            hsa_id=f"SE2321000255-E8{n:03d}",
            name=f"Testenhet {n:02d}",
            kind=UnitKind.PRIMARY_CARE,
            city="Ödeshög" if n == 7 else "Lund",
            live=False,
        )
    admin = client_of(personas.region_admin)
    first = admin.get(f"/staff/regions/{region.id}/units/", {"q": "Testenhet"})
    page = first.context["page"]
    assert (page.paginator.count, len(page.object_list), page.has_next()) == (30, 25, True)
    second = admin.get(f"/staff/regions/{region.id}/units/", {"q": "Testenhet", "page": "2"}).context["page"]
    assert [u.name for u in second.object_list] == [f"Testenhet {n:02d}" for n in range(25, 30)]
    by_city = admin.get(f"/staff/regions/{region.id}/units/", {"q": "Ödeshög"}).context["page"]
    assert [u.name for u in by_city.object_list] == ["Testenhet 07"]


def test_editing_a_unit_saves_and_audits_only_a_real_change(personas, region):
    unit = CareUnit.objects.order_by("name").first()
    assert unit is not None
    admin = client_of(personas.region_admin)
    form = unit_form(
        unit.administration,
        hsa_id=unit.hsa_id,
        name=unit.name,
        kind=unit.kind,
        website=unit.website,
        street_address=unit.street_address,
        postal_code=unit.postal_code,
        city=unit.city,
        opening_hours=unit.opening_hours,
        phone=unit.phone,
    )
    assert admin.post(f"/staff/region-units/{unit.id}/", form).status_code == 302
    assert not AuditEntry.objects.filter(action="unit.update").exists()  # nothing changed
    assert admin.post(f"/staff/region-units/{unit.id}/", {**form, "phone": "040-999 99 99"}).status_code == 302
    unit.refresh_from_db()
    assert unit.phone == "040-999 99 99"
    assert AuditEntry.objects.get(action="unit.update").detail == "phone"


def test_the_administrator_of_another_region_and_other_staff_get_404(personas, region):
    north = Region.objects.create(name="Region Norr")
    stranger = Staff.objects.create(
        hsa_id="SE2321000255-P9090", given_name="Nils", family_name="Norrman", profession=Profession.ADMINISTRATOR
    )
    RegionRole.objects.create(region=north, staff=stranger, role=RegionRoleKind.REGION_ADMIN)
    unit = CareUnit.objects.order_by("name").first()
    assert unit is not None
    for staff in (stranger, personas.unit_admin, personas.coordinator):
        client = client_of(staff)
        for url in (
            f"/staff/regions/{region.id}/",
            f"/staff/regions/{region.id}/administrations/",
            f"/staff/regions/{region.id}/units/",
            f"/staff/regions/{region.id}/units/new/",
            f"/staff/region-units/{unit.id}/",
        ):
            assert client.get(url).status_code == 404, (staff, url)
        assert client.post(f"/staff/regions/{region.id}/administrations/", {"name": "Kapad"}).status_code == 404
    assert not Administration.objects.filter(name="Kapad").exists()
    assert client_of(stranger).get(f"/staff/regions/{north.id}/units/").status_code == 200


def test_a_unit_added_by_the_region_goes_live_through_onboarding(personas, region):
    """Onboarding's activation takes the unit the region added (by HSA-id) instead of a second one."""
    from vardkontakt.onboarding import services as steps
    from vardkontakt.organisation.models import Onboarding

    administration = region.administrations.first()
    assert administration is not None
    client_of(personas.region_admin).post(f"/staff/regions/{region.id}/units/new/", unit_form(administration))
    unit = CareUnit.objects.get(hsa_id="SE2321000255-E7001")
    onboarding = Onboarding.objects.create(
        administration=administration,
        hsa_id=unit.hsa_id,
        unit_name=unit.name,
        kind=unit.kind,
        contact_name="Eva Exempel",
        contact_email="eva@example.org",
        interest_on=timezone.localdate(),
    )
    onboarding.meeting_on = onboarding.interest_on
    onboarding.agreed_start_on = onboarding.interest_on
    onboarding.save()
    assert steps.onboarding_activate(onboarding=onboarding, by=personas.coordinator) == unit
    assert CareUnit.objects.filter(hsa_id=unit.hsa_id).count() == 1


def test_the_region_administrator_appoints_and_removes_a_coordinator(personas, region):
    administration = Administration.objects.create(region=region, name="Ny förvaltning")
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/administrations/"
    unknown = admin.post(
        url, {"action": "coordinator", "administration": str(administration.pk), "hsa_id": "SE2321000255-P0999"}
    )
    assert unknown.status_code == 400 and not administration.coordinators.exists()
    appointed = admin.post(
        url,
        {"action": "coordinator", "administration": str(administration.pk), "hsa_id": personas.nurse.hsa_id.lower()},
    )
    assert appointed.status_code == 302 and list(administration.coordinators.all()) == [personas.nurse]
    assert (
        admin.post(
            url,
            {"action": "coordinator_remove", "administration": str(administration.pk), "staff": str(personas.nurse.pk)},
        ).status_code
        == 302
    )
    assert not administration.coordinators.exists()
    assert list(AuditEntry.objects.filter(action__startswith="coordinator.").values_list("action", flat=True)) == [
        "coordinator.appoint",
        "coordinator.remove",
    ]
    # Another region's administration is not found.
    north = Administration.objects.create(region=Region.objects.create(name="Region Norr"), name="Norr")
    response = admin.post(
        url, {"action": "coordinator", "administration": str(north.pk), "hsa_id": personas.nurse.hsa_id}
    )
    assert response.status_code == 404 and not north.coordinators.exists()
