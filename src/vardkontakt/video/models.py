"""Video visits (SPEC §8, issue 18): a booked visit's room with its waiting room (sluss), who is in
it, the single-use tickets of its sockets, drop-in queues and the evaluation after the visit.

Media never pass the server (WebRTC peer to peer, DTLS-SRTP) and nothing of the call is stored: no
recording, no chat log. What is stored is who was let in when, for the audit and the staff's list.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.booking.models import Booking
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit

# A mesh of peer connections: each browser sends its video to every other, so four is the most a
# resident's connection and a phone's processor carry.
MOST_PARTICIPANTS = 4


class RoomStatus(models.TextChoices):
    OPEN = "open", _("open")
    ENDED = "ended", _("ended")


class Room(models.Model):
    """One video meeting: a booked video visit's (``booking``) or a drop-in caller's (``caller``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="video_room")
    # A drop-in caller's meeting; routed on, the caller gets a new room with the next nurse.
    caller = models.ForeignKey(
        "video.QueueCaller", null=True, blank=True, on_delete=models.CASCADE, related_name="rooms"
    )
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="video_rooms")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="video_rooms")
    status = models.CharField(max_length=8, choices=RoomStatus.choices, default=RoomStatus.OPEN)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", ended_at__isnull=True) | Q(status="ended", ended_at__isnull=False),
                name="video_room_ended_when_ended",
            ),
            models.CheckConstraint(
                condition=Q(booking__isnull=False, caller__isnull=True) | Q(booking__isnull=True, caller__isnull=False),
                name="video_room_of_a_booking_or_a_caller",
            ),
        ]

    def __str__(self) -> str:
        return f"Video room {self.pk}"


class Role(models.TextChoices):
    PATIENT = "patient", _("patient")
    GUARDIAN = "guardian", _("guardian")
    INTERPRETER = "interpreter", _("interpreter")
    STAFF = "staff", _("staff")


class State(models.TextChoices):
    WAITING = "waiting", _("waiting")
    ADMITTED = "admitted", _("in the meeting")
    LEFT = "left", _("left")


class Participant(models.Model):
    """Someone in a room, by their login: waiting, admitted or gone. A person who leaves and comes
    back keeps their row; once admitted they are let straight back in until the room ends."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=12, choices=Role.choices)
    display_name = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=State.choices, default=State.LEFT)
    waiting_since = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    admitted_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The socket of the person's current connection (a channel layer name), blank when gone.
    channel_name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="video_one_participant_per_person"),
            models.CheckConstraint(
                condition=~Q(state="waiting") | Q(waiting_since__isnull=False), name="video_waiting_since_when_waiting"
            ),
        ]


class RoomToken(models.Model):
    """The ticket a video page gives its WebSocket: for one person and one room (or one drop-in
    caller's place, or one queue's staff view), used once, short-lived. Only its SHA-256 is stored."""

    digest = models.CharField(max_length=64, primary_key=True)
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    caller = models.ForeignKey("video.QueueCaller", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey("video.DropInQueue", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(room__isnull=False, caller__isnull=True, queue__isnull=True)
                | Q(room__isnull=True, caller__isnull=False, queue__isnull=True)
                | Q(room__isnull=True, caller__isnull=True, queue__isnull=False),
                name="video_token_for_one_thing",
            )
        ]


class DropInQueue(models.Model):
    """A unit's drop-in video queue for a period ("Barnakuten video 08–12")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="video_queues")
    name = models.CharField(_("name"), max_length=120)
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    opened_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    form_key = models.CharField(max_length=40, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["opens_at", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="video_queue_period")
        ]

    def __str__(self) -> str:
        return self.name


class CallerState(models.TextChoices):
    WAITING = "waiting", _("waiting")
    TAKEN = "taken", _("taken")
    DONE = "done", _("done")
    LEFT = "left", _("left the queue")


class QueueCaller(models.Model):
    """A resident in a drop-in queue. Routed to another queue or to a colleague, the caller waits
    again, keeping their place in time (``waiting_since`` is when they joined)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    queue = models.ForeignKey(DropInQueue, on_delete=models.CASCADE, related_name="callers")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    joined_by = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    state = models.CharField(max_length=8, choices=CallerState.choices, default=CallerState.WAITING)
    waiting_since = models.DateTimeField()
    # Routed to a colleague: only they may take the caller.
    for_staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    taken_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    taken_at = models.DateTimeField(null=True, blank=True)
    form_key = models.CharField(max_length=40, unique=True, null=True, blank=True)
    # The caller's current socket (a channel layer name): where "taken" and "routed" are sent.
    channel_name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            # One place in a queue per person at a time.
            models.UniqueConstraint(
                fields=["queue", "patient"],
                condition=Q(state__in=["waiting", "taken"]),
                name="video_one_place_per_queue",
            )
        ]


class Evaluation(models.Model):
    """The short survey after a video visit (the source's utvärderingsfunktion): answered once per
    room and person; reported per unit in the statistics, never linked to the record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="evaluations")
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="video_evaluations")
    answered_by = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    picture_and_sound = models.PositiveSmallIntegerField()
    easy_to_join = models.PositiveSmallIntegerField()
    helped = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=2000)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "answered_by"], name="video_one_evaluation_per_person"),
            models.CheckConstraint(
                condition=Q(picture_and_sound__gte=1, picture_and_sound__lte=5)
                & Q(easy_to_join__gte=1, easy_to_join__lte=5)
                & Q(helped__gte=1, helped__lte=5),
                name="video_evaluation_scores_1_to_5",
            ),
        ]


class Invitation(models.Model):
    """An interpreter invited by a unit member to one video visit, valid on the visit's day only.

    The interpreter is a person like any other: they log in with their e-ID (the invitation names
    their personnummer, so it is theirs alone), wait in the waiting room and are let in by staff.
    The e-mail address or mobile number the staff gave is where a neutral notice goes (no name, no
    unit, nothing medical); it is kept only to show the staff where the notice went."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="interpreter_invitations")
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="+")
    interpreter = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="interpreter_invitations")
    # The visit's date (Swedish): the invitation lets no one in on another day.
    day = models.DateField()
    notice_to = models.CharField(max_length=254, blank=True)
    invited_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    invited_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            # One invitation in force per interpreter and visit (a double click invites once).
            models.UniqueConstraint(
                fields=["booking", "interpreter"],
                condition=Q(withdrawn_at__isnull=True),
                name="video_one_invitation_per_interpreter",
            )
        ]
        indexes = [models.Index(fields=["interpreter", "day"], name="video_invitation_day")]

    def __str__(self) -> str:
        return f"Interpreter invitation {self.pk}"
