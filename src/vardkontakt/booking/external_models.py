"""Appointments the region's other booking systems publish (PASiS-like hospital systems, PMO-like
primary care systems) and the change sequence those systems follow to read back what residents did.

An external appointment is the source system's: it alone changes it, through the FHIR interface.
A resident's wish to cancel or move one is a request row that goes back to the source (through
the change feed); the appointment shows "cancellation requested" until the source answers by
updating the appointment.

The change feed (``AppointmentChange``) numbers every change residents make (and the platform's
own book's changes) with a sequence that grows in commit order: a system that has read up to
number N and asks for "after N" never misses a change committed later with a smaller number,
because a number is taken under a lock held until its transaction commits (booking.changes).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.codes import one_of
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit


class ExternalStatus(models.TextChoices):
    """FHIR R4's Appointment.status, as the source system sends it."""

    PROPOSED = "proposed", _("proposed")
    PENDING = "pending", _("pending")
    BOOKED = "booked", _("booked")
    ARRIVED = "arrived", _("arrived")
    FULFILLED = "fulfilled", _("attended")
    CANCELLED = "cancelled", _("cancelled")
    NOSHOW = "noshow", _("not attended")
    ENTERED_IN_ERROR = "entered-in-error", _("withdrawn")
    CHECKED_IN = "checked-in", _("checked in")
    WAITLIST = "waitlist", _("on the waiting list")


# Statuses of an appointment still to come: a resident may ask to cancel or move it.
OPEN_STATUSES = (ExternalStatus.PROPOSED, ExternalStatus.PENDING, ExternalStatus.BOOKED)
# Statuses the source cannot take back (a new appointment gets a new identifier).
FINAL_STATUSES = (ExternalStatus.CANCELLED, ExternalStatus.ENTERED_IN_ERROR)


class ExternalAppointment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_system = models.SlugField(max_length=64)
    # The system's name as residents see it beside the appointment ("Från PASiS").
    source_name = models.CharField(max_length=200)
    # The source's business identifier, "system|value": sending it again updates the same row.
    identifier = models.CharField(max_length=128)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="external_appointments")
    unit = models.ForeignKey(CareUnit, on_delete=models.PROTECT, related_name="external_appointments")
    status = models.CharField(max_length=16, choices=ExternalStatus.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    service_type = models.CharField(max_length=200, blank=True)
    # The practitioner role as sent (its display, e.g. "Sjuksköterska"), and its HSA-id if named.
    practitioner_role = models.CharField(max_length=200, blank=True)
    practitioner_hsa_id = models.CharField(max_length=32, blank=True)
    patient_instruction = models.TextField(max_length=2000, blank=True)
    # The published slot it takes (booked by a resident here, or by the source with $book or an
    # Appointment naming the slot); a cancelled or withdrawn appointment frees it.
    slot = models.ForeignKey(
        "booking.ExternalSlot", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    # Who booked it: "web" (a resident, on the platform's pages), "source" (the source system), or
    # blank (published by the source as an appointment of its own).
    booked_via = models.CharField(max_length=8, blank=True)
    booked_by = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancellation_reason = models.CharField(max_length=300, blank=True)
    # Grows with each change the source makes (FHIR meta.versionId).
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "identifier"], name="external_appointment_once_per_source"
            ),
            # The database's guarantee: a published slot holds at most one appointment that is not
            # cancelled or withdrawn, whatever the concurrency (residents, $book, Appointment writes).
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(slot__isnull=False) & ~Q(status__in=["cancelled", "entered-in-error"]),
                name="external_slot_booked_once",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="external_appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=one_of("status", ExternalStatus.values), name="external_appointment_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["patient", "starts_at"], name="external_appointment_patient")]

    def __str__(self) -> str:
        return f"{self.source_system} {self.identifier}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ExternalSchedule(models.Model):
    """A practitioner role or service at a unit, as a source system publishes it (FHIR Schedule):
    the frame its slots belong to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_system = models.SlugField(max_length=64)
    source_name = models.CharField(max_length=200)
    identifier = models.CharField(max_length=128)  # system|value
    unit = models.ForeignKey(CareUnit, on_delete=models.PROTECT, related_name="external_schedules")
    service_type = models.CharField(max_length=200, blank=True)
    practitioner_role = models.CharField(max_length=200, blank=True)
    practitioner_hsa_id = models.CharField(max_length=32, blank=True)
    # An inactive schedule's slots are offered to nobody.
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["service_type", "identifier"]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "identifier"], name="external_schedule_once_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source_system} {self.identifier}"


class SlotStatus(models.TextChoices):
    """FHIR R4's Slot.status."""

    FREE = "free", _("free")
    BUSY = "busy", _("busy")
    BUSY_UNAVAILABLE = "busy-unavailable", _("unavailable")
    BUSY_TENTATIVE = "busy-tentative", _("tentatively busy")
    ENTERED_IN_ERROR = "entered-in-error", _("withdrawn")


