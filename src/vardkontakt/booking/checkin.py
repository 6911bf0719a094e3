"""Arriving for a booking: check-in (by phone or at the unit's kiosk) and missed visits (issue 19 §2).

The check-in window is the unit's (``BookingSettings``): from ``checkin_opens_minutes`` before the
start to ``checkin_closes_minutes`` after it, in real minutes (instants, so a DST night changes
nothing), and never outside the visit's own day in Stockholm ("on the day of the visit").

The database holds the rules that matter: one ``Arrival`` per booking and one ``MissedVisit`` per
booking, and the fees app one fee per booking and kind. Every write here locks the booking row
first, so a check-in and a staff member marking the visit missed are decided one after the other.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking import policy
from vardkontakt.booking.models import Arrival, ArrivalVia, Booking, BookingSettings, BookingStatus, MissedVisit
from vardkontakt.booking.schedule import local_instant, settings_of
from vardkontakt.booking.services import _locked_booking
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.fees import rules as fee_rules
from vardkontakt.fees import services as fee_services
from vardkontakt.fees.models import Fee, FeeKind
from vardkontakt.identity.models import Patient, Staff

CHECK_IN = "booking.checkin"
MARK_MISSED = "booking.missed.mark"
UNDO_MISSED = "booking.missed.undo"

# Visits not held at the unit: nobody arrives in its waiting room.
REMOTE_FEE_KINDS = (FeeKind.VIDEO, FeeKind.PHONE)


class CheckInRefusal(enum.Enum):
    NOT_ACTIVE = _("This appointment is cancelled or moved, so there is nothing to check in to.")
    REMOTE = _("This appointment is not at the unit, so there is no check-in.")
    TOO_EARLY = _("Check-in opens %(opens)s, on the day of the visit.")
    TOO_LATE = _("Check-in closed %(closes)s. Please go to the reception.")
    MISSED = _("The unit has marked this visit as missed. Please go to the reception.")


class MissedRefusal(enum.Enum):
    ARRIVED = _("The patient has checked in: the visit is not missed.")
    TOO_EARLY = _("A visit can be marked missed from %(at)s.")
    CANCELLED_IN_TIME = _("The booking was cancelled in time: it is not a missed visit.")
    MOVED = _("The booking was moved to another time.")
    UNDO_TOO_LATE = _("A missed visit can only be undone the same day it was marked.")
    FEE_PAID = _("The missed-visit fee has been paid or invoiced: ask the unit's administrator to refund it.")


@dataclass
class CheckInRefused(Exception):
    refusal: CheckInRefusal | MissedRefusal
    at: dt.datetime | None = None

    def __str__(self) -> str:
        text = str(self.refusal.value)
        if self.at is None:
            return text
        local = self.at.astimezone(STOCKHOLM)
        return text % {"opens": f"{local:%H:%M}", "closes": f"{local:%H:%M}", "at": f"{local:%H:%M}"}


@dataclass(frozen=True)
class Window:
    opens: dt.datetime
    closes: dt.datetime

    def holds(self, now: dt.datetime) -> bool:
        return self.opens <= now <= self.closes


def is_remote(booking: Booking) -> bool:
    visit_type = booking.slot.visit_type
    # A video flag on the visit type (from the video visits' work) counts as well as the fee kind.
    return visit_type.fee_kind in REMOTE_FEE_KINDS or bool(getattr(visit_type, "is_video", False))


def window_of(starts_at: dt.datetime, rules: BookingSettings) -> Window:
    """The check-in window of a visit starting at ``starts_at``, inside its day in Stockholm."""
    day = starts_at.astimezone(STOCKHOLM).date()
    day_starts = local_instant(day, dt.time())
    day_ends = local_instant(day + dt.timedelta(days=1), dt.time()) - dt.timedelta(microseconds=1)
    opens = max(starts_at - dt.timedelta(minutes=rules.checkin_opens_minutes), day_starts)
    closes = min(starts_at + dt.timedelta(minutes=rules.checkin_closes_minutes), day_ends)
    return Window(opens, closes)


class State(enum.Enum):
    OPEN = "open"
    ARRIVED = "arrived"
    NOT_YET = "not_yet"
    CLOSED = "closed"
    NONE = "none"  # cancelled, moved, remote or missed: no check-in at all


@dataclass(frozen=True)
class CheckInState:
    state: State
    window: Window | None
    arrival: Arrival | None
    message: str = ""

    @property
    def may_check_in(self) -> bool:
        return self.state is State.OPEN

    @property
    def shown(self) -> bool:
        """Whether the booking's page says anything of check-in (on the day, for a visit at the unit)."""
        return self.state is not State.NONE


def _refusal(booking: Booking, rules: BookingSettings, now: dt.datetime) -> CheckInRefused | None:
    if booking.status != BookingStatus.ACTIVE:
        return CheckInRefused(CheckInRefusal.NOT_ACTIVE)
    if is_remote(booking):
        return CheckInRefused(CheckInRefusal.REMOTE)
    if MissedVisit.objects.filter(booking=booking).exists():
        return CheckInRefused(CheckInRefusal.MISSED)
    window = window_of(booking.slot.starts_at, rules)
    if now < window.opens:
        return CheckInRefused(CheckInRefusal.TOO_EARLY, at=window.opens)
    if now > window.closes:
        return CheckInRefused(CheckInRefusal.TOO_LATE, at=window.closes)
    return None


