"""What the check-in tests share: a visit at unit X (Lindängen) with a fee from the region's
schedule, booked for a persona at a time computed from the test's frozen clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import Client

from tests.helpers import login_as
from vardkontakt.booking.models import Booking, BookingChannel, BookingSettings, Slot, VisitType
from vardkontakt.fees.models import FeeKind, FeeRules, FeeSchedule
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit

_count = [0]


def patient_client(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def staff_client(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


def fees_at(unit: CareUnit, *, doctor: str = "200", missed: str = "400") -> None:
    """The unit's region charges ``doctor`` kronor a doctor's visit (counts) and ``missed`` a missed
    visit (does not count), since long before any test's clock; free under 20 and from 85."""
    region = unit.administration.region
    FeeRules.objects.update_or_create(region=region, defaults={"free_under_age": 20, "free_from_age": 85})
    for kind, amount, counts in ((FeeKind.DOCTOR, doctor, True), (FeeKind.MISSED_VISIT, missed, False)):
        FeeSchedule.objects.update_or_create(
            region=region,
            kind=kind,
            unit_kind="",
            effective_from=dt.date(2000, 1, 1),
            defaults={"amount": Decimal(amount), "counts_toward_ceiling": counts},
        )


def visit_type_at(unit: CareUnit, *, fee_kind: str = FeeKind.DOCTOR, name: str = "") -> VisitType:
    _count[0] += 1
    return VisitType.objects.create(
        unit=unit,
        name=name or f"Läkarbesök {_count[0]}",
        duration_minutes=20,
        professions=["doctor", "district_nurse", "nurse"],
        fee_kind=fee_kind,
    )


def booking_at(unit: CareUnit, patient: Patient, starts_at: dt.datetime, *, visit: VisitType | None = None) -> Booking:
    """An active booking of ``patient`` at ``starts_at`` (booked by the patient themself)."""
    BookingSettings.objects.get_or_create(unit=unit)
    visit = visit or visit_type_at(unit)
    practitioner = unit.memberships.get_queryset().order_by("pk")[0].staff
    slot = Slot.objects.create(
        unit=unit,
        practitioner=practitioner,
        visit_type=visit,
        place="Rum 4",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=visit.duration_minutes),
    )
    return Booking.objects.create(
        slot=slot,
        patient=patient,
        channel=BookingChannel.ONLINE,
        booked_by_patient=patient,
        created_at=starts_at - dt.timedelta(days=3),
    )
