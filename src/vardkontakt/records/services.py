from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from vardkontakt.identity.models import Patient
from vardkontakt.records.models import (
    LabResult,
    Practitioner,
    RecordPreferences,
    Referral,
    ReferralEvent,
    RemovedEntry,
    Sourced,
)
from vardkontakt.records.notices import notify_new_results, notify_referral_status


def record_preferences_save(
    *, patient: Patient, show_unsigned: bool, hide_recent: bool, notify_new_results: bool = False
) -> RecordPreferences:
    """The patient's own choices about their record view (never made for them by a proxy)."""
    preferences, _ = RecordPreferences.objects.update_or_create(
        patient=patient,
        defaults={"show_unsigned": show_unsigned, "hide_recent": hide_recent, "notify_new_results": notify_new_results},
    )
    return preferences


# --- entries sent by the region's source systems (the FHIR import calls these) -----------------


@dataclass(frozen=True)
class SentEntry:
    """One record entry as a source system sent it: its business identifier, the row's fields,
    and the status that takes the row back out ("entered-in-error" and the like; blank when it does not)."""

    source_id: str
    fields: dict[str, Any]
    retract: str = ""


@dataclass(frozen=True)
class EntryWritten:
    row: Any  # the row; when the entry took it out of the record, its tombstone (None if never held)
    created: bool
    retracted: bool = False


# Fewer new rows than this go by bulk_create: COPY pays off on an import's hundreds and thousands.
COPY_FROM = 50


def _insert_new(model: type[Sourced], rows: list[Any]) -> None:
    """New rows of a record table, in one statement. On PostgreSQL by COPY: an import's new rows
    were half its writing time in ``bulk_create``, compiling one INSERT and quoting its value
    arrays on the client (docs/benchmarks.md, record). Each value is prepared by its field as
    bulk_create prepares it; the primary keys are made in Python (UUIDs), so nothing needs to come
    back. Constraints and triggers hold for COPY as for INSERT."""
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        model._default_manager.bulk_create(rows)
        return
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields])
    for row in rows:  # as bulk_create leaves them: saved, no longer new
        row._state.adding = False
        row._state.db = connection.alias


def record_entries_upsert(
    *, model: type[Sourced], source_system: str, entries: list[SentEntry], now: dt.datetime, removed_by: str
) -> list[EntryWritten]:
    """Write one table's entries by business identifier (source system, source id): one lookup,
    then bulk create, update and delete. An identical re-send writes nothing; every entry of the
    list must carry the same fields. Call inside the caller's transaction.

    An entry taken back out is deleted with its content, and leaves a RemovedEntry (tombstone)
    saying it existed and that ``removed_by`` removed it now; the caller audits both."""
    manager: Any = model._default_manager
    existing = {
        row.source_id: row
        for row in manager.filter(source_system=source_system, source_id__in=[e.source_id for e in entries])
    }
    written: list[EntryWritten] = []
    to_create: list[Any] = []
    to_update: list[Any] = []
    to_delete: list[Any] = []
    tombstones: list[RemovedEntry] = []
    for entry in entries:
        row = existing.get(entry.source_id)
        if entry.retract:
            tombstone = None
            if row is not None:
                to_delete.append(row.pk)
                tombstone = _tombstone(row, reason=entry.retract, now=now, removed_by=removed_by)
                tombstones.append(tombstone)
            written.append(EntryWritten(tombstone, created=False, retracted=True))
        elif row is None:
            row = model(source_system=source_system, source_id=entry.source_id, received_at=now, **entry.fields)
            to_create.append(row)
            written.append(EntryWritten(row, created=True))
        else:
            if _differs(row, entry.fields):
                for name, value in entry.fields.items():
                    setattr(row, name, value)
                to_update.append(row)
            written.append(EntryWritten(row, created=False))
    _insert_new(model, to_create)
    if to_update:
        # An upsert on the business identifier: one statement, where bulk_update would build a
        # CASE per field per row (25 times slower on a 10,000-row re-import, bench/record.py).
        manager.bulk_create(
            to_update,
            update_conflicts=True,
            unique_fields=["source_system", "source_id"],
            update_fields=list(entries[0].fields),
        )
    if to_delete:
        manager.filter(pk__in=to_delete).delete()
        RemovedEntry.objects.bulk_create(tombstones)
    return written