def check_in_state(booking: Booking, *, now: dt.datetime) -> CheckInState:
    """Where the booking stands for check-in now (its read is the caller's, already logged)."""
    arrival = Arrival.objects.filter(booking=booking).first()
    if arrival is not None:
        return CheckInState(State.ARRIVED, None, arrival)
    if booking.status != BookingStatus.ACTIVE or is_remote(booking):
        return CheckInState(State.NONE, None, None)
    rules = settings_of(booking.slot.unit)
    window = window_of(booking.slot.starts_at, rules)
    today = now.astimezone(STOCKHOLM).date()
    if booking.slot.starts_at.astimezone(STOCKHOLM).date() != today:
        return CheckInState(State.NONE, window, None)
    refused = _refusal(booking, rules, now)
    if refused is None:
        return CheckInState(State.OPEN, window, None)
    if refused.refusal is CheckInRefusal.TOO_EARLY:
        return CheckInState(State.NOT_YET, window, None, str(refused))
    if refused.refusal is CheckInRefusal.MISSED:
        return CheckInState(State.NONE, window, None, str(refused))
    return CheckInState(State.CLOSED, window, None, str(refused))


@dataclass(frozen=True)
class CheckedIn:
    arrival: Arrival
    fee: Fee | None
    created: bool  # False: it was already checked in (a second check-in changes nothing)


def _locked(booking_id: uuid.UUID | str) -> Booking:
    # The fee rules are the region's: read with the booking.
    return _locked_booking(booking_id, "slot__unit__administration__region")


def _visit_fee(booking: Booking, actor: Actor) -> Fee | None:
    kind = booking.slot.visit_type.fee_kind
    if not kind:
        return None
    return fee_services.fee_charge_for_booking(
        actor=actor,
        booking_id=booking.pk,
        patient=booking.patient,
        unit=booking.slot.unit,
        kind=kind,
        day=booking.slot.starts_at.astimezone(STOCKHOLM).date(),
    )


def booking_check_in(
    *,
    booking_id: uuid.UUID | str,
    via: str,
    by_patient: Patient,
    kiosk_device_id: uuid.UUID | None = None,
    kiosk_unit_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> CheckedIn:
    """Check in for a booking: the arrival is recorded once and the visit's fee charged once.

    ``by_patient`` is who checks in: by phone the logged-in resident (themself, a guardian or a
    proxy: anyone else gets 404), at a kiosk the person identified there, who must be the booking's
    patient at the kiosk's unit (else 404). A second check-in returns the first, changing nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        booking = _locked(booking_id)
        if via == ArrivalVia.KIOSK:
            if booking.patient_id != by_patient.pk or booking.slot.unit_id != kiosk_unit_id:
                raise Http404
        elif not policy.patient_may_book_for(by_patient, booking.patient):
            raise Http404
        existing = Arrival.objects.filter(booking=booking).first()
        if existing is not None:
            fee = Fee.objects.filter(pk=existing.fee_id).first() if existing.fee_id else None
            return CheckedIn(existing, fee, created=False)
        refused = _refusal(booking, settings_of(booking.slot.unit), now)
        if refused is not None:
            raise refused
        actor = Actor.of_patient(by_patient)
        try:
            with transaction.atomic():
                arrival = Arrival.objects.create(
                    booking=booking, arrived_at=now, via=via, by_patient=by_patient, kiosk_device_id=kiosk_device_id
                )
        except IntegrityError:  # another check-in of the booking got there first: that one stands
            arrival = Arrival.objects.get(booking=booking)
            fee = Fee.objects.filter(pk=arrival.fee_id).first() if arrival.fee_id else None
            return CheckedIn(arrival, fee, created=False)
        fee = _visit_fee(booking, actor)
        if fee is not None:
            arrival.fee_id = fee.pk
            arrival.save(update_fields=["fee_id"])
        audit(
            actor=actor,
            action=CHECK_IN,
            patient=booking.patient,
            on_behalf_of=booking.patient,
            obj=booking,
            unit=booking.slot.unit,
            detail=f"{via} {kiosk_device_id}" if kiosk_device_id else via,
        )
        return CheckedIn(arrival, fee, created=True)


@dataclass(frozen=True)
class FeeShown:
    """What the check-in receipt says of the fee."""

    amount: object  # Decimal kronor to pay (0: nothing)
    frikort: bool = False
    age_exempt: bool = False
    fee_id: uuid.UUID | None = None


def fee_shown(booking: Booking, fee: Fee | None) -> FeeShown:
    if fee is None:
        return FeeShown(amount=booking.slot.visit_type.fee_kronor)
    if fee.amount_charged > 0:
        return FeeShown(amount=fee.amount_charged, fee_id=fee.pk)
    if fee.amount_before > 0:
        return FeeShown(amount=fee.amount_charged, frikort=True)
    price = fee_rules.price_of(patient=booking.patient, unit=booking.slot.unit, kind=fee.kind, day=fee.date_of_care)
    return FeeShown(amount=fee.amount_charged, age_exempt=price.age_exempt)


def receipt_of(booking: Booking, arrival: Arrival) -> FeeShown:
    """The fee of a checked-in visit, for the receipt (the booking's read is the caller's, logged)."""
    fee = Fee.objects.filter(pk=arrival.fee_id).first() if arrival.fee_id else None
    return fee_shown(booking, fee)


def arrival_times(*, unit_id: uuid.UUID, day: dt.date) -> dict[str, str]:
    """The day's arrivals at the unit: booking id → local time. Names nobody (the book that shows
    whose bookings these are logged its read), so polling it is not a read of patient data. The
    caller is the unit's book, behind its door (``staff_selectors.unit_for_book``)."""
    start, end = local_instant(day, dt.time()), local_instant(day + dt.timedelta(days=1), dt.time())
    rows = Arrival.objects.filter(
        booking__slot__unit_id=unit_id, booking__slot__starts_at__gte=start, booking__slot__starts_at__lt=end
    ).values_list("booking_id", "arrived_at")
    return {str(booking_id): f"{at.astimezone(STOCKHOLM):%H:%M}" for booking_id, at in rows}


