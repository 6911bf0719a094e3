"""Reading the rules that decide a fee: the region's schedule and settings, and whose ceiling it is.

No writes and no audit here: these are the region's published prices and the shape of a family;
the selectors and services that show or charge a person's fees audit what they do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from vardkontakt.access.models import Guardianship
from vardkontakt.fees.ceiling import ADULT_AGE, ZERO, age_exempt, age_on
from vardkontakt.fees.models import STATUTORY_CEILING, FeeKind, FeeRules, FeeSchedule, HighCostPeriod
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit, Region
from vardkontakt.organisation.selectors import region_of_patient

DEFAULT_RULES = FeeRules(ceiling=STATUTORY_CEILING)


def rules_of(region: Region | None) -> FeeRules:
    if region is None:
        return DEFAULT_RULES
    return FeeRules.objects.filter(region=region).first() or FeeRules(region=region, ceiling=STATUTORY_CEILING)


@dataclass(frozen=True)
class Price:
    amount: Decimal  # the schedule's amount, before the ceiling (0 when none or exempt by age)
    counts: bool
    age_exempt: bool
    found: bool  # whether the region has a fee of this kind at all on that day


def schedule_row(*, region: Region, kind: str, unit_kind: str, day: dt.date) -> FeeSchedule | None:
    """The row in force on ``day``: the unit kind's own, else the region's general one."""
    rows = FeeSchedule.objects.filter(region=region, kind=kind, effective_from__lte=day)
    return (
        rows.filter(unit_kind=unit_kind).order_by("-effective_from").first()
        or rows.filter(unit_kind="").order_by("-effective_from").first()
    )


def price_of(*, patient: Patient, unit: CareUnit, kind: str, day: dt.date) -> Price:
    region = unit.administration.region
    row = schedule_row(region=region, kind=kind, unit_kind=unit.kind, day=day)
    if row is None:
        return Price(ZERO, False, False, False)
    rules = rules_of(region)
    if kind == FeeKind.MISSED_VISIT:
        # The visit fees' age exemptions do not reach the missed-visit fee: the region's own age for
        # it below, and nobody old enough to be free of it (docs/fees.md, "Missed visits").
        exempt = age_exempt(
            born=patient.birth_date, day=day, free_under=rules.missed_visit_fee_age_exempt_under, free_from=0
        )
    else:
        exempt = age_exempt(
            born=patient.birth_date, day=day, free_under=rules.free_under_age, free_from=rules.free_from_age
        )
    return Price(ZERO if exempt else row.amount, row.counts_toward_ceiling, exempt, True)


def _family_key(child: Patient) -> str | None:
    guardians = sorted(
        str(g)
        for g in Guardianship.objects.filter(child=child, ended_at__isnull=True).values_list("guardian_id", flat=True)
    )
    if not guardians:
        return None
    return "family:" + hashlib.sha256(",".join(guardians).encode()).hexdigest()[:40]


def holder_key(patient: Patient, day: dt.date) -> str:
    """Whose ceiling a fee of ``patient`` on ``day`` counts toward (docs/fees.md, "Family").

    A child under 18 shares the ceiling of all children of exactly the same guardians. Someone of 18
    or more counts toward their own, except on the days of a family period that began while they
    were under 18: they keep that period (and its frikort) to its end.
    """
    family = _family_key(patient)
    if family is not None:
        if age_on(patient.birth_date, day) < ADULT_AGE:
            return family
        kept = HighCostPeriod.objects.filter(holder__key=family, start__lte=day, end__gte=day).first()
        if kept is not None and age_on(patient.birth_date, kept.start) < ADULT_AGE:
            return family
    return f"person:{patient.pk}"


def ceiling_of(patient: Patient) -> Decimal:
    """The ceiling of the patient's own region (at most the statutory maximum)."""
    return min(rules_of(region_of_patient(patient)).ceiling, STATUTORY_CEILING)


@dataclass(frozen=True)
class Schedule:
    in_force: list[FeeSchedule]  # per fee kind and kind of unit, the row in force on the day
    coming: list[FeeSchedule]  # the changes from a later day, soonest first


def schedule_of(region: Region, day: dt.date) -> Schedule:
    """The region's published fees on ``day`` and the changes decided for later days."""
    rows = list(FeeSchedule.objects.filter(region=region).order_by("kind", "unit_kind", "-effective_from"))
    in_force: dict[tuple[str, str], FeeSchedule] = {}
    for row in rows:
        if row.effective_from <= day:
            in_force.setdefault((row.kind, row.unit_kind), row)
    coming = sorted((r for r in rows if r.effective_from > day), key=lambda r: (r.effective_from, r.kind, r.unit_kind))
    return Schedule(in_force=list(in_force.values()), coming=coming)
