"""Every read of a person's fees and frikort, through the policy and into the log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404
from django.utils import timezone

from vardkontakt.access import policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.fees import ceiling, frikort_code, rules
from vardkontakt.fees.models import Fee, Frikort, HighCostPeriod
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit

HIGH_COST_READ = "fees.highcost.read"
FRIKORT_VERIFY = "fees.frikort.verify"


@dataclass(frozen=True)
class HighCost:
    subject: Patient
    ceiling: Decimal
    period: HighCostPeriod | None
    used: Decimal
    remaining: Decimal
    shared: bool  # the children of the same guardians share this ceiling
    fees: list[Fee] = field(default_factory=list)  # what counted in the period (a sibling's unnamed)
    not_counted: list[Fee] = field(default_factory=list)  # the subject's fees that do not count
    frikort: Frikort | None = None
    code: str = ""


def high_cost_for_reader(*, reader: Patient, subject: Patient, now: dt.datetime | None = None) -> HighCost:
    """The subject's current period, what has counted, what remains and the frikort with its code.

    Who may: the person, a guardian (while they may act for the child) and a proxy with the
    bookings scope (fees belong to visits). Anyone else: 404, nothing logged."""
    now = now or timezone.now()
    if not policy.can_act_for(reader, subject, policy.Scope.BOOKINGS, now=now):
        raise Http404
    today = timezone.localdate(now)
    key = rules.holder_key(subject, today)
    period = (
        HighCostPeriod.objects.filter(holder__key=key, start__lte=today, end__gte=today)
        .select_related("frikort")
        .first()
    )
    own_ceiling = rules.ceiling_of(subject)
    fees: list[Fee] = []
    not_counted: list[Fee] = []
    card = None
    code = ""
    if period is not None:
        fees = list(period.fees.select_related("unit").order_by("date_of_care", "created_at"))
        not_counted = list(
            Fee.objects.filter(patient=subject, counts=False, date_of_care__range=(period.start, period.end))
            .select_related("unit")
            .order_by("date_of_care")
        )
        card = getattr(period, "frikort", None)
        if card is not None:
            code = frikort_code.code_for(
                frikort_id=card.id,
                personnummer=subject.personnummer,
                valid_from=card.valid_from,
                valid_until=card.valid_until,
            )
    used = period.used if period else ceiling.ZERO
    limit = period.ceiling if period else own_ceiling
    audit(
        actor=Actor.of_patient(reader),
        action=HIGH_COST_READ,
        patient=subject,
        on_behalf_of=subject,
        obj=period,
        object_type="HighCostPeriod",
    )
    return HighCost(
        subject=subject,
        ceiling=limit,
        period=period,
        used=used,
        remaining=max(limit - used, ceiling.ZERO),
        shared=key.startswith("family:"),
        fees=fees,
        not_counted=not_counted,
        frikort=card,
        code=code,
    )


@dataclass(frozen=True)
class Verification:
    reading: frikort_code.Reading
    patient: Patient | None


def frikort_verify(*, staff: Staff, code: str, now: dt.datetime | None = None) -> Verification:
    """What a frikort code says, for any unit's staff. The signature decides; a card this
    installation holds must also still exist (a code of a card since removed is refused as not
    genuine). A genuine code's person is logged as read by the staff member."""
    now = now or timezone.now()
    reading = frikort_code.read(code, today=timezone.localdate(now))
    if reading.verdict is frikort_code.Verdict.FORGED or reading.frikort_id is None:
        return Verification(reading, None)
    if not Frikort.objects.filter(pk=reading.frikort_id).exists():
        return Verification(frikort_code.Reading(frikort_code.Verdict.FORGED), None)
    patient = Patient.objects.filter(personnummer=reading.personnummer).first()
    if patient is not None:
        audit(
            actor=Actor.of_staff(staff),
            action=FRIKORT_VERIFY,
            patient=patient,
            object_type="Frikort",
            detail=reading.verdict.value,
        )
    return Verification(reading, patient)


@dataclass(frozen=True)
class Quote:
    """The fee a person would be charged for a visit, as the booking pages show it."""

    amount: Decimal
    scheduled: bool  # the region has a fee of this kind: otherwise the visit type's own figure is shown
    frikort: bool = False
    age_exempt: bool = False


def fee_quote(*, patient: Patient, unit: CareUnit, kind: str, day: dt.date) -> Quote:
    """The fee shown before and after booking: the schedule's on the day of care, reduced to what
    remains of the ceiling, 0 with a frikort valid that day. Not logged: it is shown to the person
    (or whom they act for) on pages whose selectors have already asked the policy."""
    price = rules.price_of(patient=patient, unit=unit, kind=kind, day=day)
    if not price.found:
        return Quote(ceiling.ZERO, False)
    if price.age_exempt or not price.counts or price.amount == 0:
        return Quote(price.amount, True, age_exempt=price.age_exempt)
    period = (
        HighCostPeriod.objects.filter(holder__key=rules.holder_key(patient, day), start__lte=day, end__gte=day)
        .select_related("frikort")
        .first()
    )
    if period is None:
        return Quote(price.amount, True)
    card = getattr(period, "frikort", None)
    if card is not None and card.valid_from <= day:
        return Quote(ceiling.ZERO, True, frikort=True)
    return Quote(ceiling.charge(before=price.amount, counts=True, used=period.used, ceiling=period.ceiling), True)


def patient_for_fee_registration(*, personnummer: str) -> Patient | None:
    """The resident a fee paid elsewhere is registered for, by the personnummer on the receipt
    (already normalised by the form); None for someone the e-services do not hold."""
    return Patient.objects.filter(personnummer=personnummer).first()
