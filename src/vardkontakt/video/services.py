"""Every write of the video visits: entering a room's page (its socket's ticket), joining,
admitting, leaving and ending, the drop-in queues and the evaluation.

A resident's door is the booking's own rule (video/policy.py), asked with the booking loaded and
again at the socket's join, so a guardianship that ends or a booking cancelled in between keeps
them out. Each join, admit, route and end is logged with the room's patient and unit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking.models import Booking
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.core.tokens import digest, new_secret
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.identity.services import patient_get_or_register
from vardkontakt.notifications.models import NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.video import policy, turn
from vardkontakt.video.models import (
    MOST_PARTICIPANTS,
    Evaluation,
    Invitation,
    Participant,
    QueueCaller,
    Role,
    Room,
    RoomStatus,
    RoomToken,
    State,
)

PAGE_READ = "video.page.read"
JOIN = "video.join"
ADMIT = "video.admit"
END = "video.end"
EVALUATE = "video.evaluate"
INVITE = "video.interpreter.invite"
WITHDRAW = "video.interpreter.withdraw"


@dataclass
class Entry:
    """What a video page needs: the booking, and, once the waiting room is open, the room, the
    socket's ticket and the browser's ICE servers."""

    booking: Booking | None
    opens_at: dt.datetime
    room: Room | None = None
    caller: QueueCaller | None = None
    token: str = ""
    ice_servers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.room is not None and self.room.status == RoomStatus.ENDED


def _booking(booking_id: uuid.UUID | str) -> Booking:
    booking = (
        Booking.objects.select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def _room_of(booking: Booking, now: dt.datetime) -> Room:
    room = Room.objects.filter(booking=booking).first()
    if room is not None:
        return room
    try:
        with transaction.atomic():
            return Room.objects.create(booking=booking, unit=booking.slot.unit, patient=booking.patient, created_at=now)
    except IntegrityError:  # made at the same moment by the other side's page
        return Room.objects.get(booking=booking)


def _ticket(room: Room, user: User, now: dt.datetime) -> str:
    secret = new_secret()
    RoomToken.objects.create(
        digest=digest(secret),
        room=room,
        user=user,
        expires_at=now + dt.timedelta(seconds=settings.VIDEO_TOKEN_SECONDS),
    )
    return secret


def _entry(booking: Booking, user: User, now: dt.datetime, *, staff_side: bool) -> Entry:
    entry = Entry(booking=booking, opens_at=policy.opens_at(booking))
    if not staff_side and not policy.is_open(booking, now) and not hasattr(booking, "video_room"):
        return entry
    entry.room = _room_of(booking, now)
    if entry.room.status == RoomStatus.OPEN:
        entry.token = _ticket(entry.room, user, now)
        entry.ice_servers = turn.ice_servers(user_id=str(user.pk), now=now)
    return entry


@transaction.atomic
def room_enter_resident(*, actor: Patient, booking_id: uuid.UUID | str, now: dt.datetime | None = None) -> Entry:
    """The resident's video page for a booking: before the waiting room opens, when it opens; then
    the room and a ticket for its socket. Anyone but the patient and those who book for them: 404."""
    now = now or timezone.now()
    booking = _booking(booking_id)
    if not policy.resident_may_join(actor, booking):
        raise Http404
    user = actor.user
    if user is None:  # a resident on a page is logged in; no account, no room
        raise Http404
    entry = _entry(booking, user, now, staff_side=False)
    audit(
        actor=Actor.of_patient(actor),
        action=PAGE_READ,
        patient=booking.patient,
        on_behalf_of=booking.patient,
        obj=booking,
        unit=booking.slot.unit,
    )
    return entry


@transaction.atomic
def room_enter_staff(*, staff: Staff, booking_id: uuid.UUID | str, now: dt.datetime | None = None) -> Entry:
    """A unit member's video page for one of the unit's video visits (other units' visits: 404)."""
    now = now or timezone.now()
    booking = _booking(booking_id)
    if not policy.is_video_booking(booking) or not policy.staff_may_join(staff, booking.slot.unit):
        raise Http404
    user = staff.user
    if user is None:
        raise Http404
    entry = _entry(booking, user, now, staff_side=True)
    audit(actor=Actor.of_staff(staff), action=PAGE_READ, patient=booking.patient, obj=booking, unit=booking.slot.unit)
    return entry


class Refused(Exception):
    """A socket that may not join: the ticket is unknown, used, expired or someone else's, or the
    person may no longer be in the room."""


class RoomFull(Refused):
    """The room already holds MOST_PARTICIPANTS people (waiting or in the meeting)."""


def _swedish_day(at: dt.datetime) -> dt.date:
    return at.astimezone(STOCKHOLM).date()


def _invited(patient: Patient, booking: Booking, now: dt.datetime) -> bool:
    """An invitation in force for this person and this visit, on its day."""
    days = Invitation.objects.filter(booking=booking, interpreter=patient, withdrawn_at__isnull=True).values_list(
        "day", flat=True
    )
    return any(policy.invitation_in_force(day, booking, now) for day in days)


def _role_of(user: User, room: Room, now: dt.datetime) -> Role:
    if user.is_staff_member:
        if not policy.staff_may_join(user.staff, room.unit):
            raise Refused
        return Role.STAFF
    if not user.is_patient:
        raise Refused
    patient = user.patient
    if room.caller_id is not None:  # a drop-in meeting: the one who joined the queue, let in by the take
        if room.caller is None or room.caller.joined_by_id != patient.pk:
            raise Refused
        if not policy.resident_may_act_for(patient, room.patient):
            raise Refused
    elif room.booking is None or not policy.is_open(room.booking, now):
        raise Refused
    elif not policy.resident_may_join(patient, room.booking):
        # Nobody of the booking's own: only an interpreter the staff invited for today.
        if policy.is_video_booking(room.booking) and _invited(patient, room.booking, now):
            return Role.INTERPRETER
        raise Refused
    return Role.PATIENT if patient.pk == room.patient_id else Role.GUARDIAN


def _spend(ticket: str, now: dt.datetime) -> RoomToken | None:
    """The ticket, marked used (committed on its own, so a refused join spends it too), or None
    when it is unknown, spent or expired. One conditional UPDATE spends it: of two sockets with
    the same ticket, the second finds it used (PostgreSQL re-reads the row it waited for), and no
    transaction of its own is opened (two statements fewer on each of thousands of connects)."""
    key = digest(ticket)
    spent = RoomToken.objects.filter(digest=key, used_at__isnull=True, expires_at__gte=now).update(used_at=now)
    return RoomToken.objects.filter(digest=key).first() if spent else None


def participant_join(
    *, ticket: str, user: User | None, room_id: uuid.UUID | str, channel_name: str, now: dt.datetime | None = None
) -> Participant:
    """A socket joins its room with the page's ticket (single-use, short-lived, for this person and
    room). Staff are in at once; a resident waits to be admitted, unless they were admitted earlier
    and come back. Logged as a join. Raises Refused (RoomFull: four are there already), changing
    nothing but the ticket's use."""
    now = now or timezone.now()
    if user is None or not user.is_authenticated or not ticket:
        raise Refused
    token = _spend(ticket, now)
    if token is None:
        raise Refused
    with transaction.atomic():
        return _join(token, user, room_id, channel_name, now)


def _join(token: RoomToken, user: User, room_id: uuid.UUID | str, channel_name: str, now: dt.datetime) -> Participant:
    if token.room_id is None:  # a caller's or a queue's ticket
        raise Refused
    room = (
        Room.objects.select_for_update(of=("self",))  # PostgreSQL: no lock on an outer join
        .select_related("booking__slot__unit", "booking__slot__visit_type")
        .get(pk=token.room_id)
    )
    if token.user_id != user.pk or str(room.pk) != str(room_id) or room.status != RoomStatus.OPEN:
        raise Refused
    role = _role_of(user, room, now)
    participant = Participant.objects.filter(room=room, user=user).first()
    present = Participant.objects.filter(room=room).exclude(state=State.LEFT).exclude(user=user).count()
    if present >= MOST_PARTICIPANTS:
        raise RoomFull
    if participant is None:
        if role == Role.STAFF:
            name = f"{user.staff.full_name}, {user.staff.get_profession_display()}"
        else:
            name = user.patient.full_name
        participant = Participant(room=room, user=user, role=role, display_name=name)
    participant.channel_name = channel_name
    if role == Role.STAFF or participant.admitted_at is not None:
        participant.state = State.ADMITTED
        participant.admitted_at = participant.admitted_at or now
        participant.waiting_since = None
    else:
        participant.state = State.WAITING
        participant.waiting_since = now
    participant.save()
    audit(
        actor=Actor.of_user(user),
        action=JOIN,
        patient=room.patient,
        on_behalf_of=room.patient if role != Role.STAFF else None,
        obj=room,
        unit=room.unit,
        detail=role,
    )
    return participant


def _staff_in(room: Room, user: User) -> Staff:
    if not user.is_staff_member or not policy.staff_may_join(user.staff, room.unit):
        raise Refused
    if not Participant.objects.filter(room=room, user=user, state=State.ADMITTED).exists():
        raise Refused
    return user.staff


@transaction.atomic
def participant_admit(
    *, by: User, room_id: uuid.UUID | str, participant_id: uuid.UUID | str, now: dt.datetime | None = None
) -> Participant:
    """A unit member in the room lets a waiting person in. Logged as an admit."""
    now = now or timezone.now()
    room = Room.objects.select_for_update().get(pk=room_id)
    if room.status != RoomStatus.OPEN:
        raise Refused
    staff = _staff_in(room, by)
    waiting = Participant.objects.filter(room=room, pk=participant_id, state=State.WAITING).first()
    if waiting is None:
        raise Refused
    waiting.state = State.ADMITTED
    waiting.admitted_at = now
    waiting.admitted_by = staff
    waiting.waiting_since = None
    waiting.save(update_fields=["state", "admitted_at", "admitted_by", "waiting_since"])
    audit(
        actor=Actor.of_staff(staff),
        action=ADMIT,
        patient=room.patient,
        obj=room,
        unit=room.unit,
        detail=waiting.role,
    )
    return waiting


def participant_leave(*, room_id: uuid.UUID | str, user: User | None, channel_name: str) -> bool:
    """A socket closed. Only the person's current socket counts: the old socket of someone who
    rejoined from a new page closes after the new one joined."""
    if user is None or not user.is_authenticated:
        return False
    changed = (
        Participant.objects.filter(room_id=room_id, user=user, channel_name=channel_name)
        .exclude(state=State.LEFT)
        .update(state=State.LEFT, channel_name="", waiting_since=None)
    )
    return changed > 0


@transaction.atomic
def room_end(*, by: User, room_id: uuid.UUID | str, now: dt.datetime | None = None) -> list[str]:
    """A unit member in the room ends the visit for everyone. Logged as an end. Returns the
    sockets of those still waiting (they are outside the room's group) to be told."""
    now = now or timezone.now()
    room = Room.objects.select_for_update().get(pk=room_id)
    if room.status != RoomStatus.OPEN:
        raise Refused
    staff = _staff_in(room, by)
    room.status = RoomStatus.ENDED
    room.ended_at = now
    room.ended_by = staff
    room.save(update_fields=["status", "ended_at", "ended_by"])
    present = Participant.objects.filter(room=room)
    waiting = [p.channel_name for p in present.filter(state=State.WAITING).exclude(channel_name="")]
    present.update(state=State.LEFT, channel_name="", waiting_since=None)
    audit(actor=Actor.of_staff(staff), action=END, patient=room.patient, obj=room, unit=room.unit)
    return waiting


class AlreadyAnswered(Exception):
    pass


@transaction.atomic
def evaluation_answer(
    *,
    actor: Patient,
    booking_id: uuid.UUID | str,
    picture_and_sound: int,
    easy_to_join: int,
    helped: int,
    comment: str,
    now: dt.datetime | None = None,
) -> Evaluation:
    """The resident's answers after an ended video visit, once per person and room (a second
    answer, a double click among them, raises AlreadyAnswered and stores nothing)."""
    now = now or timezone.now()
    booking = _booking(booking_id)
    room = Room.objects.filter(booking=booking, status=RoomStatus.ENDED).first()
    if room is None or not policy.resident_may_act_for(actor, booking.patient):
        raise Http404
    if not Participant.objects.filter(room=room, user=actor.user).exists():
        raise Http404
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                room=room,
                unit=room.unit,
                answered_by=actor,
                picture_and_sound=picture_and_sound,
                easy_to_join=easy_to_join,
                helped=helped,
                comment=comment.strip(),
                answered_at=now,
            )
    except IntegrityError as exc:
        raise AlreadyAnswered from exc
    audit(
        actor=Actor.of_patient(actor),
        action=EVALUATE,
        patient=booking.patient,
        on_behalf_of=booking.patient,
        obj=room,
        unit=room.unit,
    )
    return evaluation


