"""Who may be in a video room, and when.

Residents: the booked patient, or someone who may book for them (a guardian of a child under the
region's age, who joins with the child) — the booking's own rule, asked again at every join.
Staff: the members of the room's unit (memberships in force today). Nobody else, ever: there is
no link that lets a stranger in, and an interpreter comes in only through a staff invitation,
in force on the visit's day (Swedish date) — or while the visit's waiting room is open, so a visit
just after midnight can be entered in its fifteen minutes before.
A resident may enter the waiting room from the unit's ``video_join_minutes`` before the start
until the room is ended (or, at the latest, the visit's end plus LATEST_AFTER_END).
"""

from __future__ import annotations

import datetime as dt

from vardkontakt.access import policy as access_policy
from vardkontakt.booking.models import Booking, BookingStatus
from vardkontakt.booking.policy import patient_may_book_for
from vardkontakt.booking.schedule import settings_of
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit

LATEST_AFTER_END = dt.timedelta(hours=2)


def is_video_booking(booking: Booking) -> bool:
    return booking.slot.visit_type.video and booking.status == BookingStatus.ACTIVE


def resident_may_act_for(actor: Patient, patient: Patient) -> bool:
    return patient_may_book_for(actor, patient)


def resident_may_join(actor: Patient, booking: Booking) -> bool:
    return is_video_booking(booking) and resident_may_act_for(actor, booking.patient)


def staff_may_join(staff: Staff, unit: CareUnit) -> bool:
    return access_policy.is_member(staff, unit)


def opens_at(booking: Booking) -> dt.datetime:
    return booking.slot.starts_at - dt.timedelta(minutes=settings_of(booking.slot.unit).video_join_minutes)


def closes_at(booking: Booking) -> dt.datetime:
    return booking.slot.ends_at + LATEST_AFTER_END


def is_open(booking: Booking, now: dt.datetime) -> bool:
    return opens_at(booking) <= now <= closes_at(booking)


def invitation_in_force(day: dt.date, booking: Booking, now: dt.datetime) -> bool:
    """An interpreter's (not withdrawn) invitation for ``day``, the visit's day, holds today."""
    return now.astimezone(STOCKHOLM).date() == day or is_open(booking, now)
