"""Writes of region administration. Each is one transaction and audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vardkontakt.access.audit import SYSTEM, audit
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.identity.numbers import normalise_hsa_id
from vardkontakt.organisation.models import Region, RegionRole, RegionRoleKind


@dataclass(frozen=True)
class Bootstrapped:
    region: Region
    administrator: Staff
    region_created: bool
    administrator_created: bool
    role_granted: bool


@transaction.atomic
def region_bootstrap(*, name: str, admin_hsa_id: str, admin_given_name: str, admin_family_name: str) -> Bootstrapped:
    """A region and its first region administrator, so that someone can log in with SITHS and do
    the rest on the region administration pages. Running it again changes nothing: an existing
    region keeps its settings and an existing staff member keeps their name."""
    name = name.strip()
    if not name:
        raise ValidationError(_("The region needs a name."), code="name")
    hsa_id = normalise_hsa_id(admin_hsa_id)
    if not admin_given_name.strip() or not admin_family_name.strip():
        raise ValidationError(_("Give the administrator's given name and family name."), code="person")
    region, region_created = Region.objects.get_or_create(name=name)
    administrator, administrator_created = Staff.objects.get_or_create(
        hsa_id=hsa_id,
        defaults={
            "given_name": admin_given_name.strip()[:100],
            "family_name": admin_family_name.strip()[:100],
            "profession": Profession.ADMINISTRATOR,
        },
    )
    _role, role_granted = RegionRole.objects.get_or_create(
        region=region, staff=administrator, role=RegionRoleKind.REGION_ADMIN
    )
    if region_created:
        audit(actor=SYSTEM, action="region.create", obj=region, detail=region.name)
    if role_granted:
        audit(
            actor=SYSTEM,
            action="region_role.grant",
            obj=administrator,
            detail=f"{RegionRoleKind.REGION_ADMIN} {hsa_id}",
        )
    return Bootstrapped(region, administrator, region_created, administrator_created, role_granted)
