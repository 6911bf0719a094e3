"""Signed checkpoints of the audit log, kept outside the database.

A checkpoint is one JSON line: the head's sequence number and entry hash, when it was taken, and
an HMAC signature under a key derived from the audit key (access/audit_keys.py). Lines are
appended to ``checkpoints.jsonl`` in settings.AUDIT_CHECKPOINT_DIR (opened O_APPEND, synced to
disk) and logged on the ``vardkontakt.audit.checkpoint`` logger, so a copy also reaches the central
log. Someone who can change the database but not these files cannot cut entries off the end of
the log, or rewrite and rechain it with the key, without ``audit_verify`` noticing.

One is written when an append crosses a multiple of AUDIT_CHECKPOINT_EVERY (after the commit),
and by the worker (``checkpoint_if_due`` on the heartbeat) when the log has grown and the newest
checkpoint is older than AUDIT_CHECKPOINT_MINUTES.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from vardkontakt.access.audit_keys import checkpoint_key

logger = logging.getLogger("vardkontakt.audit.checkpoint")
FILE_NAME = "checkpoints.jsonl"
_SIGNED = ("sequence", "entry_hash", "entry_at", "written_at")
_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    entry_hash: str
    entry_at: str
    written_at: str
    signature: str

    def payload(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SIGNED}

    def describe(self) -> str:
        return f"of entry {self.sequence} written {self.written_at}"

    @property
    def valid(self) -> bool:
        return hmac.compare_digest(_sign(self.payload()), self.signature)


@dataclass
class Found:
    valid: list[Checkpoint] = field(default_factory=list)
    invalid: list[Checkpoint] = field(default_factory=list)


def _sign(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(checkpoint_key(), canonical, hashlib.sha256).hexdigest()


def path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / FILE_NAME


def write_checkpoint(*, sequence: int, entry_hash: str, entry_at: dt.datetime) -> Checkpoint:
    point = Checkpoint(
        sequence=sequence,
        entry_hash=entry_hash,
        entry_at=entry_at.isoformat(timespec="microseconds"),
        written_at=timezone.now().isoformat(timespec="seconds"),
        signature="",
    )
    payload = point.payload()
    point = dataclasses.replace(point, signature=_sign(payload))
    line = json.dumps({**payload, "signature": point.signature}, sort_keys=True) + "\n"
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))  # one write of one short line: appended whole
        os.fsync(fd)
    finally:
        os.close(fd)
    logger.info("audit checkpoint %s", line.strip())
    return point


def _write_safely(sequence: int, entry_hash: str, entry_at: dt.datetime) -> None:
    """After the commit the entries are in: a checkpoint that cannot be written must not fail the
    request. It is logged, and audit_verify reports the missing checkpoint until the worker's next."""
    try:
        write_checkpoint(sequence=sequence, entry_hash=entry_hash, entry_at=entry_at)
    except OSError:
        logger.exception("could not write the audit checkpoint of entry %d to %s", sequence, path())


def after_append(*, first: int, last: int, last_hash: str, at: dt.datetime) -> None:
    """Called by every append (inside its transaction): entries first..last were just added."""
    every = settings.AUDIT_CHECKPOINT_EVERY
    if (first - 1) // every != last // every:
        transaction.on_commit(lambda: _write_safely(last, last_hash, at))


def _parse(line: str) -> Checkpoint | None:
    try:
        data = json.loads(line)
        return Checkpoint(
            sequence=int(data["sequence"]),
            entry_hash=str(data["entry_hash"]),
            entry_at=str(data["entry_at"]),
            written_at=str(data["written_at"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def read_checkpoints(*, tail: bool = False) -> Found:
    """Every checkpoint in the file, sorted into valid and invalid (bad signature or malformed).
    With ``tail`` only the last lines (what the worker needs to know the newest)."""
    found = Found()
    target = path()
    if not target.exists():
        return found
    with target.open("rb") as handle:
        if tail:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
        raw = handle.read().decode("utf-8", errors="replace")
    lines = raw.splitlines()
    if tail and len(raw.encode("utf-8")) >= _TAIL_BYTES:
        lines = lines[1:]  # the first may be cut in the middle
    for line in lines:
        if not line.strip():
            continue
        point = _parse(line)
        if point is None:
            found.invalid.append(Checkpoint(0, "", "", "(an unreadable line)", ""))
        elif point.valid:
            found.valid.append(point)
        else:
            found.invalid.append(point)
    return found


def overdue_after() -> dt.timedelta:
    """How old an entry may be without a checkpoint covering it: the worker's interval, its
    heartbeat and a minute of grace."""
    return dt.timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES + 1, seconds=settings.WORKER_HEARTBEAT_SECONDS)


def first_overdue(*, covered_up_to: int, entries: QuerySet[Any], now: dt.datetime | None = None) -> Any:
    """The first entry past the newest checkpoint, if it is older than a checkpoint may wait."""
    first = entries.filter(sequence__gt=covered_up_to).order_by("sequence").first()
    if first is not None and first.at < (now or timezone.now()) - overdue_after():
        return first
    return None


def checkpoint_if_due(*, now: dt.datetime | None = None) -> Checkpoint | None:
    """On the worker heartbeat: a checkpoint of the head when the log has grown since the newest
    one and that one is older than AUDIT_CHECKPOINT_MINUTES (or there is none)."""
    from vardkontakt.access.models import AuditEntry, AuditHead

    now = now or timezone.now()
    head = AuditHead.objects.filter(id=1).first()
    if head is None or head.sequence == 0:
        return None
    newest = max(read_checkpoints(tail=True).valid, key=lambda point: point.sequence, default=None)
    if newest is not None:
        if newest.sequence >= head.sequence:
            return None
        written = dt.datetime.fromisoformat(newest.written_at)
        if now - written < dt.timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES):
            return None
    entry = AuditEntry.objects.filter(sequence=head.sequence).first()
    if entry is None:
        return None
    return write_checkpoint(sequence=entry.sequence, entry_hash=entry.entry_hash, entry_at=entry.at)