class ExternalSlot(models.Model):
    """A time a source system publishes in one of its schedules (FHIR Slot).

    ``status`` is what the source sent. Whether it can be had is also whether an appointment
    holds it (the constraint external_slot_booked_once) and whether a resident on the confirm page
    holds it now (``held_until`` in the future): a hold that has run out counts for nothing, so no
    job needs to clear it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_system = models.SlugField(max_length=64)
    identifier = models.CharField(max_length=128)
    schedule = models.ForeignKey(ExternalSchedule, on_delete=models.PROTECT, related_name="slots")
    status = models.CharField(max_length=16, choices=SlotStatus.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    service_type = models.CharField(max_length=200, blank=True)
    # Whether residents may book it on the platform's pages (the source may keep some for phones).
    bookable_online = models.BooleanField(default=False)
    # The hold while a resident confirms: for whom, by whom (a guardian holds for a child), and until when.
    held_for = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    held_by = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    held_until = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "identifier"], name="external_slot_once_per_source"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="external_slot_ends_after_start"
            ),
            models.CheckConstraint(condition=one_of("status", SlotStatus.values), name="external_slot_status_valid"),
        ]
        indexes = [models.Index(fields=["schedule", "starts_at"], name="external_slot_schedule_start")]

    def __str__(self) -> str:
        return f"{self.source_system} {self.identifier}"


class RequestKind(models.TextChoices):
    CANCEL = "cancel", _("cancellation")
    REBOOK = "rebook", _("another time")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("requested")
    DONE = "done", _("done by the unit")
    ENDED = "ended", _("ended by the unit")


class ExternalAppointmentRequest(models.Model):
    """A resident's request to cancel or move an external appointment, for its source system.

    At most one open request per appointment (the database holds it). The source answers by
    updating the appointment: cancelled ends a cancel request as done, a new time a rebook request;
    any other final status ends it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(ExternalAppointment, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=8, choices=RequestKind.choices)
    status = models.CharField(max_length=8, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    # The resident's words for the unit (a rebook request: which days suit them).
    note = models.CharField(max_length=300, blank=True)
    asked_by = models.ForeignKey(Patient, null=True, on_delete=models.SET_NULL, related_name="+")
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    # The form that made it: the same form sent twice (a double click) makes one request.
    form_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["asked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(status="open"), name="one_open_request_per_external_appointment"
            ),
            models.CheckConstraint(condition=one_of("kind", ["cancel", "rebook"]), name="external_request_kind_valid"),
            models.CheckConstraint(
                condition=one_of("status", ["open", "done", "ended"]), name="external_request_status_valid"
            ),
        ]


class ChangeKind(models.TextChoices):
    BOOKED = "booked", _("booked")
    MOVED = "moved", _("moved")
    CANCELLED = "cancelled", _("cancelled")
    CANCEL_REQUESTED = "cancel-requested", _("cancellation requested")
    REBOOK_REQUESTED = "rebook-requested", _("another time requested")


class ChangeSequence(models.Model):
    """The last change number given out: one row, locked by each transaction that takes a number
    until it commits, so numbers commit in the order they are given."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="change_sequence_single_row")]


class AppointmentChange(models.Model):
    """One change of an appointment, for the booking systems that follow the feed.

    Of the platform's own book (``booking``: the booking as changed) or of an external appointment
    (``external``, with the resident's ``request``)."""

    seq = models.BigIntegerField(primary_key=True)
    # unit and patient are found by the composites in Meta; external and request, mostly empty
    # (a booking's change has neither), by partial ones.
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The source system of an external appointment; blank for the platform's own book.
    source_system = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    booking = models.ForeignKey("booking.Booking", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    external = models.ForeignKey(
        ExternalAppointment, null=True, blank=True, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    request = models.ForeignKey(
        ExternalAppointmentRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booking__isnull=False, external__isnull=True, source_system="")
                | Q(booking__isnull=True, external__isnull=False),
                name="appointment_change_of_one_appointment",
            ),
            models.CheckConstraint(condition=one_of("kind", ChangeKind.values), name="appointment_change_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["unit", "seq"], name="appointment_change_unit_seq"),
            models.Index(fields=["patient", "at"], name="appointment_change_patient"),
            models.Index(fields=["external"], condition=Q(external__isnull=False), name="appointment_change_external"),
            models.Index(fields=["request"], condition=Q(request__isnull=False), name="appointment_change_request"),
        ]
