"""The online booking in three statements on PostgreSQL (issue 20: what a booking costs the shared
database and the web server).

``services.booking_create_online`` judges; this module reads and writes for it, one statement per
step instead of one per row:

1. **The locks** (:func:`locked`): the person booked for (their web bookings are counted against
   the unit's limit one booking at a time) and the slot (every booking of a slot queues on its
   row), in one statement, the slot read with its unit, the unit's booking rules and the visit
   type. Only these two rows are locked. Only online bookings lock a person, each one person and
   one slot, so no two of them can wait for each other in a cycle, whatever order the statement
   takes the two locks in.
2. **What the locks protect, read after them** (:func:`seen_under_locks`), in a statement of its
   own so that it sees what committed while the locks were waited for: the slot's active bookings,
   a booking of it with this submission key (a double click's first booking), an open
   earlier-time offer on it, the person's coming web bookings of its visit type, and the push
   devices of whoever will be told. Where the slot is free, the audit chain's head is locked and
   read in the same statement (a taken slot, answered 409 in a rush, never waits for it).
3. **The writes** (:func:`written`): the booking, its notices, their deliveries and task, the
   audit entry with the head moved, and the change feed's number and row.

A refusal found after statement 2 (the time taken, a rule) ends the transaction with COMMIT, not
ROLLBACK, not waited for on disk (:func:`commit_unwaited` says why).

With the page's one read, a booking is six statements with BEGIN and COMMIT (the bare SQL
transaction of bench/booking_rush.sql is six too). SQLite takes the ORM's way in services.py, a
statement per step; both ways share the rules, the rows' contents and the tests.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Model

from vardkontakt.access.audit import Actor, append_parts, appended, audit, entry_after
from vardkontakt.access.models import AuditHead
from vardkontakt.booking import changes, notices
from vardkontakt.booking.external_models import ChangeKind
from vardkontakt.booking.models import (
    Booking,
    BookingChannel,
    BookingSettings,
    BookingStatus,
    EarlierTimeOffer,
    OfferStatus,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import settings_read_with
from vardkontakt.core.one_statement import OneStatement
from vardkontakt.identity.models import Patient
from vardkontakt.notifications import webpush
from vardkontakt.notifications.models import NotificationKind, PushSubscription
from vardkontakt.notifications.services import delivery_task_row, queue_after_commit, task_rows_written
from vardkontakt.organisation.models import CareUnit


class SlotGone(Exception):
    """The slot is not in the book any more (an absence, a changed schedule)."""


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(str(model._meta.get_field(name).column))  # type: ignore[union-attr]


_READ_WITH_THE_SLOT: tuple[tuple[str, type[Model]], ...] = (
    ("s", Slot),
    ("u", CareUnit),
    ("v", VisitType),
    ("r", BookingSettings),
)


@functools.cache
def _locks_text() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(
        f"{alias}.{qn(str(f.column))}" for alias, model in _READ_WITH_THE_SLOT for f in model._meta.concrete_fields
    )
    return (
        f"SELECT {columns} FROM {_table(Slot)} s "  # noqa: S608 (names of the models; values are parameters)
        f"JOIN {_table(CareUnit)} u ON u.{qn('id')} = s.{_column(Slot, 'unit')} "
        f"JOIN {_table(VisitType)} v ON v.{qn('id')} = s.{_column(Slot, 'visit_type')} "
        f"LEFT JOIN {_table(BookingSettings)} r ON r.{_column(BookingSettings, 'unit')} = u.{qn('id')} "
        f"CROSS JOIN {_table(Patient)} p "
        f"WHERE s.{qn('id')} = %s AND p.{qn('id')} = %s FOR NO KEY UPDATE OF s, p"
    )


@functools.cache
def _row_layout() -> list[tuple[str, type[Model], list[str], slice, int]]:
    """Where each model's columns stand in statement 1's row: (alias, model, attnames, their
    slice, the primary key's column; None there means the LEFT JOIN found no row)."""
    layout, at = [], 0
    for alias, model in _READ_WITH_THE_SLOT:
        fields = model._meta.concrete_fields
        key = at + [f.primary_key for f in fields].index(True)
        layout.append((alias, model, [f.attname for f in fields], slice(at, at + len(fields)), key))
        at += len(fields)
    return layout


def locked(*, slot_id: uuid.UUID | str, subject: Patient) -> Slot:
    """Statement 1: lock the person and the slot; the slot comes with its unit (and the unit's
    booking rules, read by settings_of without a query) and visit type. SlotGone when it is not
    in the book."""
    with connection.cursor() as cursor:
        cursor.execute(_locks_text(), (slot_id, subject.pk))
        row = cursor.fetchone()
    if row is None:
        raise SlotGone
    objs: dict[str, Any] = {
        alias: model.from_db(connection.alias, attnames, row[columns]) if row[key] is not None else None
        for alias, model, attnames, columns, key in _row_layout()
    }
    slot, unit = objs["s"], objs["u"]
    slot.unit, slot.visit_type = unit, objs["v"]
    # None (no rules stored yet): settings_of makes the defaults, as for a unit read by the ORM.
    CareUnit.booking_settings.related.set_cached_value(unit, objs["r"])
    settings_read_with(unit)
    return slot


@dataclass
class Seen:
    """What statement 2 read under the locks."""

    active: list[uuid.UUID]
    earlier: Booking | None
    offered: bool
    coming_web_bookings: int
    devices: dict[str, list[str]] = field(default_factory=dict)  # person's id: push subscription ids
    head: AuditHead | None = None  # locked, where the slot was free


def _constant(value: str) -> str:
    """A code constant (a status or channel) written into the text: a generic plan that knows it
    can use the partial indexes made for it (one_active_booking_per_slot), as a parameter cannot."""
    if not value.replace("_", "").replace("-", "").isalnum():
        raise ValueError(value)
    return f"'{value}'"


@functools.cache
def _seen_text() -> str:
    qn = connection.ops.quote_name
    active, online, open_ = (
        _constant(value) for value in (BookingStatus.ACTIVE, BookingChannel.ONLINE, OfferStatus.OPEN)
    )
    booking, slot, offer = _table(Booking), _table(Slot), _table(EarlierTimeOffer)
    b_slot, b_patient, b_status = (_column(Booking, name) for name in ("slot", "patient", "status"))
    return (
        # MATERIALIZED: read once. Inlined, the planner copied the active/earlier/offered look-ups
        # into the head's LATERAL condition and ran them twice (EXPLAIN showed InitPlans 6-8).
        "WITH seen AS MATERIALIZED (SELECT "  # noqa: S608 (names of the models; values are parameters)
        f"ARRAY(SELECT b.{qn('id')} FROM {booking} b WHERE b.{b_slot} = %(slot)s AND b.{b_status} = {active}) AS active, "
        f"(SELECT b.{qn('id')} FROM {booking} b WHERE b.{b_slot} = %(slot)s "
        f"AND b.{_column(Booking, 'idempotency_key')} = %(key)s AND b.{b_patient} = %(subject)s) AS earlier, "
        f"EXISTS(SELECT 1 FROM {offer} o WHERE o.{_column(EarlierTimeOffer, 'slot')} = %(slot)s "
        f"AND o.{_column(EarlierTimeOffer, 'status')} = {open_} AND o.{_column(EarlierTimeOffer, 'expires_at')} > %(now)s) AS offered, "
        # availability.coming_web_bookings_of, counted (tests/booking/test_booking_statements.py
        # holds the two to the same answers)
        f"(SELECT count(*) FROM {booking} b JOIN {slot} t ON t.{qn('id')} = b.{b_slot} "
        f"WHERE b.{b_patient} = %(subject)s AND t.{_column(Slot, 'visit_type')} = %(visit_type)s "
        f"AND b.{b_status} = {active} AND b.{_column(Booking, 'channel')} = {online} "
        f"AND t.{_column(Slot, 'starts_at')} > %(now)s) AS coming, "
        f"ARRAY(SELECT d.{_column(PushSubscription, 'patient')}::text || ' ' || d.{qn('id')}::text "
        f"FROM {_table(PushSubscription)} d WHERE d.{_column(PushSubscription, 'patient')} = ANY(%(told)s) "
        f"ORDER BY d.{qn('id')}) AS devices) "
        "SELECT seen.active, seen.earlier, seen.offered, seen.coming, seen.devices, "
        f"h.{qn('id')}, h.{qn('sequence')}, h.{qn('last_hash')} FROM seen LEFT JOIN LATERAL "
        f"(SELECT {qn('id')}, {qn('sequence')}, {qn('last_hash')} FROM {_table(AuditHead)} WHERE {qn('id')} = 1 "
        "AND cardinality(seen.active) = 0 AND seen.earlier IS NULL AND NOT seen.offered FOR UPDATE) h ON true"
    )


def commit_unwaited() -> None:
    """Before the COMMIT of a booking refused under its locks (the time taken, the unit's limit, a
    rule), which has read and locked but written nothing.

    Why COMMIT and not ROLLBACK: psycopg forgets every statement prepared on the connection at a
    ROLLBACK (it sends DEALLOCATE ALL), so in a rush each refused booking made the next dozen or so
    requests on its connection parse and plan their statements anew: most of the difference
    between PostgreSQL's CPU per booking in a rush and one at a time (docs/benchmarks.md, cost per
    booking, fifth pass). The COMMIT need not wait for the disk (a ROLLBACK does not either); only
    where the transaction is the booking's own: inside a caller's (a savepoint) the setting would
    cover the caller's writes too."""
    if not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def seen_under_locks(
    *, slot: Slot, subject: Patient, told: list[Patient], idempotency_key: str | None, now: Any
) -> Seen:
    """Statement 2 (see the module's text). ``told``: who will be told of the booking."""
    params = {
        "slot": slot.pk,
        "key": idempotency_key or None,
        "subject": subject.pk,
        "now": now,
        "visit_type": slot.visit_type_id,
        # No push devices are looked up while the installation has no VAPID key: none could be sent to.
        "told": [person.pk for person in told] if webpush.vapid_private_key() is not None else [],
    }
    with connection.cursor() as cursor:
        cursor.execute(_seen_text(), params)
        active, earlier_id, offered, coming, devices, head_id, sequence, last_hash = cursor.fetchone()
    by_person: dict[str, list[str]] = {str(person.pk): [] for person in told}
    for pair in devices:
        person, device = pair.split(" ")
        by_person.setdefault(person, []).append(device)
    head = None
    if head_id is not None:
        head = AuditHead.from_db(connection.alias, ["id", "sequence", "last_hash"], (head_id, sequence, last_hash))
    return Seen(
        active=list(active),
        # The repeated submission's answer: read whole only then (a double click, rarely).
        earlier=Booking.objects.get(pk=earlier_id) if earlier_id else None,
        offered=bool(offered),
        coming_web_bookings=int(coming),
        devices=by_person,
        head=head,
    )


def written(*, booking: Booking, actor: Patient, seen: Seen, now: Any) -> bool:
    """Statement 3: the booking, the notices to its people (notices.tell's), their deliveries and
    task, the audit entry of ``actor``'s booking (services._log's) and the change feed's row. False
    (nothing written) when the booking broke a constraint: the slot was taken by a path that did
    not lock it.

    Without a locked head (the chain's row not made yet: a new database) the entry and the change
    are written after the statement, in the ORM's order (the audit head's lock before the change
    feed's, as every other transaction takes them)."""
    told = notices.told(booking, NotificationKind.BOOKING_CONFIRMED, devices=seen.devices)
    deliveries = [delivery for _, to in told for delivery in to]
    tasks = [task for _, to in told if (task := delivery_task_row(to)) is not None]
    statement = (
        OneStatement()
        .insert("booking_row", [booking])
        .insert("notice_rows", [notice for notice, _ in told])
        .insert("delivery_rows", deliveries)
        .insert("task_rows", tasks)
    )
    logged: dict[str, Any] = {
        "actor": Actor.of_patient(actor),
        "action": "booking.book",
        "patient": booking.patient,
        "on_behalf_of": booking.patient,
        "obj": booking,
        "unit": booking.slot.unit,
    }
    entry = change = None
    if seen.head is not None:
        entry = entry_after(seen.head, **logged)
        change = changes.booking_change(booking=booking, kind=ChangeKind.BOOKED, now=now)
        changes.record_parts(append_parts(statement, seen.head, [entry]), change)
    try:
        rows = statement.run("SELECT seq FROM change_row" if entry else "SELECT 1")
    except IntegrityError:
        return False
    if entry is not None and change is not None:
        changes.numbered_after(change, rows[0][0] if rows else None)
        appended([entry])
    else:
        audit(**logged)
        changes.booking_change_record(booking=booking, kind=ChangeKind.BOOKED, now=now)
    task_rows_written(tasks)
    for _, to in told:
        queue_after_commit(to)
    return True