def _caller_room(caller: QueueCaller) -> Room | None:
    return Room.objects.filter(caller=caller).order_by("-created_at").first()


@transaction.atomic
def room_enter_caller(*, actor: Patient, caller_id: uuid.UUID | str, now: dt.datetime | None = None) -> Entry:
    """The drop-in caller's meeting, once a nurse has taken them (the latest room); anyone else's: 404."""
    now = now or timezone.now()
    caller = QueueCaller.objects.select_related("queue__unit", "patient").filter(pk=caller_id).first()
    if caller is None or caller.joined_by_id != actor.pk or actor.user is None:
        raise Http404
    entry = Entry(booking=None, opens_at=now, caller=caller, room=_caller_room(caller))
    if entry.room is not None and entry.room.status == RoomStatus.OPEN:
        entry.token = _ticket(entry.room, actor.user, now)
        entry.ice_servers = turn.ice_servers(user_id=str(actor.user.pk), now=now)
    audit(
        actor=Actor.of_patient(actor),
        action=PAGE_READ,
        patient=caller.patient,
        on_behalf_of=caller.patient,
        obj=caller,
        unit=caller.queue.unit,
    )
    return entry


@transaction.atomic
def room_enter_caller_staff(*, staff: Staff, caller_id: uuid.UUID | str, now: dt.datetime | None = None) -> Entry:
    """The nurse who took the caller (or a colleague of the unit) in the caller's meeting."""
    now = now or timezone.now()
    caller = QueueCaller.objects.select_related("queue__unit", "patient").filter(pk=caller_id).first()
    if caller is None or not policy.staff_may_join(staff, caller.queue.unit) or staff.user is None:
        raise Http404
    entry = Entry(booking=None, opens_at=now, caller=caller, room=_caller_room(caller))
    if entry.room is not None and entry.room.status == RoomStatus.OPEN:
        entry.token = _ticket(entry.room, staff.user, now)
        entry.ice_servers = turn.ice_servers(user_id=str(staff.user.pk), now=now)
    audit(actor=Actor.of_staff(staff), action=PAGE_READ, patient=caller.patient, obj=caller, unit=caller.queue.unit)
    return entry


