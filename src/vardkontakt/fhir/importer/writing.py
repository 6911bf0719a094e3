"""Writing what was read, in the caller's transaction: each app's rows through its own services
(identity for residents, records for practitioners and entries), in bulk per table, and the audit
entries for it: one per patient and care unit touched, and one per entry taken back out (naming
its tombstone), each with the source system as the actor."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from vardkontakt.access.audit import AuditLine, audit_many
from vardkontakt.fhir.importer.outcomes import FhirRejected, ImportResult, Issue, Outcome
from vardkontakt.fhir.importer.reading import Batch, Planned
from vardkontakt.fhir.importer.sender import Sender
from vardkontakt.fhir.importer.vocabulary import RECORD_MODELS, WRITE_BATCH
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import LabResult, Referral, RemovedEntry, Sourced
from vardkontakt.records.services import (
    ResultCircle,
    SentEntry,
    new_results_tell,
    practitioners_save,
    record_entries_upsert,
    referral_changes_tell,
    referral_events_record,
    result_members_set,
)


def write(items: list[Planned], *, sender: Sender, batch: Batch) -> ImportResult:
    result = ImportResult()
    now = timezone.now()
    source_system = sender.source_system
    new_ids = {p.pk for p in batch.new_patients}
    by_type: dict[str, list[Planned]] = defaultdict(list)
    for item in items:
        by_type[item.resource_type].append(item)
    outcomes: dict[int, Outcome] = {}
    positions = {id(item): index for index, item in enumerate(items)}

    for item in by_type.pop("Patient", []):
        # Nothing of a known resident is written: their names come from the population register.
        patient = item.existing
        outcomes[positions[id(item)]] = Outcome("Patient", patient, patient.pk in new_ids)
    for item in by_type.pop("Organization", []):
        outcomes[positions[id(item)]] = Outcome("Organization", item.existing, False)
    practitioners = by_type.pop("Practitioner", [])
    if practitioners:
        saved = practitioners_save(
            source_system=source_system, practitioners=[(i.key, i.fields) for i in practitioners], now=now
        )
        for item, practitioner in zip(practitioners, saved, strict=True):
            outcomes[positions[id(item)]] = Outcome("Practitioner", practitioner.row, practitioner.created)

    for resource_type, group in by_type.items():
        model: type[Sourced] = RECORD_MODELS[resource_type]  # type: ignore[assignment]
        for chunk in _chunks(group, WRITE_BATCH):
            entries = [SentEntry(item.key, item.fields, item.retract) for item in chunk]
            upserted = record_entries_upsert(
                model=model, source_system=source_system, entries=entries, now=now, removed_by=sender.actor.label
            )
            for item, row in zip(chunk, upserted, strict=True):
                outcomes[positions[id(item)]] = Outcome(resource_type, row.row, row.created, retracted=row.retracted)

    _link_members(items, outcomes, positions, sender=sender)
    for index in range(len(items)):
        outcome = outcomes[index]
        result.count(outcome, _model_name(outcome))
    _audit(items, [outcomes[index] for index in range(len(items))], sender=sender)
    new_results_tell([o.obj for o in result.outcomes if o.created and isinstance(o.obj, LabResult)], now=now)
    # A referral's status history grows with each version of another status (records.ReferralEvent).
    changed = referral_events_record([o.obj for o in result.outcomes if isinstance(o.obj, Referral)], now=now)
    referral_changes_tell(changed, now=now)
    return result


def _link_members(
    items: list[Planned], outcomes: dict[int, Outcome], positions: dict[int, int], *, sender: Sender
) -> None:
    """Each report's and panel's results, once every row of the import is written: reports first,
    so a panel among them takes its own members (records.services.result_members_set)."""
    issues = []
    grouping = [item for item in items if item.members and not item.retract]
    for item in sorted(grouping, key=lambda item: item.resource_type != "DiagnosticReport"):
        panel = outcomes[positions[id(item)]].obj
        rows: list[tuple[str, LabResult]] = []
        for member in item.members:
            if member.item is not None:
                written = outcomes[positions[id(member.item)]]
                if isinstance(written.obj, LabResult) and not written.retracted:
                    rows.append((member.path, written.obj))
            elif member.row is not None:
                if member.row.source_system != sender.source_system:
                    # Another source system's rows are not this client's to group (nor to read).
                    issues.append(
                        Issue(f"{member.path}.reference", "not found (not in this Bundle, not held here)", "not-found")
                    )
                    continue
                rows.append((member.path, member.row))
        try:
            result_members_set(panel=panel, members=[row for _, row in rows])
        except ResultCircle as circle:
            where = next(path for path, row in rows if row.pk == circle.member.pk)
            issues.append(Issue(f"{where}.reference", "the results contain each other in a circle", "business-rule"))
    if issues:
        raise FhirRejected(issues)


def _model_name(outcome: Outcome) -> str:
    if outcome.retracted or outcome.obj is None:
        return outcome.resource_type
    return type(outcome.obj).__name__


@dataclass
class _Touched:
    """What one import did to one patient's data at one unit (or to the resident alone)."""

    patient: Patient
    unit: CareUnit | None
    changes: Counter[str] = field(default_factory=Counter)
    rows: list[Any] = field(default_factory=list)
    registered: bool = False

    def line(self) -> AuditLine:
        done = [f"{what}: {count}" for what, count in sorted(self.changes.items())]
        if self.registered:
            done.insert(0, "resident registered from personnummer")
        detail = "; ".join(done) or "Patient sent: nothing changed (names come from the population register)"
        only = self.rows[0] if len(self.rows) == 1 else None
        return AuditLine(self.patient, only, self.unit, detail, object_type="" if only is not None else "Bundle")


