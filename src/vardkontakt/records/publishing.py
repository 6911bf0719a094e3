"""What of a patient's record is published to them (SPEC §7), as one set of query filters.

Rules from the region (RecordRules, the seed's values by default) and the patient's own choices.
``withheld`` counts what the rules keep back, so the page can say that something is not shown
(HSLF-FS 2016:40 3:15) without saying what.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Exists, Model, Q, QuerySet
from django.utils import timezone

from vardkontakt.access.policy import age_on
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit, Region, UnitKind
from vardkontakt.records.models import (
    EARLY_HYPOTHESES,
    EARLY_HYPOTHESES_CODE,
    RecordNote,
    RecordPreferences,
    RecordRules,
    template_key,
)

NEVER_PUBLISHED_KINDS = [
    UnitKind.CHILD_PSYCHIATRY,
    UnitKind.FORENSIC_PSYCHIATRY,
    UnitKind.MATERNITY_CARE,
    UnitKind.DELIVERY_CARE,
]
RECENT_DAYS = 14

# The entry's own date: when the care it records happened (docs/record.md, "Hide the last 14 days").
OWN_DATE = {
    "RecordNote": "written_on",
    "Diagnosis": "recorded_on",
    "CareContact": "started_on",
    "LabResult": "taken_at",
    "Medicine": "dispensed_on",
    "Prescription": "prescribed_on",
    "Alert": "noted_on",
    "Vaccination": "given_on",
    "Referral": "sent_on",
}


def recent_entries(model: type[Model], now: dt.datetime) -> Q:
    """Entries about care in the last 14 days (today and the 13 days before), by their own date.

    Not by when they arrived: a historical entry imported today is not recent care, and a note
    about yesterday's visit that arrives next week is. A care contact that ended in the period
    is recent too."""
    first_day = timezone.localdate(now) - dt.timedelta(days=RECENT_DAYS - 1)
    field = OWN_DATE[model.__name__]
    if model.__name__ == "LabResult":
        since = dt.datetime.combine(first_day, dt.time.min, tzinfo=timezone.get_current_timezone())
        return Q(taken_at__gte=since)
    condition = Q(**{f"{field}__gte": first_day})
    if model.__name__ == "CareContact":
        condition |= Q(ended_on__gte=first_day)
    return condition


def rules_of(region: Region) -> RecordRules:
    """A region's publishing rules (the seed's values until the region changes them)."""
    found, _ = RecordRules.objects.get_or_create(region=region)
    return found


def preferences_of(patient: Patient) -> RecordPreferences:
    found = RecordPreferences.objects.filter(patient=patient).first()
    return found or RecordPreferences(patient=patient)


def hidden_units(patient: Patient, now: dt.datetime) -> Q:
    """Which units' data is never published to this patient, as a condition on units."""
    hidden = Q(kind__in=NEVER_PUBLISHED_KINDS) | Q(needs_harm_assessment=True)
    if age_on(patient.birth_date, now) < 18:
        hidden |= Q(kind=UnitKind.YOUTH_CLINIC)
    # Kinds a region withholds beyond the national rules, at its own units only.
    for region_id, kinds in RecordRules.objects.values_list("region_id", "extra_withheld_kinds"):
        if kinds:
            hidden |= Q(administration__region_id=region_id, kind__in=kinds)
    return hidden


def unit_filter(patient: Patient, now: dt.datetime) -> Q:
    """Rows from units whose data may be published to this patient."""
    return ~Q(unit_id__in=_unit_ids(hidden_units(patient, now)))


def _unit_ids(condition: Q) -> list[Any]:
    # Resolved first (a region has hundreds of units, a long record tens of thousands of rows), so
    # the record tables are filtered on their own (patient, unit) index without a join.
    return list(CareUnit.objects.filter(condition).values_list("pk", flat=True))


@dataclass(frozen=True)
class RegionNoteRules:
    """One region's rules for the notes of its own units (SPEC §7: each region decides)."""

    unit_ids: list[Any] | None  # None: every unit (an installation serving one region)
    notes_from: dt.date
    adult_psychiatry_from: dt.date
    template_keys: list[str]
    template_codes: list[str]

    def units(self) -> Q:
        return Q() if self.unit_ids is None else Q(unit_id__in=self.unit_ids)


@dataclass(frozen=True)
class NoteRules:
    hidden_unit_ids: list[Any]
    adult_psychiatry_ids: list[Any]
    regions: list[RegionNoteRules]

    def published(self) -> Q:
        by_region = Q(pk__in=[])
        for region in self.regions:
            by_region |= (
                region.units()
                & Q(written_on__gte=region.notes_from)
                & (~Q(unit_id__in=self.adult_psychiatry_ids) | Q(written_on__gte=region.adult_psychiatry_from))
                & ~Q(template_code__in=region.template_codes)
                & ~Q(template_key__in=region.template_keys)
            )
        return ~Q(unit_id__in=self.hidden_unit_ids) & by_region

    def probes(self) -> list[Q]:
        """The ways a note is withheld, each a condition one index answers at its first match."""
        probes = [Q(unit_id__in=self.hidden_unit_ids)]
        for region in self.regions:
            probes += [
                region.units() & Q(written_on__lt=region.notes_from),
                region.units() & Q(unit_id__in=self.adult_psychiatry_ids, written_on__lt=region.adult_psychiatry_from),
                region.units() & Q(template_code__in=region.template_codes),
                region.units() & Q(template_key__in=region.template_keys),
            ]
        return probes


