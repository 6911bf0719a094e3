"""Writing what was read, in the caller's transaction: each app's rows through its own services
(identity for residents' names, records for practitioners and entries), in bulk per table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.utils import timezone

from vardkontakt.fhir.importer.outcomes import ImportResult, Outcome
from vardkontakt.fhir.importer.reading import Batch, Planned
from vardkontakt.fhir.importer.vocabulary import RECORD_MODELS, WRITE_BATCH
from vardkontakt.identity.services import patient_names_update
from vardkontakt.records.models import LabResult, Sourced
from vardkontakt.records.services import SentEntry, new_results_tell, practitioners_save, record_entries_upsert


def write(items: list[Planned], *, source_system: str, batch: Batch) -> ImportResult:
    result = ImportResult()
    now = timezone.now()
    new_ids = {p.pk for p in batch.new_patients}
    by_type: dict[str, list[Planned]] = defaultdict(list)
    for item in items:
        by_type[item.resource_type].append(item)
    outcomes: dict[int, Outcome] = {}
    positions = {id(item): index for index, item in enumerate(items)}

    for item in by_type.pop("Patient", []):
        patient = item.existing
        patient_names_update(patient=patient, **item.fields)
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
            upserted = record_entries_upsert(model=model, source_system=source_system, entries=entries, now=now)
            for item, row in zip(chunk, upserted, strict=True):
                outcomes[positions[id(item)]] = Outcome(resource_type, row.row, row.created, retracted=row.retracted)

    for index in range(len(items)):
        outcome = outcomes[index]
        result.count(outcome, type(outcome.obj).__name__ if outcome.obj is not None else outcome.resource_type)
    new_results_tell([o.obj for o in result.outcomes if o.created and isinstance(o.obj, LabResult)], now=now)
    return result


def _chunks(items: list[Planned], size: int) -> Iterable[list[Planned]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
