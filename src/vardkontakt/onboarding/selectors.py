"""Reads for the onboarding workflow and unit administration: a coordinator sees the onboardings
of the administrations they coordinate, a unit administrator their unit; anyone else is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access import policy
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import (
    CONTACT_FIELDS_REQUIRED,
    Administration,
    CareUnit,
    Onboarding,
    OpeningException,
)


def onboardings_for(staff: Staff) -> QuerySet[Onboarding]:
    return Onboarding.objects.filter(administration__coordinators=staff).select_related(
        "administration__region", "unit"
    )


def onboardings_for_coordinator(*, staff: Staff) -> QuerySet[Onboarding]:
    """The onboardings of the administrations the staff member coordinates; anyone else is refused."""
    if not Administration.objects.filter(coordinators=staff).exists():
        raise PermissionDenied
    return onboardings_for(staff)


def onboarding_for_coordinator(*, staff: Staff, onboarding_id: Any) -> Onboarding:
    """Another administration's onboarding is not found; a non-coordinator is refused."""
    found = onboardings_for_coordinator(staff=staff).filter(pk=onboarding_id).first()
    if found is None:
        raise Http404
    return found


def missing_for_live(onboarding: Onboarding) -> list[str]:
    """What stands between the unit and going live, in words."""
    from vardkontakt.cases.models import Service

    unit = onboarding.unit
    if unit is None:
        return [_("The unit is not activated.")]
    missing = []
    labels = {name: getattr(CareUnit._meta.get_field(name), "verbose_name", name) for name in CONTACT_FIELDS_REQUIRED}
    for name in CONTACT_FIELDS_REQUIRED:
        if not str(getattr(unit, name) or "").strip():
            missing.append(_("Contact details: %(field)s is missing.") % {"field": labels[name]})
    if not Service.objects.filter(unit=unit, active=True).exists():
        missing.append(_("No service is active yet."))
    return missing


def unit_for_admin(*, staff: Staff, unit_id: Any) -> CareUnit:
    """Another unit is not found; a member who is not its administrator is refused."""
    unit = CareUnit.objects.filter(pk=unit_id).select_related("administration").first()
    if unit is None or not policy.is_member(staff, unit):
        raise Http404
    if not policy.is_unit_admin(staff, unit):
        raise PermissionDenied
    return unit


def coming_exceptions(unit: CareUnit, days: int = 30) -> list[OpeningException]:
    """The unit's other opening hours of the coming ``days`` days."""
    today = timezone.localdate()
    return list(unit.opening_exceptions.filter(day__gte=today, day__lte=today + dt.timedelta(days=days)))
