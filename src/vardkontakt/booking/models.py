"""Tidbok online (SPEC §6): visit types, weekly schedules with exceptions, slots and bookings.

One slot serves every channel. The database holds the rule that matters most — at most one
active booking per slot (an overbooking is a deliberate, reasoned exception) — so no code path,
web or phone, can book a slot twice, whatever the concurrency.

Times are stored as instants (UTC) and computed in Europe/Stockholm: a slot generated in the
autumn hour that happens twice is two different instants, and the spring night has no 02:30.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.codes import one_of
from vardkontakt.fees.models import FeeKind
from vardkontakt.identity.models import Patient, Profession, Staff
from vardkontakt.organisation.models import CareUnit


class BookingSettings(models.Model):
    """A unit's booking rules, with the seed's values as defaults."""

    unit = models.OneToOneField(CareUnit, on_delete=models.CASCADE, related_name="booking_settings")
    horizon_weeks = models.PositiveSmallIntegerField(
        _("weeks of schedule ahead"), default=8, choices=[(8, "8"), (12, "12")]
    )
    # Online slots are kept for patients until this long before the start; then staff may book them.
    release_hours = models.PositiveSmallIntegerField(
        _("staff may book online slots this many hours before"), default=48
    )
    reminder_hours = models.PositiveSmallIntegerField(_("send the SMS reminder this many hours before"), default=24)
    terms_text = models.TextField(_("terms shown before booking"), blank=True)
    self_assessment_url = models.URLField(_("link to a self-assessment"), blank=True)
    # How many coming web bookings of one visit type a resident may hold at once (for each person
    # they book for): a second "Hälsosamtal" is moved or cancelled first, or booked by phone.
    online_bookings_per_visit_type = models.PositiveSmallIntegerField(
        _("coming web bookings of one visit type per patient"), default=1
    )
    # An earlier time freed for someone on the waiting list is held for them this long (or until
    # it starts, if sooner); unclaimed, it passes to the next in line.
    offer_claim_hours = models.PositiveSmallIntegerField(
        _("hours to take an offered earlier time"), default=2, validators=[MinValueValidator(1), MaxValueValidator(48)]
    )
    # Check-in (by phone or at the kiosk) is open from this long before a visit's start to this
    # long after it, on the day of the visit (issue 19 part 2).
    checkin_opens_minutes = models.PositiveSmallIntegerField(
        _("check-in opens (minutes before the start)"), default=30, validators=[MaxValueValidator(240)]
    )
    checkin_closes_minutes = models.PositiveSmallIntegerField(
        _("check-in closes (minutes after the start)"), default=15, validators=[MaxValueValidator(120)]
    )
    # Staff may mark a booking missed (uteblivet besök) once it is this long past its start unchecked.
    missed_after_minutes = models.PositiveSmallIntegerField(
        _("a visit may be marked missed (minutes after the start)"), default=15, validators=[MaxValueValidator(240)]
    )
    # A video visit's waiting room opens this long before the start (video/policy.py).
    video_join_minutes = models.PositiveSmallIntegerField(
        _("minutes before a video visit its waiting room opens"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
    )
    # The day the schedule was last rolled forward: the worker rolls each unit once a day.
    rolled_on = models.DateField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"Booking rules of {self.unit}"


class VisitType(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="visit_types")
    name = models.CharField(_("name"), max_length=120)
    # The unit's English wording of the name for English readers; empty: they see the Swedish name
    # marked lang="sv" (issue 16 item 25).
    name_en = models.CharField(_("name in English"), max_length=120, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(_("length (minutes)"))
    # The professions that may hold the visit (values of Profession); a weekly block of it must be a
    # practitioner of one of them (staff_services.schedule_template_create).
    professions = models.JSONField(_("professions that may hold it"), default=list)
    bookable_online = models.BooleanField(_("patients may book online"), default=False)
    rebookable_online = models.BooleanField(_("patients may rebook online"), default=False)
    cancellation_deadline_hours = models.PositiveSmallIntegerField(_("cancel online up to (hours before)"), default=24)
    # The patient fee in whole kronor; 0 is a visit without a fee ("avgiftsfritt").
    fee_kronor = models.PositiveIntegerField(_("patient fee (kronor)"), default=0)
    # Which fee of the region's schedule the visit has (fees.FeeKind); when set, the fee shown is the
    # schedule's on the day of the visit for the person, with their frikort and age (not fee_kronor).
    fee_kind = models.CharField(_("fee from the region's schedule"), max_length=24, choices=FeeKind.choices, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    # Held over video (vardkontakt.video): booked like any visit; the booking page, the letter and
    # the reminder say so and how to join, and the resident joins from the booking.
    video = models.BooleanField(_("video visit"), default=False)

    class Meta:
        ordering = ["unit", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="visit_type_name_once_per_unit"),
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="visit_type_at_least_5_minutes"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.duration_minutes)

    def may_be_held_by(self, practitioner: Staff) -> bool:
        return practitioner.profession in self.professions

    @property
    def professions_display(self) -> str:
        """The professions in words, joined as a sentence lists them: "nurse or district nurse"."""
        names = [str(Profession(value).label) for value in self.professions if value in Profession.values]
        if len(names) < 2:
            return "".join(names)
        return _("%(first)s or %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


class Channel(models.TextChoices):
    ONLINE_AND_PHONE = "online", _("online and phone")
    PHONE_ONLY = "phone", _("phone only")


class HeldBack(models.TextChoices):
    """Why a slot is not published online (SPEC §6.5)."""

    NONE = "", _("published")
    SERIES = "series", _("series booking")
    CO_PLANNED = "co_planned", _("co-planned visit (e.g. with an interpreter)")
    MEDICAL = "medical", _("medical reason")


class ScheduleTemplate(models.Model):
    """One weekly block of a practitioner's schedule; it rolls forward every week."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="schedule_templates")
    practitioner = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="schedule_templates")
    visit_type = models.ForeignKey(VisitType, on_delete=models.CASCADE, related_name="templates")
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("to"))
    place = models.CharField(_("place"), max_length=120)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.ONLINE_AND_PHONE)
    held_back = models.CharField(
        _("held back from online booking"), max_length=16, choices=HeldBack.choices, blank=True
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="template_weekday_valid"),
            models.CheckConstraint(condition=Q(end_time__gt=models.F("start_time")), name="template_ends_after_start"),
        ]

    @property
    def fits(self) -> bool:
        """Whether its practitioner may hold its visit type (a profession may change after the block
        was made): a block that does not fit makes no times."""
        return self.visit_type.may_be_held_by(self.practitioner)


