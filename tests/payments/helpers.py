"""A fee to pay, in a small region of its own, and the people around it."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from tests.fees.helpers import region_with_fees, resident
from tests.helpers import login_as
from vardkontakt.fees.models import Fee, FeeKind
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit, Membership


def a_fee(
    *, patient: Patient | None = None, unit: CareUnit | None = None, amount: str = "200", day: dt.date | None = None
) -> Fee:
    unit = unit or region_with_fees(name=f"Region {uuid.uuid4().hex[:8]}")
    patient = patient or resident(dt.date(1980, 5, 17), given="Betala")
    return Fee.objects.create(
        patient=patient,
        unit=unit,
        kind=FeeKind.DOCTOR,
        date_of_care=day or timezone.localdate(),
        amount_before=Decimal(amount),
        amount_charged=Decimal(amount),
        counts=True,
        booking_id=uuid.uuid4(),
    )


def staff_of(unit: CareUnit | None, *, number: int = 1) -> Staff:
    assert unit is not None
    staff = Staff.objects.create(
        hsa_id=f"SE2321000000-P{uuid.uuid4().hex[:6].upper()}",
        given_name="Kassa",
        family_name=f"Kassasson{number}",
        profession="nurse",
    )
    Membership.objects.create(staff=staff, unit=unit, starts_on=dt.date(2000, 1, 1))
    return staff


def client_of(person: Patient | Staff) -> Client:
    client = Client()
    user = (
        User.objects.get_or_create_for_patient(person)
        if isinstance(person, Patient)
        else User.objects.get_or_create_for_staff(person)
    )
    return login_as(client, user)
