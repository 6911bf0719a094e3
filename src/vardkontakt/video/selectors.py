"""Reads of the video visits: a unit member's day of video visits, with who waits and since when."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Avg, Count
from django.http import Http404
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit_each
from vardkontakt.booking.models import Booking, BookingStatus
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Membership, in_force
from vardkontakt.video import policy
from vardkontakt.video.models import DropInQueue, Evaluation, Participant, Room, RoomStatus, State

DAY_READ = "video.day.read"


@dataclass
class DayVisit:
    booking: Booking
    waiting: list[Participant]
    in_room: list[Participant]
    ended: bool

    def waited_minutes(self, now: dt.datetime) -> int:
        since = min((p.waiting_since for p in self.waiting if p.waiting_since), default=None)
        return int((now - since).total_seconds() // 60) if since else 0


def video_day_for_staff(*, staff: Staff, now: dt.datetime | None = None) -> list[DayVisit]:
    """Today's video visits (Swedish date) at the units the member belongs to, with who waits:
    one log entry per patient shown."""
    now = now or timezone.now()
    day = now.astimezone(STOCKHOLM).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=STOCKHOLM)
    units = Membership.objects.filter(in_force(day), staff=staff).values("unit_id")
    bookings = list(
        Booking.objects.filter(
            status=BookingStatus.ACTIVE,
            slot__visit_type__video=True,
            slot__unit__in=units,
            slot__starts_at__gte=start,
            slot__starts_at__lt=start + dt.timedelta(days=1),
        )
        .select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner", "video_room")
        .order_by("slot__starts_at")
    )
    rooms = [b.video_room.pk for b in bookings if hasattr(b, "video_room")]
    people: dict[object, list[Participant]] = {}
    for participant in (
        Participant.objects.filter(room_id__in=rooms).exclude(state=State.LEFT).order_by("waiting_since")
    ):
        people.setdefault(participant.room_id, []).append(participant)
    visits = []
    for booking in bookings:
        room = getattr(booking, "video_room", None)
        present = people.get(room.pk, []) if room else []
        visits.append(
            DayVisit(
                booking=booking,
                waiting=[p for p in present if p.state == State.WAITING],
                in_room=[p for p in present if p.state == State.ADMITTED],
                ended=bool(room and room.status == RoomStatus.ENDED),
            )
        )
    for unit_id in {b.slot.unit_id for b in bookings}:
        shown = [(b.patient, b) for b in bookings if b.slot.unit_id == unit_id]
        audit_each(actor=Actor.of_staff(staff), action=DAY_READ, reads=shown, unit=shown[0][1].slot.unit)
    return visits


def room_to_evaluate(*, reader: Patient, booking_id: uuid.UUID | str) -> Room:
    """An ended video visit the reader was in (for themself or the one they book for): its survey's
    form, which shows nothing of it and logs nothing. Anyone else's: 404."""
    room = (
        Room.objects.select_related("booking__patient").filter(booking_id=booking_id, status=RoomStatus.ENDED).first()
    )
    if room is None or room.booking is None or not policy.resident_may_act_for(reader, room.booking.patient):
        raise Http404
    if reader.user_id is None or not Participant.objects.filter(room=room, user_id=reader.user_id).exists():
        raise Http404
    return room


@dataclass(frozen=True)
class EvaluationFigures:
    answers: int = 0
    picture_and_sound: float | None = None
    easy_to_join: float | None = None
    helped: float | None = None


def evaluation_figures(*, unit_id: uuid.UUID | str, start: dt.datetime, end: dt.datetime) -> EvaluationFigures:
    """The unit's survey answers in [start, end): how many, and the mean of each score (1–5). One
    aggregate query; no answer is shown alone, so nothing here is about a person."""
    found = Evaluation.objects.filter(unit__pk=unit_id, answered_at__gte=start, answered_at__lt=end).aggregate(
        answers=Count("pk"),
        picture_and_sound=Avg("picture_and_sound"),
        easy_to_join=Avg("easy_to_join"),
        helped=Avg("helped"),
    )
    return EvaluationFigures(**found)


def units_of(*, staff: Staff) -> list[CareUnit]:
    today = timezone.localdate()
    return list(
        CareUnit.objects.filter(memberships__in=Membership.objects.filter(in_force(today), staff=staff))
        .distinct()
        .order_by("name")
    )


def queues_of(*, units: list[CareUnit], now: dt.datetime | None = None) -> list[DropInQueue]:
    """The units' queues open now or later (none of them shows a patient)."""
    now = now or timezone.now()
    return list(
        DropInQueue.objects.filter(unit__in=units, closes_at__gt=now)
        .select_related("unit")
        .order_by("opens_at", "name")
    )


def colleagues_of(*, unit: CareUnit, staff: Staff) -> list[Staff]:
    today = timezone.localdate()
    members = Membership.objects.filter(in_force(today), unit=unit).exclude(staff=staff).values("staff_id")
    return list(Staff.objects.filter(pk__in=members).order_by("family_name", "given_name"))
