"""Writes of region administration. Each is one transaction and audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access.audit import SYSTEM, Actor, audit
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.identity.numbers import normalise_hsa_id
from vardkontakt.organisation.models import Administration, CareUnit, Membership, Region, RegionRole, RegionRoleKind


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


@transaction.atomic
def administration_create(*, region: Region, by: Staff, name: str) -> Administration:
    name = name.strip()
    if Administration.objects.filter(region=region, name__iexact=name).exists():
        raise ValidationError(_("The region already has an administration with this name."), code="duplicate")
    administration = Administration.objects.create(region=region, name=name)
    audit(actor=Actor.of_staff(by), action="administration.create", obj=administration, detail=name)
    return administration


@transaction.atomic
def unit_create(*, region: Region, by: Staff, fields: dict[str, Any]) -> CareUnit:
    """A unit of the region, out of residents' sight: it goes live through onboarding (SPEC §2),
    whose activation takes this unit by its HSA-id."""
    if fields["administration"].region_id != region.pk:
        raise ValidationError(_("Choose one of the region's administrations."), code="administration")
    unit = CareUnit.objects.create(**fields, live=False)
    audit(actor=Actor.of_staff(by), action="unit.create", obj=unit, unit=unit, detail=unit.hsa_id)
    return unit


@transaction.atomic
def unit_update(*, unit: CareUnit, by: Staff, fields: dict[str, Any]) -> CareUnit:
    if fields["administration"].region_id != unit.administration.region_id:
        raise ValidationError(_("Choose one of the region's administrations."), code="administration")
    changed = sorted(name for name, value in fields.items() if getattr(unit, name) != value)
    for name, value in fields.items():
        setattr(unit, name, value)
    unit.save(update_fields=list(fields))
    if changed:
        audit(actor=Actor.of_staff(by), action="unit.update", obj=unit, unit=unit, detail=", ".join(changed))
    return unit


@transaction.atomic
def staff_add(
    *,
    region: Region,
    by: Staff,
    hsa_id: str,
    given_name: str,
    family_name: str,
    profession: str,
    unit: CareUnit | None,
    unit_role: str,
    region_role: str,
) -> Staff:
    """A person of the region's staff, with a first place: a unit (and their role there) or a
    region role. Someone already known is not added twice: they get the new place."""
    if unit is None and not region_role:
        raise ValidationError(_("Choose a unit or a region role: staff work somewhere."), code="place")
    if unit is not None and unit.administration.region_id != region.pk:
        raise ValidationError(_("Choose one of the region's units."), code="unit")
    staff, created = Staff.objects.get_or_create(
        hsa_id=normalise_hsa_id(hsa_id),
        defaults={
            "given_name": given_name.strip()[:100],
            "family_name": family_name.strip()[:100],
            "profession": profession,
        },
    )
    if created:
        audit(actor=Actor.of_staff(by), action="staff.add", obj=staff, detail=staff.hsa_id)
    if unit is not None:
        membership_set(unit=unit, staff=staff, role=unit_role, by=by)
    if region_role:
        region_role_grant(region=region, staff=staff, role=region_role, by=by)
    return staff


def membership_set(
    *,
    unit: CareUnit,
    staff: Staff,
    role: str,
    by: Staff,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Membership:
    """A place at a unit, from ``starts_on`` through ``ends_on`` (either open): the access checks
    (access.policy) count it only between them."""
    _check_dates(starts_on, ends_on)
    wanted = {"role": role, "starts_on": starts_on, "ends_on": ends_on}
    membership, created = Membership.objects.get_or_create(staff=staff, unit=unit, defaults=wanted)
    changed = [name for name, value in wanted.items() if getattr(membership, name) != value]
    if created or changed:
        for name in changed:
            setattr(membership, name, wanted[name])
        if changed:
            membership.save(update_fields=changed)
        audit(
            actor=Actor.of_staff(by),
            action="membership.set",
            obj=staff,
            unit=unit,
            detail=f"{staff.hsa_id} {role}{_period(starts_on, ends_on)}",
        )
    return membership


def _check_dates(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError(_("The last day cannot come before the first."), code="dates")


def _period(starts_on: dt.date | None, ends_on: dt.date | None) -> str:
    if not starts_on and not ends_on:
        return ""
    return f" {starts_on.isoformat() if starts_on else ''}–{ends_on.isoformat() if ends_on else ''}"


@transaction.atomic
def membership_remove(*, unit: CareUnit, staff: Staff, by: Staff) -> None:
    removed, _count = Membership.objects.filter(unit=unit, staff=staff).delete()
    if removed:
        audit(actor=Actor.of_staff(by), action="membership.remove", obj=staff, unit=unit, detail=staff.hsa_id)


def region_role_grant(
    *,
    region: Region,
    staff: Staff,
    role: str,
    by: Staff,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> None:
    """Only a region administrator grants region roles, and no role above their own: the region
    administrator's is the highest, so they may grant any of them. Granting a held role again sets
    its dates."""
    if role not in RegionRoleKind.values:
        raise ValidationError(_("Choose one of the region roles."), code="role")
    _check_dates(starts_on, ends_on)
    dates = {"starts_on": starts_on, "ends_on": ends_on}
    held, created = RegionRole.objects.get_or_create(region=region, staff=staff, role=role, defaults=dates)
    changed = [name for name, value in dates.items() if getattr(held, name) != value]
    if changed:
        for name in changed:
            setattr(held, name, dates[name])
        held.save(update_fields=changed)
    if created or changed:
        audit(
            actor=Actor.of_staff(by),
            action="region_role.grant",
            obj=staff,
            detail=f"{role} {staff.hsa_id}{_period(starts_on, ends_on)}",
        )


@transaction.atomic
def region_role_revoke(*, region: Region, staff: Staff, role: str, by: Staff) -> None:
    if staff.pk == by.pk and role == RegionRoleKind.REGION_ADMIN:
        raise ValidationError(_("You cannot take away your own region administration."), code="self")
    removed, _count = RegionRole.objects.filter(region=region, staff=staff, role=role).delete()
    if removed:
        audit(actor=Actor.of_staff(by), action="region_role.revoke", obj=staff, detail=f"{role} {staff.hsa_id}")


@transaction.atomic
def staff_access_end(*, region: Region, staff: Staff, by: Staff) -> None:
    """The person leaves: no login from now on, an open session ends at its next request, and
    their places in the region (units, region roles, coordination) are taken away."""
    if staff.pk == by.pk:
        raise ValidationError(_("You cannot end your own access."), code="self")
    if staff.access_ended_at is None:
        staff.access_ended_at = timezone.now()
        staff.save(update_fields=["access_ended_at", "updated_at"])
    Membership.objects.filter(staff=staff, unit__administration__region=region).delete()
    RegionRole.objects.filter(staff=staff, region=region).delete()
    for administration in region.administrations.filter(coordinators=staff):
        administration.coordinators.remove(staff)
    audit(actor=Actor.of_staff(by), action="staff.access_end", obj=staff, detail=staff.hsa_id)


@transaction.atomic
def coordinator_appoint(*, administration: Administration, hsa_id: str, by: Staff) -> Staff:
    """The administration's coordinator (who takes its new units through onboarding): someone
    already known to the service by HSA-id."""
    person = Staff.objects.filter(hsa_id=normalise_hsa_id(hsa_id), access_ended_at__isnull=True).first()
    if person is None:
        raise ValidationError(_("Nobody with this HSA-id works here: add the person first."), code="unknown")
    if not administration.coordinators.filter(pk=person.pk).exists():
        administration.coordinators.add(person)
        audit(actor=Actor.of_staff(by), action="coordinator.appoint", obj=administration, detail=person.hsa_id)
    return person


@transaction.atomic
def coordinator_remove(*, administration: Administration, staff_id: Any, by: Staff) -> None:
    person = administration.coordinators.filter(pk=staff_id).first()
    if person is not None:
        administration.coordinators.remove(person)
        audit(actor=Actor.of_staff(by), action="coordinator.remove", obj=administration, detail=person.hsa_id)


@transaction.atomic
def region_archive_contact_set(*, region: Region, phone: str, address: str, hours: str) -> Region:
    """How residents reach the region archive, which reopens sealed records (said on the seal page).
    From the command line (region_create) until a region settings page edits it."""
    region.archive_phone, region.archive_address, region.archive_hours = phone.strip(), address.strip(), hours.strip()
    region.full_clean(validate_unique=False)
    region.save(update_fields=["archive_phone", "archive_address", "archive_hours"])
    audit(actor=SYSTEM, action="region.archive_contact", obj=region, detail=region.name)
    return region
