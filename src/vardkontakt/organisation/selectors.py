from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Membership, OpeningException, UnitNews


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
    return Membership.objects.filter(staff=staff).select_related("unit__administration__region").order_by("unit__name")


def news_for_staff(staff: Staff, limit: int = 5) -> list[UnitNews]:
    """The latest news from the units the staff member works at (their home page)."""
    return list(UnitNews.objects.filter(unit__memberships__staff=staff).select_related("unit", "author")[:limit])
