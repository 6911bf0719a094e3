"""Drop-in video queues (the sluss's routing): a unit opens a queue for a period ("Barnakuten
video 08–12"); residents join with a short reason and wait, told their place; a nurse takes the
next caller into a meeting, or routes a caller to another queue or to a colleague, and the caller
waits again without rejoining, keeping the time they joined.

Every write is here; joins, takes and routes are logged with the caller and the queue's unit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.video import policy
from vardkontakt.video.models import (
    CallerState,
    DropInQueue,
    Participant,
    QueueCaller,
    Role,
    Room,
    RoomStatus,
    State,
)

QUEUE_OPEN = "video.queue.open"
QUEUE_JOIN = "video.queue.join"
TAKE = "video.queue.take"
ROUTE = "video.route"
REASON_MAX = 200


class QueueRefused(Exception):
    """Not allowed or no longer possible (the queue has closed, the caller was taken by another)."""


def open_queues(now: dt.datetime | None = None) -> list[DropInQueue]:
    now = now or timezone.now()
    return list(
        DropInQueue.objects.filter(opens_at__lte=now, closes_at__gt=now).select_related("unit").order_by("name")
    )


@transaction.atomic
def queue_open(
    *, unit_id: uuid.UUID | str, by: Staff, name: str, opens_at: dt.datetime, closes_at: dt.datetime, form_key: str
) -> DropInQueue:
    """A member of the unit opens a drop-in queue for a period; the same form sent twice opens one."""
    found = DropInQueue.objects.filter(form_key=form_key).first() if form_key else None
    if found is not None:
        return found
    queue = DropInQueue(unit_id=unit_id, name=" ".join(name.split()), opens_at=opens_at, closes_at=closes_at)
    if not policy.staff_may_join(by, queue.unit):
        raise Http404
    queue.opened_by = by
    queue.form_key = form_key or None
    queue.full_clean(exclude=["opened_by"])
    queue.save(force_insert=True)
    audit(actor=Actor.of_staff(by), action=QUEUE_OPEN, obj=queue, unit=queue.unit, detail=queue.name)
    return queue


@transaction.atomic
def caller_join(
    *,
    actor: Patient,
    subject: Patient,
    queue_id: uuid.UUID | str,
    reason: str,
    form_key: str = "",
    now: dt.datetime | None = None,
) -> QueueCaller:
    """The resident (for themself or a child they book for) joins an open queue with a short reason.
    One place per person and queue; a double click joins once."""
    now = now or timezone.now()
    if form_key and (found := QueueCaller.objects.filter(form_key=form_key, joined_by=actor).first()):
        return found
    if not policy.resident_may_act_for(actor, subject):
        raise Http404
    queue = DropInQueue.objects.filter(pk=queue_id, opens_at__lte=now, closes_at__gt=now).select_related("unit").first()
    if queue is None:
        raise Http404
    reason = " ".join(reason.split())[:REASON_MAX]
    if not reason:
        raise QueueRefused
    try:
        with transaction.atomic():
            caller = QueueCaller.objects.create(
                queue=queue,
                patient=subject,
                joined_by=actor,
                reason=reason,
                waiting_since=now,
                form_key=form_key or None,
            )
    except IntegrityError as exc:  # already in this queue
        raise QueueRefused from exc
    audit(
        actor=Actor.of_patient(actor),
        action=QUEUE_JOIN,
        patient=subject,
        on_behalf_of=subject,
        obj=caller,
        unit=queue.unit,
    )
    return caller


def _waiting_for(staff: Staff, queue: DropInQueue) -> Q:
    return Q(queue=queue, state=CallerState.WAITING) & (Q(for_staff__isnull=True) | Q(for_staff=staff))


@transaction.atomic
def caller_take_next(*, staff: Staff, queue_id: uuid.UUID | str, now: dt.datetime | None = None) -> Room | None:
    """The member takes the caller who has waited longest (of those not routed to a colleague, or
    routed to them) into a new meeting, where the caller is let in at once. None: nobody waits."""
    now = now or timezone.now()
    queue = DropInQueue.objects.select_related("unit").filter(pk=queue_id).first()
    if queue is None or not policy.staff_may_join(staff, queue.unit):
        raise Http404
    caller = (
        QueueCaller.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(_waiting_for(staff, queue))
        .select_related("joined_by__user")
        .order_by("waiting_since", "pk")  # as the places are counted (place_of)
        .first()
    )
    if caller is None:
        return None
    caller.state = CallerState.TAKEN
    caller.taken_by = staff
    caller.taken_at = now
    caller.save(update_fields=["state", "taken_by", "taken_at"])
    room = Room.objects.create(caller=caller, unit=queue.unit, patient=caller.patient, created_at=now)
    user = caller.joined_by.user
    if user is not None:  # let in at once: the nurse chose them
        Participant.objects.create(
            room=room,
            user=user,
            role=Role.PATIENT if caller.joined_by_id == caller.patient_id else Role.GUARDIAN,
            display_name=caller.joined_by.full_name,
            admitted_at=now,
            admitted_by=staff,
        )
    audit(actor=Actor.of_staff(staff), action=TAKE, patient=caller.patient, obj=caller, unit=queue.unit)
    return room


@transaction.atomic
def caller_route(
    *,
    staff: Staff,
    caller_id: uuid.UUID | str,
    to_queue_id: uuid.UUID | str | None = None,
    to_staff_id: uuid.UUID | str | None = None,
    now: dt.datetime | None = None,
) -> QueueCaller:
    """Routes a caller (waiting, or taken by this member) to another open queue of a unit the member
    belongs to, or to a colleague of the same unit, who alone may then take them. The caller waits
    again, in the time order they joined; an open meeting with them ends."""
    now = now or timezone.now()
    caller = (
        QueueCaller.objects.select_for_update(of=("self",)).select_related("queue__unit").filter(pk=caller_id).first()
    )
    if caller is None or not policy.staff_may_join(staff, caller.queue.unit):
        raise Http404
    if caller.state not in (CallerState.WAITING, CallerState.TAKEN):
        raise QueueRefused
    if caller.state == CallerState.TAKEN and caller.taken_by_id != staff.pk:
        raise QueueRefused
    target = caller.queue
    colleague = None
    if to_queue_id:
        found = DropInQueue.objects.filter(pk=to_queue_id, opens_at__lte=now, closes_at__gt=now).first()
        if found is None or not policy.staff_may_join(staff, found.unit):
            raise QueueRefused
        target = found
    if to_staff_id:
        colleague = Staff.objects.filter(pk=to_staff_id).first()
        if colleague is None or not policy.staff_may_join(colleague, target.unit):
            raise QueueRefused
    if target == caller.queue and colleague is None:
        raise QueueRefused  # routed nowhere
    Room.objects.filter(caller=caller, status=RoomStatus.OPEN).update(
        status=RoomStatus.ENDED, ended_at=now, ended_by=staff
    )
    Participant.objects.filter(room__caller=caller).exclude(state=State.LEFT).update(
        state=State.LEFT, channel_name="", waiting_since=None
    )
    caller.queue = target
    caller.for_staff = colleague
    caller.state = CallerState.WAITING
    caller.taken_by = None
    caller.taken_at = None
    try:
        with transaction.atomic():
            caller.save(update_fields=["queue", "for_staff", "state", "taken_by", "taken_at"])
    except IntegrityError as exc:  # the person already waits in that queue
        raise QueueRefused from exc
    detail = f"{target.name}" + (f" → {colleague.full_name}" if colleague else "")
    audit(
        actor=Actor.of_staff(staff), action=ROUTE, patient=caller.patient, obj=caller, unit=target.unit, detail=detail
    )
    return caller


def caller_leave(*, caller_id: uuid.UUID | str, user: User) -> bool:
    """The resident leaves the queue (or the page closes while waiting)."""
    return (
        QueueCaller.objects.filter(pk=caller_id, joined_by__user=user, state=CallerState.WAITING).update(
            state=CallerState.LEFT, channel_name=""
        )
        > 0
    )


@dataclass(frozen=True)
class Place:
    caller_id: str
    queue_id: str
    position: int  # 1: next
    waiting_seconds: int


def places(queue_ids: list[uuid.UUID] | list[str], now: dt.datetime | None = None) -> dict[str, Place]:
    """Every waiting caller's place in these queues, in one query (position in time order of
    joining; a caller routed to a colleague counts in the queue too)."""
    return _places(QueueCaller.objects.filter(queue__pk__in=queue_ids, state=CallerState.WAITING), now)


def place_of(caller_id: uuid.UUID | str, now: dt.datetime | None = None) -> Place | None:
    """The caller's place (None: not waiting), from their own queue's waiting callers, in one query."""
    queue = QueueCaller.objects.filter(pk=caller_id).values("queue_id")
    return _places(QueueCaller.objects.filter(queue__pk__in=queue, state=CallerState.WAITING), now).get(str(caller_id))


def _places(waiting: QuerySet[QueueCaller], now: dt.datetime | None) -> dict[str, Place]:
    now = now or timezone.now()
    found: dict[str, Place] = {}
    counts: dict[str, int] = {}
    # The same order whichever queues are asked.
    rows = waiting.order_by("waiting_since", "pk").values_list("pk", "queue_id", "waiting_since")
    for pk, queue_id, since in rows:
        key = str(queue_id)
        counts[key] = counts.get(key, 0) + 1
        found[str(pk)] = Place(str(pk), key, counts[key], int((now - since).total_seconds()))
    return found
