"""Services a unit offers, and the cases residents send through them (SPEC §4-5)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.naming import validate_service_name
from vardkontakt.cases.questions import validate_questions
from vardkontakt.core.codes import one_of
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Region


class RegionServiceForm(models.Model):
    """A region's default form for one kind of service, which units adopt and may adapt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="service_forms")
    kind = models.CharField(max_length=32, choices=ServiceKind.choices)
    name = models.CharField(_("name"), max_length=60, validators=[validate_service_name])
    questions = models.JSONField(default=list, validators=[validate_questions])
    terms = models.TextField(_("terms shown to the patient"), max_length=3000)
    # The region's English wording, copied with the rest to a unit that takes the form (issue 16 item 25).
    name_en = models.CharField(_("name in English"), max_length=60, blank=True)
    terms_en = models.TextField(_("terms in English"), max_length=3000, blank=True)
    professions = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "kind"], name="region_service_form_once")]


class Service(models.Model):
    """A service a unit has activated: its own copy of the form, name, terms and professions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(_("kind of service"), max_length=32, choices=ServiceKind.choices)
    name = models.CharField(_("name"), max_length=60, validators=[validate_service_name])
    questions = models.JSONField(default=list, validators=[validate_questions])
    terms = models.TextField(_("terms shown to the patient"), max_length=3000)
    # The unit's English wording (issue 16 item 25); empty: English readers see the Swedish, marked so.
    name_en = models.CharField(_("name in English"), max_length=60, blank=True)
    terms_en = models.TextField(_("terms in English"), max_length=3000, blank=True)
    professions = models.JSONField(_("goes to these professions"), default=list)
    active = models.BooleanField(_("offered to patients"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="service_name_unique_in_unit")]

    def __str__(self) -> str:
        return self.name


class CaseStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    IN_PROGRESS = "in_progress", _("being handled")
    ANSWERED = "answered", _("answered")
    WAITING_FOR_PATIENT = "waiting_for_patient", _("waiting for you")
    WILL_CALL = "will_call", _("the unit will call you")
    CLOSED = "closed", _("closed")


# The same statuses in the unit's words: "waiting for you" is what the patient reads, not the nurse.
STAFF_STATUS_LABELS: dict[str, Promise] = {
    CaseStatus.RECEIVED: pgettext_lazy("case status for staff", "new"),
    CaseStatus.IN_PROGRESS: pgettext_lazy("case status for staff", "being handled"),
    CaseStatus.ANSWERED: pgettext_lazy("case status for staff", "answered"),
    CaseStatus.WAITING_FOR_PATIENT: pgettext_lazy("case status for staff", "waiting for the patient's answer"),
    CaseStatus.WILL_CALL: pgettext_lazy("case status for staff", "we call the patient"),
    CaseStatus.CLOSED: pgettext_lazy("case status for staff", "closed"),
}

# The free-text answers whose first words tell one case from another of the same service.
SUMMARY_KINDS = ("long_text", "short_text")
SUMMARY_LENGTH = 90

OPEN_STATUSES = [CaseStatus.RECEIVED, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_FOR_PATIENT, CaseStatus.WILL_CALL]


class CaseOutcome(models.TextChoices):
    ANSWERED = "answered", _("answered")
    WILL_CALL = "will_call", _("will call")
    BOOKED = "booked", _("booked a time")
    REFERRED = "referred", _("referred")
    WITHDRAWN = "withdrawn", _("withdrawn by the patient")


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, on_delete=models.PROTECT, related_name="cases")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="cases")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    # Who sent it: the patient, a guardian or a proxy (recorded with the subject, SPEC §8).
    created_by = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases_created")
    answers = models.JSONField(default=list)
    status = models.CharField(max_length=24, choices=CaseStatus.choices, default=CaseStatus.RECEIVED)
    outcome = models.CharField(max_length=16, choices=CaseOutcome.choices, blank=True)
    assigned_to = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    received_at = models.DateTimeField()
    deadline_last_day = models.DateField()
    deadline_passes_at = models.DateTimeField(db_index=True)
    first_answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency: every staff change states the version it saw.
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(max_length=64, unique=True)

    class Meta:
        # Cases sharing a deadline (common: the end of a working day) come in the order they were
        # received, then by id, so a list and its pages are the same on every reading.
        ordering = ["deadline_passes_at", "received_at", "id"]
        constraints = [
            models.CheckConstraint(condition=one_of("status", CaseStatus.values), name="case_status_valid"),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="case_closed_when_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status", "deadline_passes_at"]),
            # The statistics count a unit's cases by the period they were received in (usage_statistics/figures.py).
            models.Index(fields=["unit", "received_at"], name="case_unit_received"),
            # The inbox's lists, each read in its own order from its first row to the 200th, and its
            # figures, each counted up to 1,000 from an index alone, whatever the number of cases (the
            # inbox benchmark: 100,000 open in one unit). Partial: the open cases are the few a unit
            # works on. The service is included so that the figures filtered by service or profession
            # are read from the index too (235 ms -> 1 ms at 1M cases).
            models.Index(
                fields=["unit", "deadline_passes_at", "received_at", "id"],
                include=["service"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_open_deadline",
            ),
            # Overdue: open, unanswered and past the deadline, counted on every staff page (the header).
            models.Index(
                fields=["unit", "deadline_passes_at", "received_at", "id"],
                include=["service"],
                condition=Q(status__in=OPEN_STATUSES, first_answered_at__isnull=True),
                name="case_open_unanswered",
            ),
            # Unassigned (NULL) and mine.
            models.Index(
                fields=["unit", "assigned_to", "deadline_passes_at", "received_at", "id"],
                include=["service"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_open_assignee",
            ),
            # One service's open cases by deadline, however few of the unit's they are.
            models.Index(
                fields=["service", "deadline_passes_at", "received_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_open_service",
            ),
            models.Index(
                fields=["unit", "-closed_at", "-id"],
                include=["service"],
                condition=Q(status=CaseStatus.CLOSED),
                name="case_closed_newest",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def status_for_staff(self) -> str:
        return str(STAFF_STATUS_LABELS.get(self.status, self.get_status_display()))

    @property
    def summary(self) -> str:
        """The first words the patient wrote, so three "Rådgivning" cases can be told apart."""
        for answer in self.answers:
            value = answer.get("value")
            if answer.get("kind") in SUMMARY_KINDS and isinstance(value, str) and value.strip():
                text = " ".join(value.split())
                return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1].rstrip() + "…"
        return ""

    @property
    def files_sent_with_case(self) -> models.QuerySet[Attachment]:
        """The files sent with the case itself; those sent with a later answer show in the thread."""
        return self.attachments.filter(message__isnull=True)


class MessageKind(models.TextChoices):
    PATIENT = "patient", _("from the patient")
    REPLY = "reply", _("reply")
    QUESTION = "question", _("question to the patient")
    NOTE = "note", _("internal note")
    EVENT = "event", _("event")


class CaseEvent(models.TextChoices):
    """A step of a case that is not a message. The label is the staff's timeline; the resident's
    thread has its own words (``PATIENT_EVENT_TEXTS``) for the events shown there."""

    ASSIGNED = "assigned", _("assigned the case to %(name)s")
    REASSIGNED = "reassigned", _("assigned the case anew, to %(name)s")
    WILL_CALL = "will_call", _("told the patient that the unit will call")
    CLOSED = "closed", _("closed the case: %(outcome)s")
    REOPENED = "reopened", _("opened the case again")
    WITHDRAWN = "withdrawn", _("withdrew the case")


# What the resident's thread says of the events it shows (the others are the unit's business).
PATIENT_EVENT_TEXTS: dict[str, Promise] = {
    CaseEvent.WILL_CALL: _("The unit will call you."),
    CaseEvent.CLOSED: _("The case was closed."),
    CaseEvent.WITHDRAWN: _("The case was withdrawn."),
    CaseEvent.REOPENED: _("The case was opened again."),
}


class CaseMessage(models.Model):
    """One step of a case: a message, an internal note (never shown to the patient) or an event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    author_patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    author_staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=10000, blank=True)
    event = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def visible_to_patient(self) -> bool:
        return self.kind in (MessageKind.PATIENT, MessageKind.REPLY, MessageKind.QUESTION) or (
            self.kind == MessageKind.EVENT and self.event in PATIENT_EVENT_TEXTS
        )

    @property
    def event_for_staff(self) -> str:
        """The event in the staff's words, after the name of who did it: "assigned the case to Bo Ek"."""
        if self.event not in CaseEvent.values:
            return str(_("changed the case"))
        event = CaseEvent(self.event)
        if event in (CaseEvent.ASSIGNED, CaseEvent.REASSIGNED):
            return str(event.label) % {"name": self.body}
        if event == CaseEvent.CLOSED:
            outcome = CaseOutcome(self.body).label if self.body in CaseOutcome.values else self.body
            return str(event.label) % {"outcome": outcome}
        return str(event.label)

    @property
    def event_for_patient(self) -> str:
        return str(PATIENT_EVENT_TEXTS.get(self.event, ""))


class CaseReading(models.Model):
    """How far a person on the patient's side has read a case: what the unit wrote after
    ``seen_at`` is new to them. One row per case and reader (a guardian and a proxy read apart)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="readings")
    reader = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "reader"], name="case_reading_once")]


class Attachment(models.Model):
    """A file a patient sent with a case. Stored outside the web root; served only through the
    case's policy. Uploaded before 'Send' (the review step) it waits, bound to the submission's
    idempotency key, and joins the case when the case is sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    # Set when the file came with an answer to the unit's question rather than with the case.
    message = models.ForeignKey(
        CaseMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    submission_key = models.CharField(max_length=64, db_index=True)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=one_of("content_type", ["application/pdf", "image/jpeg", "image/png"]), name="attachment_type"
            ),
            models.CheckConstraint(condition=Q(size__lte=10 * 1024 * 1024), name="attachment_at_most_10_mb"),
        ]
