from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import (
    CareUnit,
    Listing,
    Membership,
    OpeningException,
    Region,
    UnitNews,
    in_force,
)


def units_for_patient(*, patient: Patient) -> QuerySet[CareUnit]:
    """The units where the patient is listed: the ones they can reach through the e-services, each
    with its other opening hours of the coming month (``coming_exceptions``)."""
    today = timezone.localdate()
    coming = OpeningException.objects.filter(day__gte=today, day__lte=today + dt.timedelta(days=30))
    return (
        CareUnit.objects.filter(listings__patient=patient, live=True)
        .select_related("administration__region")
        .prefetch_related(Prefetch("opening_exceptions", queryset=coming, to_attr="coming_exceptions"))
        .order_by("name")
    )


def memberships_for_staff(*, staff: Staff) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(in_force(timezone.localdate()), staff=staff)
        .select_related("unit__administration__region")
        .order_by("unit__name")
    )


def unit_members(unit: CareUnit) -> QuerySet[Membership, Any]:
    """The ids of the staff whose place at ``unit`` is in force today (for ``pk__in``)."""
    return Membership.objects.filter(in_force(timezone.localdate()), unit=unit).values("staff_id")


def news_for_staff(staff: Staff, limit: int = 5) -> list[UnitNews]:
    """The latest news from the units the staff member works at (their home page)."""
    return list(
        UnitNews.objects.filter(unit__in=memberships_for_staff(staff=staff).values("unit_id")).select_related(
            "unit", "author"
        )[:limit]
    )


def region_of_patient(patient: Patient) -> Region | None:
    """The resident's own region: that of the unit they are listed at (the latest listing, should
    they be listed in two regions while moving). Someone listed nowhere belongs to the region an
    installation serves if it serves only one; otherwise to none, and the law's defaults apply."""
    listing = (
        Listing.objects.filter(patient=patient)
        .select_related("unit__administration__region")
        .order_by("-since")
        .first()
    )
    if listing is not None:
        return listing.unit.administration.region
    regions = list(Region.objects.all()[:2])
    return regions[0] if len(regions) == 1 else None


def regions_of_patients(patients: list[Patient]) -> dict[object, Region | None]:
    """``region_of_patient`` for several residents at once (a guardian's children): patient id → region."""
    found: dict[object, Region | None] = {}
    listings = (
        Listing.objects.filter(patient__in=patients)
        .select_related("unit__administration__region")
        .order_by("patient_id", "-since")
    )
    for listing in listings:
        found.setdefault(listing.patient_id, listing.unit.administration.region)
    missing = [p for p in patients if p.pk not in found]
    if missing:
        regions = list(Region.objects.all()[:2])
        only = regions[0] if len(regions) == 1 else None
        for patient in missing:
            found[patient.pk] = only
    return found