def _tombstone(row: Any, *, reason: str, now: dt.datetime, removed_by: str) -> RemovedEntry:
    return RemovedEntry(
        patient_id=row.patient_id,
        unit_id=row.unit_id,
        kind=type(row).__name__,
        entry_id=row.pk,
        source_system=row.source_system,
        source_id=row.source_id,
        entry_received_at=row.received_at,
        reason=reason[:32],
        removed_at=now,
        removed_by=removed_by[:200],
    )


def _differs(row: Any, fields: dict[str, Any]) -> bool:
    for name, value in fields.items():
        if isinstance(value, models.Model):
            if getattr(row, f"{name}_id") != value.pk:
                return True
        elif getattr(row, name) != value:
            return True
    return False


def practitioners_save(
    *, source_system: str, practitioners: list[tuple[str, dict[str, Any]]], now: dt.datetime
) -> list[EntryWritten]:
    """Practitioners the source systems name as authors, by HSA-id: created or brought up to date."""
    known = {p.hsa_id: p for p in Practitioner.objects.filter(hsa_id__in=[hsa for hsa, _ in practitioners])}
    written = []
    for hsa_id, fields in practitioners:
        found = known.get(hsa_id)
        practitioner = found or Practitioner(hsa_id=hsa_id)
        for name, value in {**fields, "source_system": source_system, "received_at": now}.items():
            setattr(practitioner, name, value)
        practitioner.save()
        written.append(EntryWritten(practitioner, created=found is None))
    return written


class ResultCircle(Exception):
    """A result would become a member of itself (directly or through its own panels)."""

    def __init__(self, member: LabResult) -> None:
        super().__init__(f"{member.pk} is the panel itself or one of its panels")
        self.member = member


def result_members_set(*, panel: LabResult, members: list[LabResult]) -> None:
    """The results a report or panel groups (DiagnosticReport.result, Observation.hasMember), as
    sent now: those it no longer lists leave it. A panel always takes its members; a report
    leaves a result that is already in an Observation panel there (the report lists the panel
    and its members alike; the page shows each result once, in its narrowest group). Raises
    ResultCircle, writing nothing, when a member is the panel or one of the panels it is in.
    Call inside the caller's transaction."""
    above: set[Any] = set()
    node_id: Any = panel.pk
    while node_id is not None and node_id not in above:
        above.add(node_id)
        node_id = LabResult.objects.filter(pk=node_id).values_list("panel_id", flat=True).first()
    for member in members:
        if member.pk in above:
            raise ResultCircle(member)
    in_panels: set[Any] = set()
    if panel.report:
        elsewhere = {m.panel_id for m in members if m.panel_id not in (None, panel.pk)}
        in_panels = set(LabResult.objects.filter(pk__in=elsewhere, report=False).values_list("pk", flat=True))
    taken = [m for m in members if m.panel_id not in in_panels]
    LabResult.objects.filter(panel=panel).exclude(pk__in=[m.pk for m in members]).update(panel=None)
    LabResult.objects.filter(pk__in=[m.pk for m in taken]).exclude(panel=panel).update(panel=panel)
    for member in taken:
        member.panel_id = panel.pk


def new_results_tell(results: list[LabResult], *, now: dt.datetime) -> int:
    """A content-free notice per patient who chose it, for new results they will be able to see."""
    return notify_new_results(results, now=now) if results else 0


def referral_events_record(referrals: list[Referral], *, now: dt.datetime) -> list[Referral]:
    """A referral's status history: each version that arrives with another status than the last
    one recorded adds an event (an identical re-send adds none). Returns the referrals whose status
    changed (not those that arrived for the first time), whose patients may get a notice."""
    if not referrals:
        return []
    last: dict[Any, str] = {}
    for event in ReferralEvent.objects.filter(referral__in=referrals).order_by("at", "received_at"):
        last[event.referral_id] = event.status
    events, changed = [], []
    for referral in referrals:
        previous = last.get(referral.pk)
        if previous == referral.status:
            continue
        events.append(
            ReferralEvent(referral=referral, status=referral.status, at=referral.version_at or now, received_at=now)
        )
        if previous is not None:
            changed.append(referral)
    ReferralEvent.objects.bulk_create(events)
    return changed


def referral_changes_tell(referrals: list[Referral], *, now: dt.datetime) -> int:
    """A content-free notice per patient whose referral changed status, when they may see it."""
    return notify_referral_status(referrals, now=now) if referrals else 0
