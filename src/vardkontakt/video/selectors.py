"""Reads of the video visits: a unit member's day of video visits, with who waits and since when."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Avg, Count
from django.http import Http404
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit, audit_each
from vardkontakt.booking.models import Booking, BookingStatus
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Membership, in_force
from vardkontakt.video import policy
from vardkontakt.video.models import (
    CallerState,
    DropInQueue,
    Evaluation,
    Invitation,
    Participant,
    QueueCaller,
    Room,
    RoomStatus,
    State,
)

DAY_READ = "video.day.read"
PAGE_READ = "video.page.read"
QUEUE_READ = "video.queue.read"


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


def invitations_of_interpreter(*, interpreter: Patient, now: dt.datetime | None = None) -> list[Invitation]:
    """The interpreter's invitations in force today (policy.invitation_in_force), by the visit's
    time: the unit and the time only, nothing of the patient, so nothing to log."""
    now = now or timezone.now()
    today = now.astimezone(STOCKHOLM).date()
    found = (
        Invitation.objects.filter(
            interpreter=interpreter,
            withdrawn_at__isnull=True,
            day__in=[today, today + dt.timedelta(days=1)],  # tomorrow's just after midnight may be open
            booking__status=BookingStatus.ACTIVE,
            booking__slot__visit_type__video=True,
        )
        .select_related("booking__slot__unit")
        .order_by("booking__slot__starts_at")
    )
    return [i for i in found if policy.invitation_in_force(i.day, i.booking, now)]


@dataclass
class VisitInterpreters:
    booking: Booking
    invitations: list[Invitation]


def interpreters_of_visit(*, staff: Staff, booking_id: uuid.UUID | str) -> VisitInterpreters:
    """A unit member's page of one video visit's interpreters (the visit with the patient's name,
    the invitations and whether each was withdrawn). Other units' visits: 404. Logged as a read
    of the visit."""
    booking = (
        Booking.objects.select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None or not policy.is_video_booking(booking) or not policy.staff_may_join(staff, booking.slot.unit):
        raise Http404
    invitations = list(Invitation.objects.filter(booking=booking).select_related("interpreter").order_by("-invited_at"))
    audit(actor=Actor.of_staff(staff), action=PAGE_READ, patient=booking.patient, obj=booking, unit=booking.slot.unit)
    return VisitInterpreters(booking=booking, invitations=invitations)


def queue_callers_for_staff(
    *, staff: Staff, queue_id: uuid.UUID | str, shown: set[str], now: dt.datetime | None = None
) -> dict[str, object]:
    """A nurse's live queue (who waits, why, for how long), as its socket sends it. Each caller
    shown is a read of their data: logged once per caller in ``shown``, the set of callers this
    sitting (one socket, one open page) has already logged, which the caller keeps and passes in
    at each tick. So a caller waiting an hour costs one entry per nurse watching, not one per tick;
    a nurse who reloads the page starts a new sitting and logs them again once."""
    now = now or timezone.now()
    waiting = list(
        QueueCaller.objects.filter(queue__pk=queue_id, state=CallerState.WAITING)
        .select_related("patient", "for_staff", "queue__unit")
        .order_by("waiting_since", "pk")
    )
    new = [c for c in waiting if str(c.pk) not in shown]
    if new:
        audit_each(
            actor=Actor.of_staff(staff), action=QUEUE_READ, reads=[(c.patient, c) for c in new], unit=new[0].queue.unit
        )
        shown.update(str(c.pk) for c in new)
    return {
        "type": "queue",
        "callers": [
            {
                "id": str(c.pk),
                "name": c.patient.full_name,
                "reason": c.reason,
                "waiting_seconds": int((now - c.waiting_since).total_seconds()),
                "for": c.for_staff.full_name if c.for_staff else "",
                "mine": c.for_staff_id in (None, staff.pk),
            }
            for c in waiting
        ],
    }
