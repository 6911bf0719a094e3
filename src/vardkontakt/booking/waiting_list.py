"""The waiting list for earlier times, the system's side: offering freed times in order of asking,
passing on offers not taken in time, and ending requests whose booking has gone.

A time is freed by a cancellation or a move (``services``), by staff opening a phone-only time to
the web, or by new times in the book (the roll, an opened holiday). Each of those asks for offers
once its own transaction has committed (``offers_make_soon``), and the worker's round
(``offers_renew_all``) does the same for every visit type with a waiting list, so an offer that
expires passes on even if nobody looks. A page that shows an offer renews its visit type's list
first (``offers_renew``), so nobody is shown an offer that has already passed to someone else.

Locks, always in this order, so two of these never wait for each other: the visit type's row
(one round of offers per visit type at a time), then offers, then a slot (skipped when another
transaction holds it: that slot is being booked). A claim (``offers.py``) takes the booking, the
person, the offer, then the slot; it never takes the visit type's row.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from vardkontakt.booking import notices
from vardkontakt.booking.availability import online_slots
from vardkontakt.booking.models import (
    Booking,
    BookingStatus,
    EarlierTimeOffer,
    EarlierTimeRequest,
    EarlierTimeRequestStatus,
    OfferStatus,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import settings_of
from vardkontakt.organisation.models import CareUnit

WAITING = EarlierTimeRequestStatus.WAITING
# How many candidate times a round tries for one request before it moves on (a candidate is
# skipped only when another transaction holds its row, i.e. it is being booked right now).
CANDIDATES = 5


def movable_until(booking: Booking) -> dt.datetime:
    """Until when the booking may be moved online: the visit type's cancellation deadline."""
    return booking.slot.starts_at - dt.timedelta(hours=booking.slot.visit_type.cancellation_deadline_hours)


def offer_expiry(slot: Slot, now: dt.datetime) -> dt.datetime:
    """The unit's claim window from now, but never past the time's own start."""
    window = dt.timedelta(hours=settings_of(slot.unit).offer_claim_hours)
    return min(now + window, slot.starts_at)


def requests_end(*, booking: Booking, because: str, now: dt.datetime) -> bool:
    """In the transaction that cancels or moves ``booking`` (its row locked): its waiting request
    ends, and an offer it holds is withdrawn. Says whether an offer was, so the caller asks for
    the time to be offered on."""
    ended = EarlierTimeRequest.objects.filter(booking=booking, status=WAITING).update(
        status=EarlierTimeRequestStatus.ENDED, ended_at=now, ended_because=because
    )
    if not ended:
        return False
    return bool(
        EarlierTimeOffer.objects.filter(request__booking=booking, status=OfferStatus.OPEN).update(
            status=OfferStatus.WITHDRAWN, ended_at=now
        )
    )


def offers_make_soon(visit_type_id: uuid.UUID | str) -> None:
    """Once the current transaction commits, offer the visit type's free times to its waiting list.
    A failure is logged and left to the worker's round (``robust``): the change itself is done."""
    transaction.on_commit(lambda: offers_make(visit_type_id=visit_type_id), robust=True)


def offers_make_soon_for_unit(unit: CareUnit) -> None:
    for visit_type_id in waiting_visit_types().filter(unit=unit).values_list("pk", flat=True):
        offers_make_soon(visit_type_id)


def waiting_visit_types() -> QuerySet[VisitType]:
    """Visit types with someone waiting (an open offer always belongs to a waiting request)."""
    waiting = EarlierTimeRequest.objects.filter(visit_type=OuterRef("pk"), status=WAITING)
    return VisitType.objects.filter(Exists(waiting))


def _pass_on(visit_type: VisitType, now: dt.datetime) -> None:
    """Offers not taken in time expire, and offers of a time someone else has booked (staff by
    phone, say) or that is no longer published online are withdrawn: either way the person's
    request stays on the list, and the time (if still free) goes to the next in line."""
    open_offers = EarlierTimeOffer.objects.filter(slot__visit_type=visit_type, status=OfferStatus.OPEN)
    open_offers.filter(expires_at__lte=now).update(status=OfferStatus.EXPIRED, ended_at=now)
    still_free = online_slots(visit_type.unit, now=now, held_by_offers=False).filter(pk=OuterRef("slot_id"))
    open_offers.filter(~Exists(still_free)).update(status=OfferStatus.WITHDRAWN, ended_at=now)


