"""Who sees which statistics. The figures hold no patient data (counts and times only), so reading
them is not a read of anyone's record; the doors are the roles of SPEC §1."""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from vardkontakt.access import policy
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Administration, CareUnit


def unit_for_statistics(*, staff: Staff, unit_id: uuid.UUID | str) -> CareUnit:
    """The unit's administrators see its statistics. Its other members are refused (403); to anyone
    else the unit is not there (404)."""
    unit = CareUnit.objects.filter(pk=unit_id).first()
    if unit is not None and policy.is_unit_admin(staff, unit):  # the common case first: one query less
        return unit
    if unit is None or not policy.is_member(staff, unit):
        raise Http404
    raise PermissionDenied


def administrations_for_statistics(*, staff: Staff) -> list[Administration]:
    """A region administrator sees every administration of the region; a coordinator the
    administrations they coordinate; both roles, both sets. Anyone else is refused (403)."""
    regions = policy.administered_regions(staff)
    coordinated = Q(coordinators=staff)
    if not regions and not Administration.objects.filter(coordinated).exists():
        raise PermissionDenied
    return list(Administration.objects.filter(Q(region__in=regions) | coordinated).distinct().order_by("name"))


def live_units() -> list[CareUnit]:
    return list(CareUnit.objects.filter(live=True).select_related("administration").order_by("name"))