def caller_ticket(
    *, actor: Patient, caller_id: uuid.UUID | str, now: dt.datetime | None = None
) -> tuple[QueueCaller, str]:
    """The caller's waiting page: their place in the queue and the ticket of its socket."""
    now = now or timezone.now()
    caller = QueueCaller.objects.select_related("queue__unit", "patient").filter(pk=caller_id).first()
    if caller is None or caller.joined_by_id != actor.pk or actor.user is None:
        raise Http404
    secret = new_secret()
    RoomToken.objects.create(
        digest=digest(secret),
        caller=caller,
        user=actor.user,
        expires_at=now + dt.timedelta(seconds=settings.VIDEO_TOKEN_SECONDS),
    )
    return caller, secret


def queue_ticket(*, staff: Staff, queue_id: uuid.UUID | str, now: dt.datetime | None = None) -> tuple[Any, str]:
    """A nurse's queue page: the queue and the ticket of its live socket; other units' queues: 404."""
    from vardkontakt.video.models import DropInQueue

    now = now or timezone.now()
    queue = DropInQueue.objects.select_related("unit").filter(pk=queue_id).first()
    if queue is None or not policy.staff_may_join(staff, queue.unit) or staff.user is None:
        raise Http404
    secret = new_secret()
    RoomToken.objects.create(
        digest=digest(secret),
        queue=queue,
        user=staff.user,
        expires_at=now + dt.timedelta(seconds=settings.VIDEO_TOKEN_SECONDS),
    )
    return queue, secret


