"""Reads for region administration: a region's administrator sees the region; anyone else gets 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from vardkontakt.access import policy
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Administration, CareUnit, Membership, Region, RegionRole

PAGE_SIZE = 25


def region_for_admin(*, staff: Staff, region_id: Any) -> Region:
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not policy.is_region_admin(staff, region):
        raise Http404
    return region


def administrations_of(region: Region) -> list[Administration]:
    return list(
        region.administrations.annotate(unit_count=Count("units")).prefetch_related("coordinators").order_by("name")
    )


def administration_of(region: Region, administration_id: Any) -> Administration:
    try:
        found = region.administrations.filter(pk=administration_id).first()
    except (ValueError, ValidationError):
        found = None
    if found is None:
        raise Http404
    return found


def units_of(region: Region, *, query: str = "", page: Any = 1) -> Page[CareUnit]:
    """The region's units by name, searched by name, HSA-id or city; a page at a time."""
    units = CareUnit.objects.filter(administration__region=region).select_related("administration")
    query = query.strip()
    if query:
        units = units.filter(Q(name__icontains=query) | Q(hsa_id__icontains=query) | Q(city__icontains=query))
    return Paginator(units.order_by("name", "hsa_id"), PAGE_SIZE).get_page(page)


def unit_for_region_admin(*, staff: Staff, unit_id: Any) -> CareUnit:
    unit = CareUnit.objects.filter(pk=unit_id).select_related("administration__region").first()
    if unit is None or not policy.is_region_admin(staff, unit.administration.region):
        raise Http404
    return unit


def staff_of(region: Region, *, query: str = "", page: Any = 1) -> Page[Staff]:
    """The people who work in the region (``_people_of``), searched by name or HSA-id, a page at a time."""
    people = _people_of(region)
    query = query.strip()
    if query:
        people = people.filter(
            Q(given_name__icontains=query) | Q(family_name__icontains=query) | Q(hsa_id__icontains=query)
        )
    return Paginator(people.order_by("family_name", "given_name", "hsa_id"), PAGE_SIZE).get_page(page)


def _people_of(region: Region) -> QuerySet[Staff]:
    """At its units, in its region roles or coordinating one of its administrations (whether their
    access has ended or not)."""
    return Staff.objects.filter(
        Q(memberships__unit__administration__region=region)
        | Q(region_roles__region=region)
        | Q(coordinated_administrations__region=region)
    ).distinct()


def staff_for_region_admin(*, region: Region, staff_id: Any) -> Staff:
    """A person of the region's staff (see staff_of); someone who is not is not found."""
    found = _people_of(region).filter(pk=staff_id).first()
    if found is None:
        raise Http404
    return found


def places_of(region: Region, staff: Staff) -> dict[str, Any]:
    return {
        "memberships": list(
            Membership.objects.filter(staff=staff, unit__administration__region=region).select_related("unit")
        ),
        "region_roles": list(RegionRole.objects.filter(staff=staff, region=region).order_by("role")),
        "coordinates": list(region.administrations.filter(coordinators=staff)),
        "today": timezone.localdate(),
    }
