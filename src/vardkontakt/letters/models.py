"""Letters (kallelser, SPEC §8): the appointment letter, its change and its cancellation.

A letter is made once from a booking's state at the day's issue hour (see services.py), stored as
it was sent (HTML in Swedish and English for the page, the PDF for saving and for print), and read
in "Brev" by the person or whoever may act for them in bookings. Paper is never lost: a letter goes
on paper when nobody chose digital letters, or when a digital one is still unopened shortly before
the visit; paper letters leave in print batches (one PDF and one manifest per batch).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vardkontakt.booking.external_models import ExternalAppointment
from vardkontakt.booking.models import Booking
from vardkontakt.core.codes import one_of
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit, Region
from vardkontakt.payments.models import Invoice


class LetterSettings(models.Model):
    """A region's letter rules, with the seed's values as defaults (a region without a row gets them)."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="letter_settings")
    # Changes of a day leave together after this hour (Europe/Stockholm): a booking changed twice
    # in a day makes one letter. Skåne sends after 18:00.
    issue_hour = models.PositiveSmallIntegerField(_("letters leave after this hour"), default=18)
    # A digital letter nobody has opened this many days before the visit also goes on paper.
    paper_days_before = models.PositiveSmallIntegerField(
        _("unopened digital letters go on paper (days before)"), default=5
    )
    # Letters of people who have never logged in are kept this many days, then their content goes.
    keep_days_without_account = models.PositiveSmallIntegerField(
        _("keep letters of people without an account (days)"), default=90
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(issue_hour__lte=23), name="letter_issue_hour_valid")]


class Language(models.TextChoices):
    SWEDISH = "sv", _("Swedish")
    ENGLISH = "en", _("English")


class LetterTemplate(models.Model):
    """The words a unit (or, as the default for its units, a region) puts in its letters, in one
    language. Everything else in the letter (time, place, visit type, fee, how to cancel, phone)
    comes from the booking and the unit's contact details."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CareUnit, null=True, blank=True, on_delete=models.CASCADE, related_name="letter_templates")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.CASCADE, related_name="letter_templates")
    language = models.CharField(max_length=2, choices=Language.choices)
    greeting = models.CharField(_("opening words"), max_length=300, blank=True)
    preparation = models.TextField(_("how to prepare"), max_length=2000, blank=True)
    directions = models.TextField(_("how to find us"), max_length=2000, blank=True)
    closing = models.TextField(_("closing words"), max_length=1000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, region__isnull=True) | Q(unit__isnull=True, region__isnull=False),
                name="letter_template_of_unit_or_region",
            ),
            models.UniqueConstraint(
                fields=["unit", "language"], condition=Q(unit__isnull=False), name="letter_template_once_per_unit"
            ),
            models.UniqueConstraint(
                fields=["region", "language"], condition=Q(region__isnull=False), name="letter_template_once_per_region"
            ),
            models.CheckConstraint(condition=one_of("language", ["sv", "en"]), name="letter_template_language_valid"),
        ]


class LetterKind(models.TextChoices):
    APPOINTMENT = "appointment", _("Appointment letter")
    CHANGE = "change", _("Changed appointment")
    CANCELLATION = "cancellation", _("Cancelled appointment")


class Paper(models.TextChoices):
    """Where the letter stands on paper."""

    NONE = "", _("digital only")
    DUE = "due", _("waiting for the next print batch")
    NO_ADDRESS = "no_address", _("cannot be printed: no registered address")
    PRINTED = "printed", _("sent to print")
    SUPERSEDED = "superseded", _("not printed: a newer letter about the appointment replaced it")


class PaperReason(models.TextChoices):
    NONE = "", _("not on paper")
    NOT_DIGITAL = "not_digital", _("nobody chose digital letters")
    UNOPENED = "unopened", _("the digital letter was not opened in time")


class PrintBatch(models.Model):
    """One delivery to the print-and-mail provider: one PDF and its manifest in the print folder."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField()
    letter_count = models.PositiveIntegerField()
    page_count = models.PositiveIntegerField()
    pdf_name = models.CharField(max_length=200)
    manifest_name = models.CharField(max_length=200)
    pdf_sha256 = models.CharField(max_length=64)
    # Delivery to the provider's SFTP server, where one is configured (else the folder is the
    # delivery): when it arrived (its manifest renamed into place), and the retries until then.
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    next_delivery_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_delivery_at"], condition=Q(delivered_at__isnull=True), name="print_batch_undelivered"
            )
        ]