def note_rules(patient: Patient, now: dt.datetime) -> NoteRules:
    """The rules for the patient's notes: each note by the rules of the region of the unit that
    wrote it."""
    regions = list(Region.objects.select_related("record_rules").order_by("name"))
    by_region = []
    for region in regions:
        region_rules = getattr(region, "record_rules", None) or RecordRules(region=region)
        unit_ids = None if len(regions) == 1 else _unit_ids(Q(administration__region=region))
        by_region.append(
            RegionNoteRules(
                unit_ids=unit_ids,
                notes_from=region_rules.notes_from,
                adult_psychiatry_from=region_rules.adult_psychiatry_notes_from,
                template_keys=sorted({template_key(t) for t in [EARLY_HYPOTHESES, *region_rules.withheld_templates]}),
                template_codes=sorted({EARLY_HYPOTHESES_CODE, *map(str, region_rules.withheld_template_codes)}),
            )
        )
    return NoteRules(
        hidden_unit_ids=_unit_ids(hidden_units(patient, now)),
        adult_psychiatry_ids=_unit_ids(Q(kind=UnitKind.ADULT_PSYCHIATRY)),
        regions=by_region,
    )


def _any_of(patient: Patient, rows: QuerySet[Any], probes: list[Q]) -> bool:
    """Whether any row meets any probe, in one query of EXISTS that each stop at their first match.

    A count of what is withheld would read the whole record on every page; the page only says
    *that* something is not shown (HSLF-FS 2016:40 3:15).
    """
    flags = {f"probe_{n}": Exists(rows.filter(probe)) for n, probe in enumerate(probes)}
    found = Patient.objects.filter(pk=patient.pk).annotate(**flags).values_list(*flags).first()
    return any(found or ())


class Published:
    """The notes a patient is shown, whether the rules keep any back, and how many unsigned wait."""

    def __init__(
        self,
        patient: Patient,
        notes: QuerySet[RecordNote],
        by_rules: QuerySet[RecordNote],
        rules: NoteRules,
        show_unsigned: bool,
        hide_recent: bool,
        now: dt.datetime,
    ) -> None:
        self.notes = notes
        self._patient, self._by_rules, self._rules, self._show_unsigned = patient, by_rules, rules, show_unsigned
        self._hide_recent, self._now = hide_recent, now

    @cached_property
    def withheld(self) -> bool:
        return _any_of(self._patient, RecordNote.objects.filter(patient=self._patient), self._rules.probes())

    @cached_property
    def hidden_by_choice(self) -> bool:
        """Whether the patient's own choice to hide the last 14 days keeps any note off the page."""
        if not self._hide_recent:
            return False
        candidates = self._by_rules if self._show_unsigned else self._by_rules.filter(signed=True)
        return candidates.filter(recent_entries(RecordNote, self._now)).exists()

    @cached_property
    def unsigned_hidden(self) -> int:
        return 0 if self._show_unsigned else self._by_rules.filter(signed=False).count()


def published_notes(patient: Patient, *, now: dt.datetime | None = None) -> Published:
    now = now or timezone.now()
    preferences = preferences_of(patient)
    note_rules_now = note_rules(patient, now)
    every = RecordNote.objects.filter(patient=patient)
    by_rules = every.filter(note_rules_now.published())
    shown = by_rules
    if not preferences.show_unsigned:
        shown = shown.filter(signed=True)
    if preferences.hide_recent:
        shown = shown.exclude(recent_entries(RecordNote, now))
    return Published(
        patient,
        shown.select_related("unit"),
        by_rules,
        note_rules_now,
        preferences.show_unsigned,
        preferences.hide_recent,
        now,
    )


def published_items(
    model: type[Model], patient: Patient, *, now: dt.datetime | None = None
) -> tuple[QuerySet[Any], bool]:
    """Diagnoses, care contacts, results and medicines: the unit rules and the 14-day choice.

    Returns the rows shown and whether the rules keep any back.
    """
    now = now or timezone.now()
    hidden_ids = _unit_ids(hidden_units(patient, now))
    every = model._default_manager.filter(patient=patient)
    shown = every.exclude(unit_id__in=hidden_ids)
    if preferences_of(patient).hide_recent:
        shown = shown.exclude(recent_entries(model, now))
    return shown.select_related("unit"), _any_of(patient, every, [Q(unit_id__in=hidden_ids)])


def hidden_by_choice(model: type[Model], patient: Patient, *, now: dt.datetime | None = None) -> bool:
    """Whether the patient's choice to hide the last 14 days keeps any of these entries off the page
    (so the page can say so: it is their own choice, not a rule)."""
    if not preferences_of(patient).hide_recent:
        return False
    now = now or timezone.now()
    every = model._default_manager.filter(patient=patient).exclude(unit_id__in=_unit_ids(hidden_units(patient, now)))
    return every.filter(recent_entries(model, now)).exists()
