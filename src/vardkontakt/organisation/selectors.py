from __future__ import annotations

from django.db.models import QuerySet

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Membership


def units_for_patient(*, patient: Patient) -> QuerySet[CareUnit]:
    """The units where the patient is listed: the ones they can reach through the e-services."""
    return (
        CareUnit.objects.filter(listings__patient=patient, live=True)
        .select_related("administration__region")
        .order_by("name")
    )


def memberships_for_staff(*, staff: Staff) -> QuerySet[Membership]:
    return Membership.objects.filter(staff=staff).select_related("unit__administration__region").order_by("unit__name")
