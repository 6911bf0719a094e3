"""Booking, cancelling and rebooking, by residents online and by staff on the phone (SPEC §6).

Every change runs in one transaction with the slot row locked, and the database refuses a
second active booking of a slot whatever happens above it. A refusal names its reason in words
a person understands and changes nothing; a slot that has just gone comes with nearby free ones.

A resident's change takes who acts (``actor``, the logged-in resident) and is refused with 404
when the policy does not let them book for the booking's patient; it is logged as the last
statement of its own transaction (the audit chain's head stays locked only from there to the
commit), and a repeated submission, answered with what the first one made, logs nothing more.
Staff changes are logged the same way, as the last statement of their transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking import booking_statements, changes, notices, policy, waiting_list
from vardkontakt.booking.availability import alternatives_to, coming_web_bookings_of
from vardkontakt.booking.external_models import ChangeKind
from vardkontakt.booking.models import (
    Booking,
    BookingChannel,
    BookingStatus,
    Channel,
    EarlierTimeOffer,
    OfferStatus,
    Slot,
)
from vardkontakt.booking.schedule import settings_of, settings_read_with
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.notifications.models import NotificationKind
from vardkontakt.organisation.models import CareUnit


class Refusal(enum.Enum):
    TAKEN = _("The time is no longer available.")
    PHONE_ONLY = _("This time can only be booked by phone with the unit.")
    HELD_BACK = _("This time is not open for online booking.")
    NOT_ONLINE = _("This kind of visit cannot be booked online.")
    PAST = _("The time has already passed.")
    OTHER_UNIT = _("The time belongs to another unit.")
    NOT_RELEASED = _("This time is kept for online booking by patients until shortly before it starts.")
    TOO_LATE_TO_CANCEL = _("It is too late to cancel online. Please call the unit.")
    NOT_REBOOKABLE = _("This visit cannot be moved online. Please call the unit.")
    NOT_SAME_KIND = _(
        "A visit can only be moved to a time of the same kind, with the same person and of the same length."
    )
    NOT_ACTIVE = _("The booking is no longer active.")
    LIMIT_REACHED = _(
        "There is already a coming appointment of this kind, as many as the unit lets you book online. "
        "Move or cancel it first, or call the unit."
    )
    OVERBOOK_REASON = _("Give a reason for the overbooking.")
    OFFER_EXPIRED = _(
        "The time was held for you until the offer ran out, and it has now been offered to the next in line. "
        "You are still on the waiting list for an earlier time."
    )
    OFFER_ENDED = _("This earlier time is no longer offered to you. Your appointment is as it was.")
    NOT_ASKABLE = _("An earlier time cannot be asked for online for this appointment. Please call the unit.")


@dataclass
class BookingRefused(Exception):
    refusal: Refusal
    alternatives: list[Slot] = field(default_factory=list)
    unit: CareUnit | None = None  # whom to call instead, where the refusal knows it

    def __str__(self) -> str:
        return str(self.refusal.value)


def _check_online(slot: Slot, unit: CareUnit, now: dt.datetime) -> None:
    if slot.unit_id != unit.pk:
        raise BookingRefused(Refusal.OTHER_UNIT, unit=unit)
    if slot.starts_at <= now:
        raise BookingRefused(Refusal.PAST, unit=unit)
    if slot.channel == Channel.PHONE_ONLY:
        raise BookingRefused(Refusal.PHONE_ONLY, unit=unit)
    if slot.held_back:
        raise BookingRefused(Refusal.HELD_BACK, unit=unit)
    # Judged from the locked slot's own rows (the page's unit may be a copy kept by the process).
    if not slot.visit_type.bookable_online or not slot.visit_type.active or not slot.unit.live:
        raise BookingRefused(Refusal.NOT_ONLINE, unit=unit)


def _check_staff(slot: Slot, unit: CareUnit, now: dt.datetime) -> None:
    if slot.unit_id != unit.pk:
        raise BookingRefused(Refusal.OTHER_UNIT)
    if slot.starts_at <= now:
        raise BookingRefused(Refusal.PAST)
    if slot.published_online and not slot.released_to_staff:
        released_at = slot.starts_at - dt.timedelta(hours=settings_of(unit).release_hours)
        if now < released_at:
            raise BookingRefused(Refusal.NOT_RELEASED)


def held_for_an_offer(slot: Slot, now: dt.datetime, *, except_offer: EarlierTimeOffer | None = None) -> bool:
    """Read under the slot's lock: the time is offered to someone on the waiting list for an
    earlier time, who may still take it (anyone else finds it taken until the offer runs out)."""
    offers = EarlierTimeOffer.objects.filter(slot=slot, status=OfferStatus.OPEN, expires_at__gt=now)
    if except_offer is not None:
        offers = offers.exclude(pk=except_offer.pk)
    return offers.exists()


def _locked_slot(slot_id: uuid.UUID | str) -> Slot:
    """The slot row, locked until the transaction ends: every booking of a slot goes through here,
    so they queue on this row. Only the slot's row (``of``): the unit's and visit type's rows come
    along unlocked, or every booking at the unit would wait for the one before it."""
    try:
        slot = (
            Slot.objects.select_for_update(of=("self",), no_key=True)
            .select_related("visit_type", "unit__booking_settings")
            .get(pk=slot_id)
        )
        settings_read_with(slot.unit)
        return slot
    except Slot.DoesNotExist:
        # A time taken out of the book (an absence, a changed schedule) after the page was shown.
        raise BookingRefused(Refusal.TAKEN) from None


@dataclass
class _Holders:
    """Who holds a locked slot, and the booking a repeated submission already made; where asked,
    also whether the time is offered to someone waiting for an earlier one and how many coming web
    bookings of its visit type the person booked for already has (the unit's limit)."""

    active: list[uuid.UUID]
    earlier: Booking | None
    offered: bool = False
    coming_web_bookings: int = 0


def submission_key(*parts: object) -> str:
    """The stored key of a form's submission: what was submitted (who, for whom, which slot) and
    the form's own random key, as one fixed-length digest (the column holds 64 characters). A
    form sent again for another person or slot is another submission."""
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()


def _holders(
    slot: Slot,
    patient: Patient | None,
    idempotency_key: str | None,
    *,
    now: dt.datetime | None = None,
    limit_for: Patient | None = None,
) -> _Holders:
    """One query for all of it, read after the slot's lock is taken (a statement of its own, so it
    sees what committed while it waited): the slot's active bookings and a booking of the slot
    with this submission key; with ``now``, whether an open offer holds the time; with
    ``limit_for``, that person's coming web bookings of the slot's visit type.

    A double click that waited for the first click's transaction finds its booking and answers
    with it, instead of finding the slot taken. Only a booking of this slot for this patient is
    that answer (the key names the slot, so a booking with it is of this slot or of none).
    """
    held = Q(bookings__status=BookingStatus.ACTIVE)
    if idempotency_key:
        held |= Q(bookings__idempotency_key=idempotency_key)
    query = Slot.objects.filter(pk=slot.pk).annotate(holder=FilteredRelation("bookings", condition=held))
    if now is not None:
        query = query.annotate(
            offered=Exists(
                EarlierTimeOffer.objects.filter(slot=OuterRef("pk"), status=OfferStatus.OPEN, expires_at__gt=now)
            )
        )
    if limit_for is not None:
        coming = coming_web_bookings_of(limit_for, visit_type=OuterRef("visit_type"), now=now or timezone.now())
        query = query.annotate(
            coming=Subquery(coming.order_by().values("patient").annotate(n=Count("pk")).values("n")[:1])
        )
    names = ["holder__id", "holder__status", "holder__idempotency_key", "holder__patient_id"]
    rows = list(query.values(*names, *(["offered"] if now is not None else []), *(["coming"] if limit_for else [])))
    first = rows[0] if rows else {}
    earlier_id = next(
        (
            row["holder__id"]
            for row in rows
            if idempotency_key
            and row["holder__idempotency_key"] == idempotency_key
            and (patient is None or row["holder__patient_id"] == patient.pk)
        ),
        None,
    )
    return _Holders(
        active=[row["holder__id"] for row in rows if row["holder__status"] == BookingStatus.ACTIVE],
        # The repeated submission's answer: read whole only then (a double click, rarely).
        earlier=Booking.objects.get(pk=earlier_id) if earlier_id else None,
        offered=bool(first.get("offered")),
        coming_web_bookings=int(first.get("coming") or 0),
    )


class _Taken(Exception):
    """The slot has gone: raised inside the transaction, answered after it (see _refusing_taken).
    ``slot``: the slot as the transaction read it with its unit, where it did."""

    def __init__(self, slot: Slot | None = None) -> None:
        super().__init__()
        self.slot = slot


@contextlib.contextmanager
def _refusing_taken(slot_id: uuid.UUID | str, *, online: bool) -> Iterator[None]:
    """Around the booking transaction: a slot found taken is refused once the transaction (or,
    inside a caller's transaction, its savepoint) has ended and the slot's lock is free again,
    with nearby free times (two queries the next person in the queue for the slot need not wait
    for)."""
    try:
        yield
    except _Taken as taken:
        slot = taken.slot or Slot.objects.select_related("unit").get(pk=slot_id)
        raise BookingRefused(Refusal.TAKEN, alternatives_to(slot, online=online), unit=slot.unit) from None


def _moved_online(
    old: Booking, slot: Slot, *, actor: Patient, now: dt.datetime, idempotency_key: str | None = None
) -> Booking:
    """End ``old`` as moved online by ``actor`` and insert its successor on ``slot``: the same
    patient, SMS choice and calendar event (its UID, SEQUENCE + 1), with the old reminder withdrawn
    and the change told. The caller holds the locks and has checked every rule of the move."""
    old.status = BookingStatus.REBOOKED
    old.ended_at = now
    old.ended_online = True
    old.ended_by_patient = actor
    old.save(update_fields=["status", "ended_at", "ended_online", "ended_by_patient"])
    new = Booking(
        slot=slot,
        patient=old.patient,
        channel=BookingChannel.ONLINE,
        booked_by_patient=actor,
        created_at=now,
        sms_reminder=old.sms_reminder,
        rebooked_from=old,
        idempotency_key=idempotency_key or None,
        calendar_uid=old.event_uid,
        calendar_sequence=old.calendar_sequence + 1,
    )
    _insert(new)
    notices.withdraw_reminder(old)
    notices.tell(new, NotificationKind.BOOKING_CHANGED)
    return new


def _insert(booking: Booking) -> None:
    """Every path locks the slot before it looks, so the constraint should never fire; if a path
    ever does not, losing the race to it is the same refusal, not an error. (No savepoint: the
    refusal ends the transaction anyway.)"""
    try:
        booking.save(force_insert=True)
    except IntegrityError as error:
        raise _Taken from error


def _may_book_for(actor: Patient, subject: Patient) -> None:
    if not policy.patient_may_book_for(actor, subject):
        raise Http404


def _log(actor: Patient, action: str, booking: Booking) -> None:
    """The resident's change, as the last statement of its transaction."""
    audit(
        actor=Actor.of_patient(actor),
        action=action,
        patient=booking.patient,
        on_behalf_of=booking.patient,
        obj=booking,
        unit=booking.slot.unit,
    )


def _lock_subject(subject: Patient) -> None:
    """The person booked for, locked until the transaction ends: their web bookings are counted
    against the unit's limit one booking at a time, so two bookings sent at once (two tabs, two
    guardians) cannot both find room. Taken before the slot's lock, never after it."""
    list(Patient.objects.select_for_update(no_key=True).filter(pk=subject.pk).order_by().values_list("pk", flat=True))


def _log_staff(staff: Staff, action: str, booking: Booking, detail: str = "") -> None:
    """A staff member's change, as the last statement of its transaction."""
    audit(
        actor=Actor.of_staff(staff),
        action=action,
        patient=booking.patient,
        obj=booking,
        unit=booking.slot.unit,
        detail=detail,
    )


def booking_create_online(
    *,
    slot_id: uuid.UUID | str,
    unit: CareUnit,
    subject: Patient,
    actor: Patient,
    sms_reminder: bool = False,
    idempotency_key: str | None = None,
) -> Booking:
    """``actor`` books a published slot for ``subject``: themself or someone they may book for
    (anyone else: 404, before anything is locked), within the unit's limit of coming web bookings
    of the slot's visit type."""
    _may_book_for(actor, subject)
    now = timezone.now()
    with _refusing_taken(slot_id, online=True):
        with transaction.atomic():
            if connection.vendor == "postgresql":  # booking_statements: three statements
                try:
                    slot = booking_statements.locked(slot_id=slot_id, subject=subject)
                    told = notices.recipients(patient=subject, booked_by=actor)
                    seen = booking_statements.seen_under_locks(
                        slot=slot, subject=subject, told=told, idempotency_key=idempotency_key, now=now
                    )
                    if seen.earlier:
                        return seen.earlier
                    _may_book_online(seen, slot=slot, unit=unit, now=now)
                except booking_statements.SlotGone:
                    refusal: Exception = BookingRefused(Refusal.TAKEN)
                except (BookingRefused, _Taken) as refused:
                    refusal = refused
                else:
                    booking = _online_booking(slot, subject, actor, sms_reminder, idempotency_key, now)
                    if not booking_statements.written(booking=booking, actor=actor, seen=seen, now=now):
                        raise _Taken(slot)
                    return booking
                # Refused before anything was written: the transaction ends with COMMIT, and the
                # refusal is raised after it (booking_statements.commit_unwaited says why).
                booking_statements.commit_unwaited()
            else:
                _lock_subject(subject)
                slot = _locked_slot(slot_id)
                holders = _holders(slot, subject, idempotency_key, now=now, limit_for=subject)
                if holders.earlier:
                    return holders.earlier
                _may_book_online(holders, slot=slot, unit=unit, now=now)
                booking = _online_booking(slot, subject, actor, sms_reminder, idempotency_key, now)
                _insert(booking)
                notices.tell(booking, NotificationKind.BOOKING_CONFIRMED)
                _log(actor, "booking.book", booking)
                changes.booking_change_record(booking=booking, kind=ChangeKind.BOOKED, now=now)
                return booking
        raise refusal


def _may_book_online(
    holders: _Holders | booking_statements.Seen, *, slot: Slot, unit: CareUnit, now: dt.datetime
) -> None:
    """The online booking's rules, on what was read under the locks."""
    _check_online(slot, unit, now)
    if holders.active or holders.offered:
        raise _Taken(slot)
    if holders.coming_web_bookings >= settings_of(slot.unit).online_bookings_per_visit_type:
        raise BookingRefused(Refusal.LIMIT_REACHED, unit=slot.unit)


def _online_booking(
    slot: Slot,
    subject: Patient,
    actor: Patient,
    sms_reminder: bool,
    idempotency_key: str | None,
    now: dt.datetime,
) -> Booking:
    return Booking(
        slot=slot,
        patient=subject,
        channel=BookingChannel.ONLINE,
        booked_by_patient=actor,
        created_at=now,
        sms_reminder=sms_reminder and bool(subject.mobile),
        idempotency_key=idempotency_key or None,
    )


class Booked(NamedTuple):
    booking: Booking
    new: bool  # False: the same submission again, answered with the booking it made


def booking_create_by_staff(
    *,
    slot_id: uuid.UUID | str,
    unit: CareUnit,
    patient: Patient,
    staff: Staff,
    sms_reminder: bool = False,
    overbook_reason: str = "",
    idempotency_key: str | None = None,
) -> Booked:
    """Staff book on a patient's behalf (the phone channel); overbooking needs a stated reason.
    Says whether the booking is new: the same submission again (a double click waits on the
    slot's lock, then finds the key) is answered with the booking it made and logs nothing more;
    a new booking is logged as the last statement of its transaction."""
    now = timezone.now()
    overbook_reason = overbook_reason.strip()
    with _refusing_taken(slot_id, online=False), transaction.atomic():
        slot = _locked_slot(slot_id)
        holders = _holders(slot, patient, idempotency_key)
        if holders.earlier:
            return Booked(holders.earlier, new=False)
        _check_staff(slot, unit, now)
        # Any active booking holds the time, an overbooking whose regular booking ended included.
        taken = bool(holders.active)
        if taken and not overbook_reason:
            raise _Taken
        booking = Booking(
            slot=slot,
            patient=patient,
            channel=BookingChannel.PHONE,
            booked_by_staff=staff,
            created_at=now,
            sms_reminder=sms_reminder and bool(patient.mobile),
            overbooked=taken,
            overbook_reason=overbook_reason if taken else "",
            idempotency_key=idempotency_key or None,
        )
        _insert(booking)
        notices.tell(booking, NotificationKind.BOOKING_CONFIRMED)
        _log_staff(staff, "booking.staff_book", booking, detail="overbooked" if taken else "")
        changes.booking_change_record(booking=booking, kind=ChangeKind.BOOKED, now=now)
        return Booked(booking, new=True)


def _locked_booking(booking_id: uuid.UUID | str, *also_related: str) -> Booking:
    """The booking, row-locked, with its patient, visit type and unit (and ``also_related``); 404
    when there is none."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("patient", "slot__visit_type", "slot__unit", *also_related)
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def _require_active(booking: Booking) -> None:
    if booking.status != BookingStatus.ACTIVE:
        raise BookingRefused(Refusal.NOT_ACTIVE, unit=booking.slot.unit)


def booking_cancel(
    *, booking_id: uuid.UUID | str, by_patient: Patient | None = None, by_staff: Staff | None = None
) -> Booking:
    """Cancel a booking. Online (``by_patient``: who acts), only a booking of someone they may
    book for (else 404) and up to the visit type's deadline; staff may always (``by_staff``: the
    booking comes from ``staff_selectors.booking_for_staff``, which asked the policy and logged the
    read). Either way the cancellation is logged as the last statement of its transaction."""
    now = timezone.now()
    with transaction.atomic():
        booking = _locked_booking(booking_id)
        if by_patient is not None:
            _may_book_for(by_patient, booking.patient)
        _require_active(booking)
        if by_patient is not None:
            deadline = booking.slot.starts_at - dt.timedelta(hours=booking.slot.visit_type.cancellation_deadline_hours)
            if now > deadline:
                raise BookingRefused(Refusal.TOO_LATE_TO_CANCEL, unit=booking.slot.unit)
        booking.status = BookingStatus.CANCELLED
        booking.ended_at = now
        booking.ended_online = by_patient is not None
        booking.ended_by_patient, booking.ended_by_staff = by_patient, by_staff
        booking.save(update_fields=["status", "ended_at", "ended_online", "ended_by_patient", "ended_by_staff"])
        notices.withdraw_reminder(booking)
        notices.tell(booking, NotificationKind.BOOKING_CANCELLED)
        # Its own wait for an earlier time ends; its time is free for those who wait.
        waiting_list.requests_end(booking=booking, because="cancelled", now=now)
        waiting_list.offers_make_soon(booking.slot.visit_type_id)
        if by_patient is not None:
            _log(by_patient, "booking.cancel", booking)
        elif by_staff is not None:
            _log_staff(by_staff, "booking.staff_cancel", booking)
        changes.booking_change_record(booking=booking, kind=ChangeKind.CANCELLED, now=now)
        return booking


def booking_move_online(
    *, booking_id: uuid.UUID | str, new_slot_id: uuid.UUID | str, actor: Patient, idempotency_key: str | None = None
) -> Booking:
    """Move a booking to another slot: same visit type, practitioner and length, where the unit allows;
    only a booking of someone ``actor`` may book for (else 404).

    Atomic: the old booking ends and the new one begins in one transaction, or neither happens.
    """
    now = timezone.now()
    with _refusing_taken(new_slot_id, online=True), transaction.atomic():
        old = _locked_booking(booking_id)
        _may_book_for(actor, old.patient)
        if idempotency_key and (earlier := Booking.objects.filter(idempotency_key=idempotency_key).first()):
            return earlier  # a repeated submission: it waited for the first one's lock on the old booking
        _require_active(old)
        old_slot = old.slot
        if not old_slot.visit_type.rebookable_online:
            raise BookingRefused(Refusal.NOT_REBOOKABLE, unit=old_slot.unit)
        deadline = old_slot.starts_at - dt.timedelta(hours=old_slot.visit_type.cancellation_deadline_hours)
        if now > deadline:
            raise BookingRefused(Refusal.TOO_LATE_TO_CANCEL, unit=old_slot.unit)
        new_slot = _locked_slot(new_slot_id)
        _check_online(new_slot, old_slot.unit, now)
        same = (
            new_slot.visit_type_id == old_slot.visit_type_id
            and new_slot.practitioner_id == old_slot.practitioner_id
            and new_slot.ends_at - new_slot.starts_at == old_slot.ends_at - old_slot.starts_at
        )
        if not same or new_slot.pk == old_slot.pk:
            raise BookingRefused(Refusal.NOT_SAME_KIND, unit=old_slot.unit)
        holders = _holders(new_slot, None, None, now=now)
        if holders.active or holders.offered:
            raise _Taken
        new = _moved_online(old, new_slot, actor=actor, now=now, idempotency_key=idempotency_key)
        waiting_list.requests_end(booking=old, because="moved", now=now)
        waiting_list.offers_make_soon(old_slot.visit_type_id)
        _log(actor, "booking.rebook", new)
        changes.booking_change_record(booking=new, kind=ChangeKind.MOVED, now=now)
        return new
