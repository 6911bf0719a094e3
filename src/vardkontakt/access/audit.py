"""The audit log: append one entry per read or write of patient data; verify the chain.

Each entry's hash covers its fields and the previous entry's hash, so a changed, removed or
inserted entry breaks the chain from that point on. The hash is keyed (HMAC-SHA256 under
settings.AUDIT_KEY, which the database does not hold), so someone who can write the database
cannot recompute the chain after rewriting an entry. Signed checkpoints outside the database
(access/checkpoints.py) pin the head, so cutting entries off the end is found too.

Appends lock the single AuditHead row, which keeps the sequence gap-free under concurrency (on
PostgreSQL a row lock; SQLite serialises writes). An append is two statements: the head read under
its lock, then the entries inserted and the head moved (on PostgreSQL one statement, a CTE). It
cannot be one: each entry's keyed hash covers the hash before it, which is read under the lock,
and the key is not in the database, so the hash is computed here in between.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from vardkontakt.access import checkpoints
from vardkontakt.access.actions import ACTION_LABELS, UnlabelledAuditAction
from vardkontakt.access.audit_keys import audit_key
from vardkontakt.access.models import AuditEntry, AuditHead, AuditOutcome, HashVersion
from vardkontakt.core.one_statement import OneStatement
from vardkontakt.core.request_id import current_request_id
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit

GENESIS = "0" * 64
HASHED_FIELDS = (
    "sequence",
    "at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "on_behalf_of_id",
    "patient_id",
    "action",
    "object_type",
    "object_id",
    "unit_id",
    "unit_label",
    "request_id",
    "outcome",
    "detail",
    "previous_hash",
)


@dataclass(frozen=True)
class Actor:
    kind: str  # patient, staff, system
    id: str
    label: str

    @classmethod
    def of_user(cls, user: User) -> Actor:
        if user.is_patient:
            patient: Patient = user.patient
            return cls("patient", str(patient.id), patient.full_name)
        staff: Staff = user.staff
        return cls("staff", str(staff.id), f"{staff.full_name}, {staff.get_profession_display()}")

    @classmethod
    def of_patient(cls, patient: Patient) -> Actor:
        return cls("patient", str(patient.id), patient.full_name)

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls("staff", str(staff.id), f"{staff.full_name}, {staff.get_profession_display()}")


SYSTEM = Actor("system", "", "Vårdkontakt")


def _canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(
        {name: values[name] for name in HASHED_FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _digest(values: dict[str, Any], version: int = HashVersion.HMAC_SHA256) -> str:
    if version == HashVersion.SHA256:  # entries written before keyed hashes (see verify_chain)
        return hashlib.sha256(_canonical(values)).hexdigest()
    return hmac.new(audit_key(), _canonical(values), hashlib.sha256).hexdigest()


def _values(entry: AuditEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["at"] = entry.at.isoformat(timespec="microseconds")
    return values


def _check_labelled(action: str) -> None:
    """The entry is written whatever happens; a missing label is said loudly (the tests make it an error)."""
    if action not in ACTION_LABELS:
        warnings.warn(f"audit action {action!r} has no label in access/actions.py", UnlabelledAuditAction, stacklevel=3)


def append_parts(statement: OneStatement, head: AuditHead, entries: list[AuditEntry]) -> OneStatement:
    """Add to ``statement`` the insert of ``entries`` (hashed, in sequence after the locked
    ``head``; its ``audit_entry`` part gives back their ids and sequences) and the move of the head
    to the last of them (PostgreSQL). The head object is moved too."""
    last = entries[-1]
    head.sequence, head.last_hash = last.sequence, last.entry_hash
    qn = connection.ops.quote_name
    moved = (
        f"UPDATE {qn(AuditHead._meta.db_table)} SET {qn('sequence')} = %s, {qn('last_hash')} = %s WHERE {qn('id')} = %s"  # noqa: S608 (names of the model)
    )
    statement.insert("audit_entry", entries, returning=("id", "sequence"))
    return statement.add("audit_head", moved, (last.sequence, last.entry_hash, head.pk))


def _append(head: AuditHead, entries: list[AuditEntry]) -> None:
    """Insert ``entries`` (hashed, in sequence after the locked ``head``) and move the head to the
    last of them. On PostgreSQL one statement: the insert in a CTE and the head's update, with
    the entries' ids given back; elsewhere (SQLite) an insert and an update."""
    if connection.vendor != "postgresql":
        last = entries[-1]
        head.sequence, head.last_hash = last.sequence, last.entry_hash
        AuditEntry.objects.bulk_create(entries)
        head.save(update_fields=["sequence", "last_hash"])
        return
    rows = append_parts(OneStatement(), head, entries).run("SELECT id, sequence FROM audit_entry")
    ids = {sequence: pk for pk, sequence in rows}
    for entry in entries:
        entry.pk = ids[entry.sequence]