class ExceptionReason(models.TextChoices):
    ABSENCE = "absence", _("absence")
    TRAINING = "training", _("training")
    OTHER = "other", _("other")


class ScheduleException(models.Model):
    """Time a practitioner is away: no slots are generated in it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practitioner = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="schedule_exceptions")
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="schedule_exceptions")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=16, choices=ExceptionReason.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="exception_ends_after_start")
        ]


class HolidayOpening(models.Model):
    """The unit opens its appointment book on a public holiday or a de facto day off (julafton,
    midsommarafton, nyårsafton): its weekly blocks make times that day. Without one, they do not."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="holiday_openings")
    day = models.DateField(_("day"))
    opened_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="holiday_opening_once_per_unit_and_day")]


class Slot(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="slots")
    practitioner = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="slots")
    visit_type = models.ForeignKey(VisitType, on_delete=models.PROTECT, related_name="slots")
    template = models.ForeignKey(
        ScheduleTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )
    place = models.CharField(_("place"), max_length=120)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.ONLINE_AND_PHONE)
    held_back = models.CharField(
        _("held back from online booking"), max_length=16, choices=HeldBack.choices, blank=True
    )
    # Staff released this published time for phone booking before the unit's rule (release_hours)
    # would: it stays open online, and staff may book it now too.
    released_to_staff = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            # Generating the schedule twice never makes a second slot.
            models.UniqueConstraint(fields=["practitioner", "starts_at"], name="slot_once_per_practitioner_and_start"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"),
        ]
        indexes = [models.Index(fields=["unit", "visit_type", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.visit_type} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def published_online(self) -> bool:
        return self.channel == Channel.ONLINE_AND_PHONE and not self.held_back and self.visit_type.bookable_online


class BookingChannel(models.TextChoices):
    ONLINE = "online", _("online")
    PHONE = "phone", _("by staff")


class BookingStatus(models.TextChoices):
    ACTIVE = "active", _("booked")
    CANCELLED = "cancelled", _("cancelled")
    REBOOKED = "rebooked", _("moved to another time")


class Booking(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    # Found by the (patient, status) index.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="bookings", db_index=False)
    channel = models.CharField(max_length=8, choices=BookingChannel.choices)
    # Who did it: the resident (themself, a guardian or a proxy) or a staff member. The people
    # columns below are mostly empty: indexed where filled (Meta), for the deletion of a person.
    booked_by_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    booked_by_staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    status = models.CharField(max_length=12, choices=BookingStatus.choices, default=BookingStatus.ACTIVE)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_online = models.BooleanField(default=False)  # staff see online cancellations/rebookings
    # Who ended it (cancelled or moved): the resident or whoever acted for them, or a staff member.
    ended_by_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    ended_by_staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    rebooked_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rebooked_to"
    )
    sms_reminder = models.BooleanField(_("SMS reminder"), default=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    overbooked = models.BooleanField(default=False)
    overbook_reason = models.CharField(max_length=300, blank=True)
    # The same submission twice makes one booking (Meta: unique, without a prefix-search twin).
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    # The calendar event this booking is (RFC 5545 UID and SEQUENCE): a move keeps the event of the
    # booking it came from, one version later, so a calendar that holds the .ics updates it in place.
    calendar_uid = models.UUIDField(null=True, blank=True, editable=False)
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["slot__starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot"], condition=Q(status="active", overbooked=False), name="one_active_booking_per_slot"
            ),
            models.CheckConstraint(
                condition=Q(overbooked=False) | ~Q(overbook_reason=""), name="overbooking_has_a_reason"
            ),
            models.CheckConstraint(
                condition=Q(booked_by_patient__isnull=False) | Q(booked_by_staff__isnull=False),
                name="booking_has_an_author",
            ),
            models.CheckConstraint(
                condition=one_of("status", ["active", "cancelled", "rebooked"]), name="booking_status_valid"
            ),
            models.UniqueConstraint(fields=["idempotency_key"], name="booking_submission_once"),
        ]
        indexes = [
            models.Index(fields=["patient", "status"]),
            *(
                models.Index(fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"booking_{name}")
                for name in ("booked_by_patient", "booked_by_staff", "ended_by_patient", "ended_by_staff")
            ),
        ]

    @property
    def event_uid(self) -> uuid.UUID:
        return self.calendar_uid or self.pk


class CalendarFeed(models.Model):
    """A person's calendar link: only a digest of its token is kept. A person may have several (a
    phone, a work calendar), each until it expires or is revoked; each says how much it tells."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_digest = models.CharField(max_length=64, unique=True)
    # False: the time and "Vårdbesök" only (the default); True: the unit, place, visit type and names.
    detailed = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    # The key of the form that made it: the same form sent twice (a double click) makes one link.
    form_key = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="feed_expires_after_made"),
            models.UniqueConstraint(fields=["owner", "form_key"], condition=~Q(form_key=""), name="feed_once_per_form"),
        ]


class EarlierTimeRequestStatus(models.TextChoices):
    WAITING = "waiting", _("waiting for an earlier time")
    FULFILLED = "fulfilled", _("moved to an earlier time")
    WITHDRAWN = "withdrawn", _("withdrawn")
    ENDED = "ended", _("ended")


class EarlierTimeRequest(models.Model):
    """A resident's place on a visit type's waiting list: "give me an earlier time than my booking".

    The order of asking (``asked_at``) decides who is offered a freed time first. A booking has at
    most one waiting request (the database holds it), so asking twice is asking once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="earlier_time_requests")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    asked_by = models.ForeignKey(Patient, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="+")
    visit_type = models.ForeignKey(VisitType, on_delete=models.CASCADE, related_name="earlier_time_requests")
    # Only times with this practitioner (the one of the booking), or any who holds the visit type.
    practitioner = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    asked_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=EarlierTimeRequestStatus.choices, default=EarlierTimeRequestStatus.WAITING
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    # Why it ended, in the log's words: "cancelled", "moved", "too late to move", "claimed"...
    ended_because = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking"], condition=Q(status="waiting"), name="one_waiting_request_per_booking"
            ),
            models.CheckConstraint(
                condition=one_of("status", ["waiting", "fulfilled", "withdrawn", "ended"]),
                name="earlier_time_request_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["visit_type", "status", "asked_at"], name="waiting_list_order")]


class OfferStatus(models.TextChoices):
    OPEN = "open", _("offered")
    CLAIMED = "claimed", _("taken")
    EXPIRED = "expired", _("not taken in time")
    WITHDRAWN = "withdrawn", _("no longer offered")


class EarlierTimeOffer(models.Model):
    """A freed time offered to one waiting request until ``expires_at``.

    The database holds the rules that keep two residents apart: a time is offered to one request at
    a time, a request holds one offer at a time, and a time is offered to a request once (an offer
    not taken passes to the next in line, never back). Taking it is a booking like any other, so
    ``one_active_booking_per_slot`` still decides who has the time.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(EarlierTimeRequest, on_delete=models.CASCADE, related_name="offers")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="earlier_time_offers")
    made_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    ended_at = models.DateTimeField(null=True, blank=True)
    booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_offer"
    )

    class Meta:
        ordering = ["made_at"]
        constraints = [
            models.UniqueConstraint(fields=["slot"], condition=Q(status="open"), name="one_open_offer_per_slot"),
            models.UniqueConstraint(fields=["request"], condition=Q(status="open"), name="one_open_offer_per_request"),
            models.UniqueConstraint(fields=["request", "slot"], name="a_time_offered_to_a_request_once"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("made_at")), name="offer_expires_after_made"),
            models.CheckConstraint(
                condition=one_of("status", ["open", "claimed", "expired", "withdrawn"]), name="offer_status_valid"
            ),
        ]


class ArrivalVia(models.TextChoices):
    PHONE = "phone", _("checked in with the phone")
    KIOSK = "kiosk", _("checked in at the kiosk")


class Arrival(models.Model):
    """The patient has arrived for the booking (incheckad). One per booking, held by the database:
    a second check-in, from any channel, finds this one and changes nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="arrival")
    arrived_at = models.DateTimeField()
    via = models.CharField(max_length=8, choices=ArrivalVia.choices)
    # Who checked in: the patient, a guardian or a proxy (phone), or nobody logged in (the kiosk's
    # device, by id: the kiosk app sits above this one).
    by_patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kiosk_device_id = models.UUIDField(null=True, blank=True)
    fee_id = models.UUIDField(null=True, blank=True)  # the visit's fee (fees.Fee), charged at check-in

    class Meta:
        ordering = ["arrived_at"]
        constraints = [
            models.CheckConstraint(condition=one_of("via", ["phone", "kiosk"]), name="arrival_via_valid"),
        ]


class MissedVisit(models.Model):
    """Staff marked the booking as not attended (uteblivet besök). One per booking; an undo (the
    same day) deletes it, and the missed-visit fee with it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="missed")
    marked_at = models.DateTimeField()
    marked_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    fee_id = models.UUIDField(null=True, blank=True)  # the missed-visit fee (fees.Fee), when one was due


# The region's other booking systems' appointments and the change feed (a module of their own).
from vardkontakt.booking.external_models import (  # noqa: E402
    AppointmentChange,
    ChangeKind,
    ChangeSequence,
    ExternalAppointment,
    ExternalAppointmentRequest,
    ExternalSchedule,
    ExternalSlot,
    ExternalStatus,
    RequestKind,
    RequestStatus,
    SlotStatus,
)

__all__ = [
    "AppointmentChange",
    "ChangeKind",
    "ChangeSequence",
    "ExternalAppointment",
    "ExternalAppointmentRequest",
    "ExternalSchedule",
    "ExternalSlot",
    "ExternalStatus",
    "RequestKind",
    "RequestStatus",
    "SlotStatus",
]
