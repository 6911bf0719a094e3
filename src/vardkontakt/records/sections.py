"""The sections of Journalen beside notes and results (issue 21): prescriptions in the medication
list, "Uppmärksamhetsinformation" (alerts), "Vaccinationer" and "Mina remisser".

Every row comes from ``publishing.published_items`` (the unit-kind exclusions, the harm
assessment, the 14-day choice), after the view has opened the record through its one door
(``selectors.open_record``: the policy, guardians and proxies, the seal, one audit entry). This
module only shapes what to show: the dispensings left on a prescription, which prescriptions can
be renewed (the rule in docs/record.md), alerts critical first, a referral's status history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from vardkontakt.identity.models import Patient
from vardkontakt.records import publishing
from vardkontakt.records.models import Alert, Medicine, Prescription, PrescriptionStatus, Referral, Vaccination

# A Swedish prescription is valid for a year unless it says otherwise (dispenseRequest.validityPeriod).
VALIDITY = dt.timedelta(days=365)
# Offered for renewal when it runs out within this many days, or has at most this many dispensings left ...
RENEW_BEFORE_END = dt.timedelta(days=60)
RENEW_WHEN_LEFT = 1
# ... and not when it ended longer ago than this: that is a new prescription, not a renewal.
RENEW_AFTER_END = dt.timedelta(days=365)
CURRENT = (PrescriptionStatus.ACTIVE, PrescriptionStatus.ON_HOLD)
EARLIER_SHOWN = 50


@dataclass(frozen=True)
class PrescriptionRow:
    prescription: Prescription
    dispensed: int  # dispensings made on it
    left: int | None  # None: the prescription does not say how many are allowed
    expires: dt.date
    renewable: bool


def expires_on(prescription: Prescription) -> dt.date:
    return prescription.valid_until or prescription.prescribed_on + VALIDITY


def dispensings_left(prescription: Prescription, dispensed: int) -> int | None:
    """FHIR's numberOfRepeatsAllowed counts the dispensings *after* the first, so a prescription
    with 2 repeats allows 3 in all."""
    if prescription.repeats_allowed is None:
        return None
    return max(0, prescription.repeats_allowed + 1 - dispensed)


def may_renew(prescription: Prescription, left: int | None, today: dt.date) -> bool:
    """The rule of docs/record.md ("Förnya recept"): active or ended by being used up (completed),
    not paused or stopped by the prescriber; running out (at most one dispensing left, or its
    validity ends within 60 days, or completed); and ended at most a year ago."""
    if prescription.status not in (PrescriptionStatus.ACTIVE, PrescriptionStatus.COMPLETED):
        return False
    expires = expires_on(prescription)
    if expires < today - RENEW_AFTER_END:
        return False
    running_out = (
        prescription.status == PrescriptionStatus.COMPLETED
        or (left is not None and left <= RENEW_WHEN_LEFT)
        or expires <= today + RENEW_BEFORE_END
    )
    return running_out


def prescription_rows(patient: Patient, prescriptions: Iterable[Prescription], today: dt.date) -> list[PrescriptionRow]:
    found = list(prescriptions)
    counts = dict(
        Medicine.objects.filter(patient=patient, current=True, prescription_source_id__in=[p.source_id for p in found])
        .values_list("prescription_source_id")
        .annotate(n=Count("pk"))
    )
    rows = []
    for prescription in found:
        dispensed = counts.get(prescription.source_id, 0)
        left = dispensings_left(prescription, dispensed)
        rows.append(
            PrescriptionRow(
                prescription, dispensed, left, expires_on(prescription), may_renew(prescription, left, today)
            )
        )
    return rows


@dataclass(frozen=True)
class Medication:
    current: list[PrescriptionRow]
    earlier: list[PrescriptionRow]
    withheld: bool
    hidden_by_choice: bool


def medication_of(subject: Patient, *, now: dt.datetime | None = None) -> Medication:
    """The prescriptions of the medication list: current (active or paused) and the latest ended."""
    now = now or timezone.now()
    published, withheld = publishing.published_items(Prescription, subject, now=now)
    today = timezone.localdate(now)
    current = prescription_rows(subject, published.filter(status__in=CURRENT), today)
    earlier = prescription_rows(
        subject, published.exclude(status__in=CURRENT).order_by("-prescribed_on")[:EARLIER_SHOWN], today
    )
    return Medication(current, earlier, withheld, publishing.hidden_by_choice(Prescription, subject, now=now))


def renewable_prescriptions(subject: Patient, *, now: dt.datetime | None = None) -> list[PrescriptionRow]:
    """What the renew-prescription form offers from the prescriptions (the caller opened the record)."""
    now = now or timezone.now()
    published, _withheld = publishing.published_items(Prescription, subject, now=now)
    candidates = published.filter(status__in=[PrescriptionStatus.ACTIVE, PrescriptionStatus.COMPLETED])
    return [row for row in prescription_rows(subject, candidates, timezone.localdate(now)) if row.renewable]


def shown_alerts(items: QuerySet[Alert]) -> QuerySet[Alert]:
    """Active alerts, a critical allergy first, then the newest (refuted ones were never kept)."""
    return items.filter(active=True).order_by("-critical", "-noted_on", "text")


def shown_referrals(items: QuerySet[Referral]) -> QuerySet[Referral]:
    return items.prefetch_related("events")


def shown_vaccinations(items: QuerySet[Vaccination]) -> QuerySet[Vaccination]:
    return items.order_by("-given_on", "vaccine")


def section_extras(name: str, subject: Patient, items: QuerySet[Any]) -> tuple[QuerySet[Any], dict[str, Any]]:
    """The section's rows as shown, and what else its page needs (the medication list's prescriptions)."""
    if name == "alerts":
        return shown_alerts(items), {}
    if name == "referrals":
        return shown_referrals(items), {}
    if name == "vaccinations":
        return shown_vaccinations(items), {}
    if name == "medicines":
        return items, {"medication": medication_of(subject)}
    return items, {}
