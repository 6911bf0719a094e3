"""Earlier times, the resident's side: ask for one, stop asking, take an offered one.

A resident with a booking (or a guardian or proxy who may book for them) asks to be offered an
earlier time of the same visit type, with the same practitioner or anyone who holds it. The
system's side (``waiting_list``) offers freed times in order of asking. Taking an offer moves the
booking as ``services.booking_move_online`` does: the old booking ends and the new one begins in
one transaction, under the same rules as any online booking (published, the visit type booked
and moved online, the practitioner's profession, the unit's limit of web bookings, the
cancellation deadline of the old time), and the database's ``one_active_booking_per_slot``
decides, whatever the concurrency, that one booking has the time.

Each is a resident's change, entered by its own door as the booking services are: 404 for a
booking the actor may not book for, one audit entry as the last statement of the transaction, and
a repeated submission answered with what the first one did, logged once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from vardkontakt.booking import changes, waiting_list
from vardkontakt.booking.availability import coming_web_bookings
from vardkontakt.booking.external_models import ChangeKind
from vardkontakt.booking.models import (
    Booking,
    EarlierTimeOffer,
    EarlierTimeRequest,
    EarlierTimeRequestStatus,
    OfferStatus,
)
from vardkontakt.booking.schedule import settings_of
from vardkontakt.booking.services import (
    BookingRefused,
    Refusal,
    _check_online,
    _holders,
    _lock_subject,
    _locked_booking,
    _locked_slot,
    _log,
    _may_book_for,
    _moved_online,
    _refusing_taken,
    _require_active,
    _Taken,
    held_for_an_offer,
)
from vardkontakt.identity.models import Patient

WAITING = EarlierTimeRequestStatus.WAITING


def _check_movable(booking: Booking, now: dt.datetime) -> None:
    """What moving the booking online asks, so what asking for an earlier time asks too."""
    visit_type = booking.slot.visit_type
    if not (visit_type.bookable_online and visit_type.rebookable_online and visit_type.active):
        raise BookingRefused(Refusal.NOT_ASKABLE, unit=booking.slot.unit)
    if booking.slot.starts_at <= now:
        raise BookingRefused(Refusal.PAST, unit=booking.slot.unit)
    if now > waiting_list.movable_until(booking):
        raise BookingRefused(Refusal.TOO_LATE_TO_CANCEL, unit=booking.slot.unit)


def earlier_time_request_create(
    *, booking_id: uuid.UUID | str, actor: Patient, same_practitioner: bool = False
) -> EarlierTimeRequest:
    """``actor`` puts the booking on its visit type's waiting list. Asking again while it waits is
    answered with the request already there (its place in the line kept), logged once."""
    now = timezone.now()
    with transaction.atomic():
        booking = _locked_booking(booking_id)
        _may_book_for(actor, booking.patient)
        waiting = EarlierTimeRequest.objects.filter(booking=booking, status=WAITING).first()
        if waiting is not None:
            return waiting
        _require_active(booking)
        _check_movable(booking, now)
        request = EarlierTimeRequest.objects.create(
            booking=booking,
            patient=booking.patient,
            asked_by=actor,
            unit=booking.slot.unit,
            visit_type=booking.slot.visit_type,
            practitioner=booking.slot.practitioner if same_practitioner else None,
            asked_at=now,
        )
        # A suitable free time may be there already: offered at once, after the commit.
        waiting_list.offers_make_soon(booking.slot.visit_type_id)
        _log(actor, "booking.earlier.ask", booking)
        return request


def earlier_time_request_withdraw(*, booking_id: uuid.UUID | str, actor: Patient) -> Booking:
    """``actor`` takes the booking off the waiting list; an offer it holds passes to the next in
    line. Withdrawing what is no longer waiting changes nothing and logs nothing."""
    now = timezone.now()
    with transaction.atomic():
        booking = _locked_booking(booking_id)
        _may_book_for(actor, booking.patient)
        ended = EarlierTimeRequest.objects.filter(booking=booking, status=WAITING).update(
            status=EarlierTimeRequestStatus.WITHDRAWN, ended_at=now, ended_because="withdrawn"
        )
        if not ended:
            return booking
        offered = EarlierTimeOffer.objects.filter(request__booking=booking, status=OfferStatus.OPEN).update(
            status=OfferStatus.WITHDRAWN, ended_at=now
        )
        if offered:
            waiting_list.offers_make_soon(booking.slot.visit_type_id)
        _log(actor, "booking.earlier.withdraw", booking)
        return booking


def earlier_time_offer_claim(*, offer_id: uuid.UUID | str, actor: Patient) -> Booking:
    """``actor`` takes the offered time: the booking moves to it. A second click (it waited for
    the first one's lock on the booking) is answered with the booking the first one made."""
    now = timezone.now()
    peek = EarlierTimeOffer.objects.select_related("request__patient", "slot__unit").filter(pk=offer_id).first()
    if peek is None:
        raise Http404
    _may_book_for(actor, peek.request.patient)
    if peek.status == OfferStatus.OPEN and peek.expires_at <= now:
        # Run out and not yet passed on: it is, now (in its own transaction), and the person is told.
        waiting_list.offers_make(visit_type_id=peek.slot.visit_type_id, now=now)
        raise BookingRefused(Refusal.OFFER_EXPIRED, unit=peek.slot.unit)
    with _refusing_taken(peek.slot_id, online=True), transaction.atomic():
        old = _locked_booking(peek.request.booking_id)
        _may_book_for(actor, old.patient)
        _lock_subject(old.patient)
        offer = EarlierTimeOffer.objects.select_for_update(of=("self",)).select_related("request").get(pk=peek.pk)
        if offer.status == OfferStatus.CLAIMED and offer.booking_id:
            return Booking.objects.select_related("slot").get(pk=offer.booking_id)
        if offer.status == OfferStatus.EXPIRED or (offer.status == OfferStatus.OPEN and offer.expires_at <= now):
            raise BookingRefused(Refusal.OFFER_EXPIRED, unit=old.slot.unit)
        if offer.status != OfferStatus.OPEN:
            raise BookingRefused(Refusal.OFFER_ENDED, unit=old.slot.unit)
        _require_active(old)
        _check_movable(old, now)
        slot = _locked_slot(offer.slot_id)
        _check_online(slot, old.slot.unit, now)
        if slot.visit_type_id != old.slot.visit_type_id or slot.starts_at >= old.slot.starts_at:
            raise BookingRefused(Refusal.OFFER_ENDED, unit=old.slot.unit)
        if not slot.visit_type.may_be_held_by(slot.practitioner):
            raise BookingRefused(Refusal.OFFER_ENDED, unit=old.slot.unit)
        if _holders(slot, None, None).active or held_for_an_offer(slot, now, except_offer=offer):
            raise _Taken
        # The unit's limit of coming web bookings: the old one ends, so it does not count.
        others = [b for b in coming_web_bookings(old.patient, slot.visit_type) if b.pk != old.pk]
        if len(others) >= settings_of(slot.unit).online_bookings_per_visit_type:
            raise BookingRefused(Refusal.LIMIT_REACHED, unit=slot.unit)
        new = _moved_online(old, slot, actor=actor, now=now)
        offer.status, offer.ended_at, offer.booking = OfferStatus.CLAIMED, now, new
        offer.save(update_fields=["status", "ended_at", "booking"])
        EarlierTimeRequest.objects.filter(pk=offer.request_id).update(
            status=EarlierTimeRequestStatus.FULFILLED, ended_at=now, ended_because="claimed"
        )
        # The time given up is free for the next who waits.
        waiting_list.offers_make_soon(old.slot.visit_type_id)
        _log(actor, "booking.earlier.claim", new)
        changes.booking_change_record(booking=new, kind=ChangeKind.MOVED, now=now)
        return new