def _audit(items: list[Planned], outcomes: list[Outcome], *, sender: Sender) -> None:
    """One "fhir.import" entry per patient and unit touched, and one "fhir.remove" per entry taken
    back out (its object the tombstone); an import that touched no patient leaves one entry."""
    touched: dict[tuple[Any, Any], _Touched] = {}
    removed: list[AuditLine] = []
    other: Counter[str] = Counter()
    for item, outcome in zip(items, outcomes, strict=True):
        if item.resource_type == "Patient":
            key = (item.existing.pk, None)
            touched.setdefault(key, _Touched(item.existing, None)).registered |= outcome.created
            continue
        patient, unit = item.fields.get("patient"), item.fields.get("unit")
        if patient is None or unit is None:  # practitioners and units: no patient's data
            other[f"{item.resource_type} {_verb(outcome)}"] += 1
            continue
        if isinstance(outcome.obj, RemovedEntry):
            detail = f"{item.resource_type} {outcome.obj.entry_id} taken out of the record ({item.retract})"
            removed.append(AuditLine(patient, outcome.obj, unit, detail))
            continue
        entry = touched.setdefault((patient.pk, unit.pk), _Touched(patient, unit))
        entry.changes[f"{item.resource_type} {_verb(outcome)}"] += 1
        if outcome.obj is not None:
            entry.rows.append(outcome.obj)
    removed_patients = {line.patient.pk for line in removed if line.patient is not None}
    for (patient_pk, unit_pk), alone in list(touched.items()):
        if unit_pk is not None:
            continue
        # The resident named by a Patient resource: folded into an entry for their data, if any.
        with_data = [t for (pk, u), t in touched.items() if pk == patient_pk and u is not None]
        if with_data or (patient_pk in removed_patients and not alone.registered):
            del touched[patient_pk, unit_pk]
            if with_data:
                with_data[0].registered |= alone.registered
    lines = [t.line() for t in touched.values()]
    if not lines and not removed:
        detail = "; ".join(f"{what}: {count}" for what, count in sorted(other.items())) or "nothing"
        lines = [AuditLine(None, None, None, detail, object_type="Bundle")]
    audit_many(actor=sender.actor, action="fhir.import", lines=lines)
    audit_many(actor=sender.actor, action="fhir.remove", lines=removed)


def _verb(outcome: Outcome) -> str:
    if outcome.retracted:
        return "not held, nothing to take out"
    return "created" if outcome.created else "updated"


def _chunks(items: list[Planned], size: int) -> Iterable[list[Planned]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