def _why_over(booking: Booking, now: dt.datetime) -> str:
    """Why a request of this booking can no longer be served ("" when it can)."""
    if booking.status != BookingStatus.ACTIVE:
        return "booking ended"
    if now > movable_until(booking):
        return "too late to move online"
    return ""


def _first_free_earlier(request: EarlierTimeRequest, now: dt.datetime) -> Slot | None:
    """The earliest free, published time of the request's kind before its booking, that a
    practitioner who may hold the visit type has, not offered to this request before; locked."""
    visit_type = request.visit_type
    candidates = (
        online_slots(visit_type.unit, now=now)
        .filter(
            visit_type=visit_type,
            starts_at__lt=request.booking.slot.starts_at,
            practitioner__profession__in=visit_type.professions,
        )
        .exclude(earlier_time_offers__request=request)
    )
    if request.practitioner_id:
        candidates = candidates.filter(practitioner_id=request.practitioner_id)
    for slot_id in candidates.order_by("starts_at").values_list("pk", flat=True)[:CANDIDATES]:
        slot = (
            Slot.objects.select_for_update(of=("self",), no_key=True, skip_locked=True)
            .select_related("unit")
            .filter(pk=slot_id)
            .first()
        )
        # Read again under the lock: a booking or an offer may have committed since the list was read.
        if slot is not None and online_slots(visit_type.unit, now=now).filter(pk=slot.pk).exists():
            return slot
    return None


def offers_make(*, visit_type_id: uuid.UUID | str, now: dt.datetime | None = None) -> int:
    """One round for a visit type: offers that ran out pass on, requests whose booking has gone
    or can no longer be moved end, and each waiting request without an open offer, in order of
    asking, is offered the earliest free time that suits it. Counts the offers made."""
    now = now or timezone.now()
    made = 0
    with transaction.atomic():
        visit_type = (
            VisitType.objects.select_for_update(of=("self",), no_key=True)
            .select_related("unit")
            .filter(pk=visit_type_id)
            .first()
        )
        if visit_type is None:
            return 0
        _pass_on(visit_type, now)
        busy = set(
            EarlierTimeOffer.objects.filter(request__visit_type=visit_type, status=OfferStatus.OPEN).values_list(
                "request_id", flat=True
            )
        )
        waiting = EarlierTimeRequest.objects.filter(visit_type=visit_type, status=WAITING).select_related(
            "booking__slot__visit_type", "visit_type__unit", "patient", "asked_by"
        )
        for request in waiting.order_by("asked_at", "id"):
            if why := _why_over(request.booking, now):
                request.status, request.ended_at, request.ended_because = EarlierTimeRequestStatus.ENDED, now, why
                request.save(update_fields=["status", "ended_at", "ended_because"])
                # An offer it holds no longer holds its time (a claim would be refused): freed.
                EarlierTimeOffer.objects.filter(request=request, status=OfferStatus.OPEN).update(
                    status=OfferStatus.WITHDRAWN, ended_at=now
                )
                continue
            if request.pk in busy:
                continue
            slot = _first_free_earlier(request, now)
            if slot is None:
                continue
            offer = EarlierTimeOffer.objects.create(
                request=request, slot=slot, made_at=now, expires_at=offer_expiry(slot, now)
            )
            notices.tell_offer(offer)
            made += 1
    return made


def offers_renew(*, visit_type_id: uuid.UUID | str, now: dt.datetime | None = None) -> None:
    """Before a page shows an offer: a round, only when an offer of the visit type has run out
    (cheap otherwise: one query)."""
    now = now or timezone.now()
    due = EarlierTimeOffer.objects.filter(
        slot__visit_type__pk=visit_type_id, status=OfferStatus.OPEN, expires_at__lte=now
    ).exists()
    if due:
        offers_make(visit_type_id=visit_type_id, now=now)


def offers_renew_all(*, now: dt.datetime | None = None) -> int:
    """The worker's round (on its heartbeat): every visit type with a waiting list."""
    now = now or timezone.now()
    return sum(
        offers_make(visit_type_id=pk, now=now) for pk in list(waiting_visit_types().values_list("pk", flat=True))
    )
