"""What of a patient's record is published to them (SPEC §7), as one set of query filters.

Rules from the region (RecordRules, the seed's values by default) and the patient's own choices.
``withheld`` counts what the rules keep back, so the page can say that something is not shown
(HSLF-FS 2016:40 3:15) without saying what.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from vardkontakt.access.policy import age_on
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import Region, UnitKind
from vardkontakt.records.models import EARLY_HYPOTHESES, RecordNote, RecordPreferences, RecordRules

NEVER_PUBLISHED_KINDS = [
    UnitKind.CHILD_PSYCHIATRY,
    UnitKind.FORENSIC_PSYCHIATRY,
    UnitKind.MATERNITY_CARE,
    UnitKind.DELIVERY_CARE,
]
RECENT = dt.timedelta(days=14)


def rules() -> RecordRules:
    region = Region.objects.order_by("name").first()
    if region is None:
        return RecordRules()
    found, _ = RecordRules.objects.get_or_create(region=region)
    return found


def preferences_of(patient: Patient) -> RecordPreferences:
    found = RecordPreferences.objects.filter(patient=patient).first()
    return found or RecordPreferences(patient=patient)


def unit_filter(patient: Patient, now: dt.datetime) -> Q:
    """Units whose data is never published to this patient."""
    hidden = Q(unit__kind__in=NEVER_PUBLISHED_KINDS) | Q(unit__needs_harm_assessment=True)
    if age_on(patient.birth_date, now) < 18:
        hidden |= Q(unit__kind=UnitKind.YOUTH_CLINIC)
    return ~hidden


def note_rule_filter(patient: Patient, now: dt.datetime, region_rules: RecordRules) -> Q:
    withheld_templates = [EARLY_HYPOTHESES, *region_rules.withheld_templates]
    return (
        unit_filter(patient, now)
        & Q(written_on__gte=region_rules.notes_from)
        & (~Q(unit__kind=UnitKind.ADULT_PSYCHIATRY) | Q(written_on__gte=region_rules.adult_psychiatry_notes_from))
        & ~Q(template__in=withheld_templates)
    )


@dataclass(frozen=True)
class Published:
    notes: QuerySet[RecordNote]
    withheld: int  # kept back by the rules (not by the patient's own choices)
    unsigned_hidden: int


def published_notes(patient: Patient, *, now: dt.datetime | None = None) -> Published:
    now = now or timezone.now()
    region_rules = rules()
    preferences = preferences_of(patient)
    every = RecordNote.objects.filter(patient=patient)
    by_rules = every.filter(note_rule_filter(patient, now, region_rules))
    shown = by_rules
    if not preferences.show_unsigned:
        shown = shown.filter(signed=True)
    if preferences.hide_recent:
        shown = shown.filter(received_at__lt=now - RECENT)
    return Published(
        notes=shown.select_related("unit"),
        withheld=every.count() - by_rules.count(),
        unsigned_hidden=0 if preferences.show_unsigned else by_rules.filter(signed=False).count(),
    )


def published_items(
    model: type[Model], patient: Patient, *, now: dt.datetime | None = None
) -> tuple[QuerySet[Any], int]:
    """Diagnoses, care contacts, results and medicines: the unit rules and the 14-day choice."""
    now = now or timezone.now()
    every = model._default_manager.filter(patient=patient)
    by_rules = every.filter(unit_filter(patient, now))
    shown = by_rules
    if preferences_of(patient).hide_recent:
        shown = shown.filter(received_at__lt=now - RECENT)
    return shown.select_related("unit"), every.count() - by_rules.count()