def audit(
    *,
    actor: Actor,
    action: str,
    patient: Patient | None = None,
    on_behalf_of: Patient | None = None,
    obj: Any = None,
    object_type: str = "",
    unit: CareUnit | None = None,
    allowed: bool = True,
    detail: str = "",
) -> AuditEntry:
    """Append one entry. Runs in (or opens) a transaction: if the change rolls back, so does its entry."""
    # No savepoint inside the caller's transaction (two statements fewer per audited change): an
    # error here ends the whole transaction anyway, the change with its entry.
    with transaction.atomic(savepoint=False):
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        entry = entry_after(
            head,
            actor=actor,
            action=action,
            patient=patient,
            on_behalf_of=on_behalf_of,
            obj=obj,
            object_type=object_type,
            unit=unit,
            allowed=allowed,
            detail=detail,
        )
        _append(head, [entry])
        appended([entry])
    return entry


def entry_after(
    head: AuditHead,
    *,
    actor: Actor,
    action: str,
    patient: Patient | None = None,
    on_behalf_of: Patient | None = None,
    obj: Any = None,
    object_type: str = "",
    unit: CareUnit | None = None,
    allowed: bool = True,
    detail: str = "",
) -> AuditEntry:
    """The entry that follows the locked ``head`` (what audit() appends), hashed, not yet written."""
    _check_labelled(action)
    entry = AuditEntry(
        sequence=head.sequence + 1,
        at=timezone.now(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        on_behalf_of_id=str(on_behalf_of.id) if on_behalf_of and str(on_behalf_of.id) != actor.id else "",
        patient_id=str(patient.id) if patient else "",
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=str(getattr(obj, "pk", "") or "") if obj is not None else "",
        unit_id=str(unit.id) if unit else "",
        unit_label=unit.name if unit else "",
        request_id=current_request_id(),
        outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.DENIED,
        detail=detail[:500],
        previous_hash=head.last_hash,
    )
    # Hash what the database will give back: timestamps are stored to the microsecond.
    entry.entry_hash = _digest(_values(entry))
    return entry


def appended(entries: list[AuditEntry]) -> None:
    """Call after ``entries`` were appended in the current transaction: a signed checkpoint follows
    the commit when they pass one."""
    checkpoints.after_append(
        first=entries[0].sequence, last=entries[-1].sequence, last_hash=entries[-1].entry_hash, at=entries[-1].at
    )


def audit_each(
    *,
    actor: Actor,
    action: str,
    reads: list[tuple[Patient, Any]],
    unit: CareUnit | None = None,
    detail: str = "",
    for_each: bool = False,
) -> int:
    """Append one entry per (patient, object) in one lock of the head and one insert: a list page
    that shows many patients (the appointment book) logs each of them without a query per patient.

    ``for_each``: the actor is a resident acting for each patient (their calendar feed shows the
    bookings of the people they book for), so each entry names the patient as the one acted for,
    as ``audit(on_behalf_of=...)`` does (blank for the actor's own data)."""
    return audit_many(
        actor=actor,
        action=action,
        lines=[AuditLine(patient, obj, unit, detail) for patient, obj in reads],
        for_each=for_each,
    )


@dataclass(frozen=True)
class AuditLine:
    """One entry of audit_many: whose data, which object, at which unit, and what was done."""

    patient: Patient | None
    obj: Any = None
    unit: CareUnit | None = None
    detail: str = ""
    object_type: str = ""


def audit_many(*, actor: Actor, action: str, lines: list[AuditLine], for_each: bool = False) -> int:
    """Append one entry per line in one lock of the head and one insert (a FHIR import touching
    thousands of patients logs each of them without a query per patient)."""
    if not lines:
        return 0
    _check_labelled(action)
    with transaction.atomic(savepoint=False):  # as in audit()
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        now = timezone.now()
        entries = []
        for line in lines:
            patient, obj, unit = line.patient, line.obj, line.unit
            entry = AuditEntry(
                sequence=head.sequence + 1,
                at=now,
                actor_kind=actor.kind,
                actor_id=actor.id,
                actor_label=actor.label[:200],
                on_behalf_of_id=str(patient.id) if patient and for_each and str(patient.id) != actor.id else "",
                patient_id=str(patient.id) if patient else "",
                action=action,
                object_type=line.object_type or (type(obj).__name__ if obj is not None else ""),
                object_id=str(getattr(obj, "pk", "") or "") if obj is not None else "",
                unit_id=str(unit.id) if unit else "",
                unit_label=unit.name if unit else "",
                request_id=current_request_id(),
                outcome=AuditOutcome.ALLOWED,
                detail=line.detail[:500],
                previous_hash=head.last_hash,
            )
            entry.entry_hash = _digest(_values(entry))
            entries.append(entry)
            head.sequence = entry.sequence
            head.last_hash = entry.entry_hash
        _append(head, entries)
        appended(entries)
    return len(entries)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    reason: str = ""
    checkpoints: int = 0

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _entries() -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000)