# --- interpreters ----------------------------------------------------------------------------


class InviteRefused(Exception):
    """An invitation that cannot be made: the visit is over, or the number is the patient's own."""


def _visit_day(booking: Booking) -> dt.date:
    return _swedish_day(booking.slot.starts_at)


def _staff_booking(staff: Staff, booking_id: uuid.UUID | str) -> Booking:
    booking = _booking(booking_id)
    if not policy.is_video_booking(booking) or not policy.staff_may_join(staff, booking.slot.unit):
        raise Http404
    return booking


@transaction.atomic
def interpreter_invite(
    *,
    staff: Staff,
    booking_id: uuid.UUID | str,
    personnummer: str,
    notice: tuple[str, str],
    now: dt.datetime | None = None,
) -> Invitation:
    """A unit member invites an interpreter (by personnummer, normalised) to one of the unit's video
    visits, for the visit's day. The person is registered by number if the platform does not know
    them yet (they log in with their e-ID like anyone). A neutral notice goes to ``notice`` (a
    (channel, address) pair: the time only, never the patient or the unit). The same person
    invited again while the first invitation stands (a double click) is invited once. Logged."""
    now = now or timezone.now()
    booking = _staff_booking(staff, booking_id)
    room = Room.objects.filter(booking=booking).first()
    if _visit_day(booking) < _swedish_day(now) or (room is not None and room.status == RoomStatus.ENDED):
        raise InviteRefused
    interpreter, _registered = patient_get_or_register(personnummer=personnummer)
    if interpreter.pk == booking.patient_id:
        raise InviteRefused
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                booking=booking,
                unit=booking.slot.unit,
                interpreter=interpreter,
                day=_visit_day(booking),
                notice_to=notice[1],
                invited_by=staff,
                invited_at=now,
            )
    except IntegrityError:  # already invited: nothing new, nothing sent again
        return Invitation.objects.get(booking=booking, interpreter=interpreter, withdrawn_at__isnull=True)
    notification_create(
        recipient=interpreter,
        kind=NotificationKind.INTERPRETER_INVITED,
        cause=f"interpreter:{invitation.pk}",
        context={"starts_at": booking.slot.starts_at.isoformat()},
        cause_is_new=True,
        to=[notice],
    )
    audit(
        actor=Actor.of_staff(staff),
        action=INVITE,
        patient=booking.patient,
        obj=invitation,
        unit=booking.slot.unit,
        detail=interpreter.full_name.strip() or interpreter.personnummer_display,
    )
    return invitation