class Letter(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="letters")
    # What the letter is about: a booking of the platform's own book, or an appointment another
    # booking system published (external), never both. An external appointment keeps its row when
    # the source moves it, so its letters are told apart by the version they told of.
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="letters")
    external = models.ForeignKey(
        ExternalAppointment, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    external_version = models.PositiveIntegerField(null=True, blank=True)
    unit = models.ForeignKey(CareUnit, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    # The appointment the letters of one booking and its moves are about (the booking's calendar
    # event; an external appointment's own id): the next letter about it is a change or a
    # cancellation of this one.
    event_uid = models.UUIDField(db_index=True)
    appointment_at = models.DateTimeField()
    issued_at = models.DateTimeField()
    # The letter as it was sent: the page in both languages, the PDF (also the paper letter) in the
    # language the person chose for letters. Emptied when a letter of someone without an account
    # passes its keeping time.
    html_sv = models.TextField(blank=True)
    html_en = models.TextField(blank=True)
    pdf = models.BinaryField(blank=True)
    pdf_language = models.CharField(max_length=2, default="sv")
    content_removed_at = models.DateTimeField(null=True, blank=True)
    # Someone chose digital letters (the person, or a guardian or proxy who gets them).
    digital = models.BooleanField(default=False)
    # The newest letter about its appointment: only it may still go on paper when unopened.
    current = models.BooleanField(default=True)
    read_at = models.DateTimeField(null=True, blank=True)  # the first open: no longer unread
    opened_at = models.DateTimeField(null=True, blank=True)  # the latest open
    paper = models.CharField(max_length=12, choices=Paper.choices, blank=True)
    paper_reason = models.CharField(max_length=12, choices=PaperReason.choices, blank=True)
    print_batch = models.ForeignKey(PrintBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="letters")

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            # One letter per booking and kind: a run repeated after a crash writes nothing twice.
            models.UniqueConstraint(fields=["booking", "kind"], name="letter_once_per_booking_and_kind"),
            # ... and one per state of an external appointment (its version when the letter was made).
            models.UniqueConstraint(
                fields=["external", "external_version"],
                condition=Q(external__isnull=False),
                name="letter_once_per_external_version",
            ),
            models.CheckConstraint(
                condition=Q(booking__isnull=False, external__isnull=True, external_version__isnull=True)
                | Q(booking__isnull=True, external__isnull=False, external_version__isnull=False),
                name="letter_of_a_booking_or_an_external_appointment",
            ),
            models.CheckConstraint(condition=one_of("kind", LetterKind.values), name="letter_kind_valid"),
            models.CheckConstraint(condition=one_of("paper", Paper.values), name="letter_paper_valid"),
            models.CheckConstraint(condition=one_of("pdf_language", ["sv", "en"]), name="letter_pdf_language_valid"),
            models.CheckConstraint(condition=Q(paper="") | ~Q(paper_reason=""), name="letter_on_paper_has_a_reason"),
        ]
        indexes = [
            models.Index(fields=["patient", "-issued_at"]),
            models.Index(fields=["paper", "issued_at"]),
        ]


class SourceLetters(models.Model):
    """Whether the platform sends the letters of a booking system's published appointments. Some
    source systems send their own paper letters: the platform then sends none for them (a source
    without a row gets the platform's letters)."""

    source_system = models.SlugField(_("source system"), max_length=64, unique=True)
    platform_sends_letters = models.BooleanField(_("the platform sends the letters of this source"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source_system"]

    def __str__(self) -> str:
        return self.source_system


class LetterRun(models.Model):
    """One day's issue of a region's letters, at its cutoff: the changes since the previous cutoff
    made the letters. A day runs once."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="letter_runs")
    day = models.DateField()
    cutoff = models.DateTimeField()
    ran_at = models.DateTimeField()
    # Empty while the run is under way (a run whose worker died is taken up again; it is idempotent).
    finished_at = models.DateTimeField(null=True, blank=True)
    issued = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-cutoff"]
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="letter_run_once_per_region_and_day")]


class InvoiceStage(models.TextChoices):
    INVOICE = "invoice", _("invoice")
    REMINDER = "reminder", _("reminder")


class InvoicePaper(models.TextChoices):
    """Where an invoice (or its reminder) stands on paper."""

    NONE = "", _("digital only")
    DUE = "due", _("waiting for the next print batch")
    NO_ADDRESS = "no_address", _("cannot be printed: no registered address")
    PRINTED = "printed", _("sent to print")
    SETTLED = "settled", _("not printed: paid before the print batch")


class InvoicePost(models.Model):
    """An invoice, or its reminder, on its way to the person (payments/invoices.py makes them): a
    neutral notice to whoever gets their letters, and on paper in the next print batch when none of
    them chose digital letters, as appointment letters go. One per invoice and stage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="posts")
    stage = models.CharField(max_length=8, choices=InvoiceStage.choices)
    created_at = models.DateTimeField()
    digital = models.BooleanField()
    paper = models.CharField(max_length=12, choices=InvoicePaper.choices, blank=True)
    print_batch = models.ForeignKey(
        PrintBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_posts"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "stage"], name="invoice_post_once_per_stage"),
            models.CheckConstraint(condition=one_of("stage", InvoiceStage.values), name="invoice_post_stage_valid"),
            models.CheckConstraint(condition=one_of("paper", InvoicePaper.values), name="invoice_post_paper_valid"),
        ]
        indexes = [models.Index(fields=["created_at"], condition=Q(paper="due"), name="invoice_post_paper_due")]