def verify_chain(*, now: Any = None) -> ChainReport:
    """Walk the whole chain and the checkpoints outside the database; name the first problem.

    Found: a changed entry (its keyed hash no longer matches), a removed or inserted one (a gap or
    a wrong link), entries cut off the end (a signed checkpoint names a later entry or another
    hash), a forged or altered checkpoint, and a checkpoint that should have been written and was
    not (entries older than the checkpoint interval that no checkpoint covers).
    """
    found = checkpoints.read_checkpoints()
    if found.invalid:
        return ChainReport(0, found.invalid[0].sequence, f"checkpoint {found.invalid[0].describe()}: signature invalid")
    by_sequence = {point.sequence: point for point in found.valid}
    previous_hash = GENESIS
    expected_sequence = 1
    checked = 0
    keyed_seen = False
    last_entry: AuditEntry | None = None
    for entry in _entries():
        if entry.sequence != expected_sequence:
            return ChainReport(checked, expected_sequence, f"entry {expected_sequence} is missing")
        if entry.previous_hash != previous_hash:
            return ChainReport(checked, entry.sequence, "does not point at the entry before it")
        if entry.hash_version == HashVersion.SHA256 and keyed_seen:
            return ChainReport(checked, entry.sequence, "an unkeyed hash after keyed ones (rewritten)")
        keyed_seen = keyed_seen or entry.hash_version != HashVersion.SHA256
        if not hmac.compare_digest(_digest(_values(entry), entry.hash_version), entry.entry_hash):
            return ChainReport(checked, entry.sequence, "its content does not match its hash")
        point = by_sequence.get(entry.sequence)
        if point is not None and not hmac.compare_digest(point.entry_hash, entry.entry_hash):
            return ChainReport(
                checked, entry.sequence, f"differs from the signed checkpoint {point.describe()} (rewritten)"
            )
        previous_hash = entry.entry_hash
        expected_sequence += 1
        checked += 1
        last_entry = entry
    newest = max(found.valid, key=lambda point: point.sequence, default=None)
    if newest is not None and newest.sequence > checked:
        return ChainReport(
            checked,
            checked + 1,
            f"the log ends at entry {checked}, but the signed checkpoint {newest.describe()} shows it reached "
            f"entry {newest.sequence} (entries were cut off the end)",
            len(found.valid),
        )
    head = AuditHead.objects.filter(id=1).first()
    if head and head.sequence != checked:
        return ChainReport(checked, checked + 1, f"the head expects {head.sequence} entries", len(found.valid))
    overdue = checkpoints.first_overdue(
        covered_up_to=newest.sequence if newest else 0, entries=AuditEntry.objects.all(), now=now
    )
    if overdue is not None and last_entry is not None:
        return ChainReport(
            checked,
            overdue.sequence,
            f"checkpoint missing: entries {overdue.sequence} to {last_entry.sequence} are covered by none, "
            f"though one is written at least every {settings.AUDIT_CHECKPOINT_MINUTES} minutes "
            f"(entry {overdue.sequence} was written {overdue.at.isoformat(timespec='seconds')})",
            len(found.valid),
        )
    return ChainReport(checked, None, checkpoints=len(found.valid))