# --- missed visits (uteblivet besök), by staff ---------------------------------------------------


def may_mark_missed_from(booking: Booking, rules: BookingSettings) -> dt.datetime:
    return booking.slot.starts_at + dt.timedelta(minutes=rules.missed_after_minutes)


def _fee_due(booking: Booking) -> bool:
    """A booking still active, or cancelled later than the region's hours before, is charged."""
    if booking.status == BookingStatus.ACTIVE:
        return True
    hours = fee_rules.rules_of(booking.slot.unit.administration.region).missed_visit_hours
    return booking.ended_at is not None and booking.ended_at > booking.slot.starts_at - dt.timedelta(hours=hours)


def booking_mark_missed(*, booking_id: uuid.UUID | str, staff: Staff, now: dt.datetime | None = None) -> MissedVisit:
    """Mark a visit not attended: the missed-visit fee is charged (once) when the booking was not
    cancelled at least the region's hours before. Marking twice (two staff at once) marks once.
    The booking comes from ``staff_selectors.booking_for_staff`` (unit membership, the read logged)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _locked(booking_id)
        if not policy.staff_may_use_book(staff, booking.slot.unit):
            raise Http404
        existing = MissedVisit.objects.filter(booking=booking).first()
        if existing is not None:
            return existing
        if Arrival.objects.filter(booking=booking).exists():
            raise CheckInRefused(MissedRefusal.ARRIVED)
        if booking.status == BookingStatus.REBOOKED:
            raise CheckInRefused(MissedRefusal.MOVED)
        from_ = may_mark_missed_from(booking, settings_of(booking.slot.unit))
        if now < from_:
            raise CheckInRefused(MissedRefusal.TOO_EARLY, at=from_)
        if not _fee_due(booking):
            raise CheckInRefused(MissedRefusal.CANCELLED_IN_TIME)
        missed = MissedVisit.objects.create(booking=booking, marked_at=now, marked_by=staff)
        actor = Actor.of_staff(staff)
        fee = fee_services.fee_charge_for_booking(
            actor=actor,
            booking_id=booking.pk,
            patient=booking.patient,
            unit=booking.slot.unit,
            kind=FeeKind.MISSED_VISIT,
            day=booking.slot.starts_at.astimezone(STOCKHOLM).date(),
        )
        missed.fee_id = fee.pk
        missed.save(update_fields=["fee_id"])
        audit(actor=actor, action=MARK_MISSED, patient=booking.patient, obj=booking, unit=booking.slot.unit)
        return missed


def booking_unmark_missed(*, booking_id: uuid.UUID | str, staff: Staff, now: dt.datetime | None = None) -> bool:
    """Undo a missed visit the same day (Stockholm) it was marked: the mark and its fee go.
    Returns False when there was nothing to undo (an undo sent twice undoes once)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _locked(booking_id)
        if not policy.staff_may_use_book(staff, booking.slot.unit):
            raise Http404
        missed = MissedVisit.objects.filter(booking=booking).first()
        if missed is None:
            return False
        if missed.marked_at.astimezone(STOCKHOLM).date() != now.astimezone(STOCKHOLM).date():
            raise CheckInRefused(MissedRefusal.UNDO_TOO_LATE)
        actor = Actor.of_staff(staff)
        if missed.fee_id is not None:
            try:
                with transaction.atomic():
                    fee_services.fee_withdraw(actor=actor, fee_id=missed.fee_id, reason="missed visit undone")
            except ProtectedError:  # a payment or an invoice holds the fee
                raise CheckInRefused(MissedRefusal.FEE_PAID) from None
        missed.delete()
        audit(actor=actor, action=UNDO_MISSED, patient=booking.patient, obj=booking, unit=booking.slot.unit)
        return True
