"""A small region of its own for the fee rules: one unit, residents of any age, families."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from vardkontakt.access.models import Guardianship
from vardkontakt.demo.demo_data import personnummer
from vardkontakt.fees.models import FeeKind, FeeRules, FeeSchedule
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import Administration, CareUnit, Region, UnitKind

_serials = itertools.count(1)


def region_with_fees(
    *,
    name: str = "Region Avgiftsland",
    ceiling: Decimal = Decimal("1400"),
    free_under: int = 0,
    free_from: int = 0,
    doctor: Decimal = Decimal("200"),
    since: dt.date = dt.date(2000, 1, 1),
) -> CareUnit:
    """A region whose doctor visit costs ``doctor`` (counts), a missed visit 400 and a certificate
    300 (neither counts), from ``since``; and one primary care unit in it."""
    region = Region.objects.create(name=name)
    FeeRules.objects.create(region=region, ceiling=ceiling, free_under_age=free_under, free_from_age=free_from)
    FeeSchedule.objects.create(region=region, kind=FeeKind.DOCTOR, amount=doctor, effective_from=since)
    FeeSchedule.objects.create(
        region=region,
        kind=FeeKind.MISSED_VISIT,
        amount=Decimal("400"),
        counts_toward_ceiling=False,
        effective_from=since,
    )
    FeeSchedule.objects.create(
        region=region,
        kind=FeeKind.CERTIFICATE,
        amount=Decimal("300"),
        counts_toward_ceiling=False,
        effective_from=since,
    )
    administration = Administration.objects.create(region=region, name=f"{name} förvaltning")
    return CareUnit.objects.create(
        administration=administration,
        hsa_id=f"SE2321000000-F{next(_serials):04d}",
        name=f"Vårdcentralen {name}",
        kind=UnitKind.PRIMARY_CARE,
    )


def resident(born: dt.date, given: str = "Test") -> Patient:
    """An invented resident born on ``born`` (a valid personnummer with a serial of its own)."""
    serial = 100 + next(_serials) % 800
    return Patient.objects.create(personnummer=personnummer(born, serial), given_name=given, family_name="Avgiftsson")


def guardian_of(child: Patient, *guardians: Patient) -> None:
    for guardian in guardians:
        Guardianship.objects.create(guardian=guardian, child=child, imported_at=timezone.now())