@transaction.atomic
def interpreter_withdraw(
    *, staff: Staff, booking_id: uuid.UUID | str, invitation_id: uuid.UUID | str, now: dt.datetime | None = None
) -> list[str]:
    """A unit member withdraws an invitation: the interpreter can no longer join, and is taken out
    of the room if they are in it or waiting. Returns the sockets to close. A second withdrawal
    changes nothing. Logged."""
    now = now or timezone.now()
    booking = _staff_booking(staff, booking_id)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("interpreter")
        .filter(pk=invitation_id, booking=booking)
        .first()
    )
    if invitation is None:
        raise Http404
    if invitation.withdrawn_at is not None:
        return []
    invitation.withdrawn_at = now
    invitation.withdrawn_by = staff
    invitation.save(update_fields=["withdrawn_at", "withdrawn_by"])
    theirs = Participant.objects.filter(
        room__booking=booking, user__in=User.objects.filter(patient=invitation.interpreter), role=Role.INTERPRETER
    )
    present = theirs.exclude(state=State.LEFT)
    sockets = [p.channel_name for p in present if p.channel_name]
    # Out of the room: back in only through a new invitation and a new admission.
    present.update(state=State.LEFT, channel_name="", waiting_since=None)
    theirs.update(admitted_at=None)
    audit(
        actor=Actor.of_staff(staff),
        action=WITHDRAW,
        patient=booking.patient,
        obj=invitation,
        unit=booking.slot.unit,
        detail=invitation.interpreter.full_name.strip() or invitation.interpreter.personnummer_display,
    )
    return sockets


@transaction.atomic
def room_enter_interpreter(*, actor: Patient, invitation_id: uuid.UUID | str, now: dt.datetime | None = None) -> Entry:
    """The invited interpreter's video page: their own invitation in force, on its day only (anyone
    else's, a withdrawn one, another day's: 404; policy.invitation_in_force). The device test, then the waiting room."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_related(
            "booking__patient", "booking__slot__unit", "booking__slot__visit_type", "booking__slot__practitioner"
        )
        .filter(pk=invitation_id, interpreter=actor, withdrawn_at__isnull=True)
        .first()
    )
    if invitation is None or actor.user is None or not policy.is_video_booking(invitation.booking):
        raise Http404
    if not policy.invitation_in_force(invitation.day, invitation.booking, now):
        raise Http404
    booking = invitation.booking
    entry = _entry(booking, actor.user, now, staff_side=False)
    audit(
        actor=Actor.of_patient(actor),
        action=PAGE_READ,
        patient=booking.patient,
        obj=booking,
        unit=booking.slot.unit,
        detail=Role.INTERPRETER,
    )
    return entry
