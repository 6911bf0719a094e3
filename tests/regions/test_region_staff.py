"""The region administrator's staff pages: add people, give them units and region roles, take
them away, and end a person's access at once (issue 15 §2)."""

from __future__ import annotations

import time

import pytest

from tests.regions.helpers import client_of
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.middleware import AUTHENTICATED_AT
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.organisation.models import CareUnit, Membership, MembershipRole, Region, RegionRole, RegionRoleKind

pytestmark = pytest.mark.django_db
NEW = "SE2321000255-P7100"


def add_form(place: CareUnit | None, **changes: str) -> dict[str, str]:
    return {
        "hsa_id": NEW.lower(),
        "given_name": "Vera",
        "family_name": "Vårdsson",
        "profession": Profession.NURSE,
        "unit": str(place.pk) if place else "",
        "unit_role": MembershipRole.STAFF,
        "region_role": "",
        **changes,
    }


def test_the_region_administrator_adds_a_nurse_to_a_unit(personas, region, unit_x):
    admin = client_of(personas.region_admin)
    response = admin.post(f"/staff/regions/{region.id}/staff/new/", add_form(unit_x))
    assert response.status_code == 302
    vera = Staff.objects.get(hsa_id=NEW)
    assert Membership.objects.get(staff=vera).unit == unit_x
    assert {"staff.add", "membership.set"} <= set(AuditEntry.objects.values_list("action", flat=True))
    listing = admin.get(f"/staff/regions/{region.id}/staff/", {"q": "Vårdsson"})
    assert [p.hsa_id for p in listing.context["page"].object_list] == [NEW]


@pytest.mark.parametrize(
    "changes",
    [{"hsa_id": "P7100"}, {"given_name": ""}, {"profession": "wizard"}, {"unit": ""}],
    ids=["bad HSA-id", "no name", "no such profession", "no unit and no region role"],
)
def test_bad_input_adds_nobody(personas, region, unit_x, changes):
    response = client_of(personas.region_admin).post(
        f"/staff/regions/{region.id}/staff/new/", add_form(unit_x, **changes)
    )
    assert response.status_code == 400
    assert not Staff.objects.filter(hsa_id=NEW).exists() and not AuditEntry.objects.filter(action="staff.add").exists()


def test_a_unit_of_another_region_cannot_be_given(personas, region):
    from vardkontakt.organisation.models import Administration, UnitKind

    north = Region.objects.create(name="Region Norr")
    theirs = CareUnit.objects.create(
        administration=Administration.objects.create(region=north, name="Norr"),
        hsa_id="SE2321000255-N0002",
        name="Norrby HC",
        kind=UnitKind.PRIMARY_CARE,
    )
    response = client_of(personas.region_admin).post(f"/staff/regions/{region.id}/staff/new/", add_form(theirs))
    assert response.status_code == 400 and not Staff.objects.filter(hsa_id=NEW).exists()


def test_roles_are_granted_and_taken_away_with_a_fresh_login(personas, region):
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/staff/{personas.staff_x.id}/"
    assert admin.get(url).status_code == 200
    assert admin.post(url, {"action": "role", "role-role": RegionRoleKind.SUPPORT}).status_code == 302
    assert RegionRole.objects.filter(staff=personas.staff_x, region=region, role=RegionRoleKind.SUPPORT).exists()
    assert admin.post(url, {"action": "role_revoke", "role": RegionRoleKind.SUPPORT}).status_code == 302
    assert not RegionRole.objects.filter(staff=personas.staff_x, role=RegionRoleKind.SUPPORT).exists()
    assert list(AuditEntry.objects.filter(action__startswith="region_role.").values_list("action", flat=True)) == [
        "region_role.grant",
        "region_role.revoke",
    ]
    # An hour after the login, looking is free but a change asks for a fresh login first.
    session = admin.session
    session[AUTHENTICATED_AT] = int(time.time()) - 3600
    session.save()
    assert admin.get(url).status_code == 200
    stale = admin.post(url, {"action": "role", "role-role": RegionRoleKind.ARCHIVIST})
    assert stale.status_code == 401
    assert not RegionRole.objects.filter(staff=personas.staff_x, role=RegionRoleKind.ARCHIVIST).exists()


def test_nobody_takes_away_their_own_region_administration(personas, region):
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/staff/{personas.region_admin.id}/"
    response = admin.post(url, {"action": "role_revoke", "role": RegionRoleKind.REGION_ADMIN})
    assert response.status_code == 400
    assert RegionRole.objects.filter(staff=personas.region_admin, role=RegionRoleKind.REGION_ADMIN).exists()


def test_ending_access_logs_the_person_out_at_once_and_refuses_their_next_login(personas, region):
    nurse = client_of(personas.staff_x)
    assert nurse.get("/staff/").status_code == 200
    admin = client_of(personas.region_admin)
    response = admin.post(f"/staff/regions/{region.id}/staff/{personas.staff_x.id}/", {"action": "end_access"})
    assert response.status_code == 302
    personas.staff_x.refresh_from_db()
    assert personas.staff_x.access_ended_at is not None
    assert not Membership.objects.filter(staff=personas.staff_x).exists()
    assert nurse.get("/staff/").status_code == 302  # the open session is gone: back to the login
    from vardkontakt.identity.oidc import LoginRefused, Refusal, _staff_user

    with pytest.raises(LoginRefused) as refused:
        _staff_user(personas.staff_x.hsa_id)
    assert refused.value.reason is Refusal.ACCESS_ENDED


def test_someone_outside_the_region_is_not_found_and_others_get_404(personas, region):
    outsider = Staff.objects.create(
        hsa_id="SE2321000255-P7199", given_name="Olle", family_name="Utanför", profession=Profession.NURSE
    )
    admin = client_of(personas.region_admin)
    assert admin.get(f"/staff/regions/{region.id}/staff/{outsider.id}/").status_code == 404
    for staff in (personas.unit_admin, personas.coordinator, personas.support):
        client = client_of(staff)
        assert client.get(f"/staff/regions/{region.id}/staff/").status_code == 404
        assert (
            client.post(
                f"/staff/regions/{region.id}/staff/{personas.staff_x.id}/", {"action": "end_access"}
            ).status_code
            == 404
        )
    personas.staff_x.refresh_from_db()
    assert personas.staff_x.access_ended_at is None
