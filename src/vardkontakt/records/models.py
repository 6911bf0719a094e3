"""Read models of record data the units' journal, lab and pharmacy systems push in (SPEC §7-8).

Never direct access to those systems: these are copies, keyed by the source's business
identifier so that a repeated push updates rather than duplicates.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vardkontakt.identity.models import Patient, Profession
from vardkontakt.organisation.models import CareUnit, Region

EARLY_HYPOTHESES = "Tidiga hypoteser"
# The code of the note template "Tidiga hypoteser" in DocumentReference.type.coding (docs/api.md).
# A note is withheld by its template's code; its display text is only a second test, compared
# after template_key(), so "Tidiga  Hypoteser" or "tidiga hypoteser " are withheld as well.
EARLY_HYPOTHESES_CODE = "tidiga-hypoteser"


def template_key(text: str) -> str:
    """A template's name as compared: Unicode NFKC, case folded, runs of any whitespace as one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


class RecordRules(models.Model):
    """The region's publishing rules, with the seed's values as defaults (SPEC §7)."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="record_rules")
    notes_from = models.DateField(_("notes shown from"), default=dt.date(2014, 9, 1))
    adult_psychiatry_notes_from = models.DateField(_("adult psychiatry notes shown from"), default=dt.date(2015, 9, 28))
    # Templates never published electronically, by name (compared by template_key) and by code;
    # "Tidiga hypoteser" (EARLY_HYPOTHESES, EARLY_HYPOTHESES_CODE) is always among them.
    withheld_templates = models.JSONField(_("note templates never published"), default=list)
    withheld_template_codes = models.JSONField(_("codes of note templates never published"), default=list)
    # Kinds of unit whose data is never published beyond those the national rules name
    # (publishing.NEVER_PUBLISHED_KINDS, and youth clinics for those under 18), which always are.
    extra_withheld_kinds = models.JSONField(_("further kinds of unit never published"), default=list)
    # Whether a unit added to the region (by hand or from the HSA catalogue) starts out flagged for
    # a manual harm assessment (menprövning) until someone judges otherwise.
    harm_assessment_for_new_units = models.BooleanField(
        _("new units need a manual harm assessment until judged otherwise"), default=False
    )

    def __str__(self) -> str:
        return f"Record rules of {self.region}"


class Sourced(models.Model):
    """What every copied record item has: whose, from which unit, and the source's identifier."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(CareUnit, on_delete=models.PROTECT, related_name="+")
    source_system = models.CharField(max_length=64)
    source_id = models.CharField(max_length=128)
    # When the item reached the platform: the patient may hide items newer than 14 days.
    received_at = models.DateTimeField()

    class Meta:
        abstract = True


class RecordNote(Sourced):
    author_name = models.CharField(_("author"), max_length=200)
    author_profession = models.CharField(_("profession"), max_length=64)
    written_on = models.DateField(_("date"))
    template = models.CharField(_("note type"), max_length=120)
    # The template's code from the source system (DocumentReference.type.coding) and its name as
    # compared (template_key): what the publishing rules test, never the display text as written.
    template_code = models.CharField(max_length=64, blank=True)
    template_key = models.CharField(max_length=120, blank=True)
    signed = models.BooleanField(_("signed"), default=False)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["-written_on", "-received_at"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="note_source_once")]
        indexes = [
            models.Index(fields=["patient", "-written_on"]),
            # Whether the rules keep anything back: one index probe each, not a read of the record.
            models.Index(fields=["patient", "unit"]),
            models.Index(fields=["patient", "template_key"]),
            models.Index(fields=["patient", "template_code"]),
            models.Index(fields=["patient"], condition=Q(signed=False), name="note_patient_unsigned"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.template_key = template_key(self.template)
        if kwargs.get("update_fields") is not None and "template" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "template_key"}
        super().save(*args, **kwargs)

    @property
    def profession_label(self) -> str:
        """The profession in the reader's language when the source sent one of ours."""
        return str(dict(Profession.choices).get(self.author_profession, self.author_profession))


class Diagnosis(Sourced):
    code = models.CharField(_("ICD-10 code"), max_length=10)
    text = models.CharField(_("diagnosis"), max_length=300)
    recorded_on = models.DateField(_("date"))

    class Meta:
        ordering = ["-recorded_on"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="diagnosis_source_once")]
        indexes = [models.Index(fields=["patient", "unit"])]


class CareContact(Sourced):
    kind = models.CharField(_("kind of contact"), max_length=120)
    started_on = models.DateField(_("date"))
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    responsible = models.CharField(_("responsible"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_on"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="contact_source_once")]
        indexes = [models.Index(fields=["patient", "unit"])]


class ResultFlag(models.TextChoices):
    NORMAL = "N", _("normal")
    LOW = "L", _("below the reference range")
    HIGH = "H", _("above the reference range")


class ValueType(models.TextChoices):
    """What a result's value is (FHIR Observation.value[x], or why there is none)."""

    QUANTITY = "quantity", _("a measured value")
    INTEGER = "integer", _("a whole number")
    STRING = "string", _("a text")
    CONCEPT = "concept", _("a coded answer")
    BOOLEAN = "boolean", _("yes or no")
    RANGE = "range", _("a range")
    ABSENT = "absent", _("no value")
    COMPONENTS = "components", _("several values")
    PANEL = "panel", _("a group of results")
    TEXT = "text", _("a report's text")


# FHIR's data-absent-reason codes (http://terminology.hl7.org/CodeSystem/data-absent-reason), as
# the resident reads them after "value missing".
ABSENT_REASONS = {
    "unknown": _("unknown"),
    "asked-unknown": _("unknown"),
    "temp-unknown": _("not known yet"),
    "not-asked": _("not asked"),
    "asked-declined": _("declined"),
    "masked": _("not shown"),
    "not-applicable": _("not applicable"),
    "unsupported": _("not supported"),
    "as-text": _("given as text"),
    "error": _("an error"),
    "not-a-number": _("not a number"),
    "negative-infinity": _("below what can be measured"),
    "positive-infinity": _("above what can be measured"),
    "not-performed": _("the analysis was not performed"),
    "not-permitted": _("not permitted"),
}


def absent_label(reason: str) -> str:
    """A data-absent reason as the resident reads it: our words for FHIR's codes, else the lab's text."""
    return str(ABSENT_REASONS.get(reason, reason))


class LabResult(Sourced):
    analysis = models.CharField(_("analysis"), max_length=200)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    # A text answer, or the whole text of an imaging or other report.
    value_text = models.TextField(_("result"), blank=True)
    unit_of_measure = models.CharField(_("unit"), max_length=40, blank=True)
    reference_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    flag = models.CharField(max_length=1, choices=ResultFlag.choices, blank=True)
    taken_at = models.DateTimeField(_("sample taken"))
    # The source's FHIR status: a preliminary answer may still change.
    status = models.CharField(max_length=16, default="final")
    # From a FHIR DiagnosticReport (imaging and other reports) rather than an Observation.
    report = models.BooleanField(default=False)
    value_type = models.CharField(max_length=16, choices=ValueType.choices, default=ValueType.QUANTITY)
    # The upper end of a valueRange (``value`` holds its lower end).
    value_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # Why there is no value (Observation.dataAbsentReason): a code of ABSENT_REASONS or the lab's text.
    absent_reason = models.CharField(max_length=200, blank=True)
    # Observation.component: [{"analysis", "value", "value_text", "unit", "low", "high", "flag",
    # "absent_reason"}], numbers as decimal strings; blood pressure is two of them.
    components = models.JSONField(default=list, blank=True)
    # The report or panel this result is shown under (DiagnosticReport.result, Observation.hasMember).
    panel = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="members")

    class Meta:
        ordering = ["-taken_at"]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_id"], name="result_source_once"),
            # A value, a text, or a value type that carries its own content (a range, components,
            # a panel's members, the reason a value is missing).
            models.CheckConstraint(
                condition=~Q(value__isnull=True, value_text="", value_type__in=["quantity", "integer", "string"]),
                name="result_has_a_value",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "analysis", "-taken_at"]),
            # The results page (newest first): without it a long history is sorted on every view.
            models.Index(fields=["patient", "-taken_at"], name="result_patient_newest"),
            models.Index(fields=["patient", "unit"]),
        ]


class Medicine(Sourced):
    name = models.CharField(_("medicine"), max_length=200)
    strength = models.CharField(_("strength"), max_length=100, blank=True)
    dosage = models.CharField(_("dosage"), max_length=300, blank=True)
    prescriber = models.CharField(_("prescriber"), max_length=200, blank=True)
    dispensed_on = models.DateField(_("dispensed"))
    current = models.BooleanField(_("current"), default=True)
    renewable = models.BooleanField(_("can be renewed"), default=False)
    # The prescription it was dispensed on (MedicationDispense.authorizingPrescription), by that
    # Prescription's business identifier (a pharmacy's system may dispense on a journal system's
    # prescription, so not only within one source system); blank when not named.
    prescription_source_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["name", "-dispensed_on"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="medicine_source_once")]
        indexes = [
            models.Index(fields=["patient", "unit"]),
            models.Index(fields=["patient", "prescription_source_id"], name="medicine_prescription"),
        ]


class RemovedEntry(models.Model):
    """A tombstone: a record entry a source system took back out (entered in error, refuted,
    cancelled) existed, and who removed it when. Never its medical content: the row itself is
    deleted, so no record page shows it; the tombstone and the audit log say it was there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(CareUnit, on_delete=models.PROTECT, related_name="+")
    # What the entry was: its table (RecordNote, LabResult, ...), its id here and its source's identifier.
    kind = models.CharField(max_length=32)
    entry_id = models.UUIDField()
    source_system = models.CharField(max_length=64)
    source_id = models.CharField(max_length=128)
    entry_received_at = models.DateTimeField()
    # The status that took it out (entered-in-error, refuted, cancelled, planned).
    reason = models.CharField(max_length=32)
    removed_at = models.DateTimeField()
    removed_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-removed_at"]
        indexes = [models.Index(fields=["patient", "-removed_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_system}|{self.source_id} removed {self.removed_at:%Y-%m-%d}"


class Practitioner(models.Model):
    """A practitioner the source systems name as an author (FHIR Practitioner), keyed by HSA-id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    hsa_id = models.CharField(_("HSA-id"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    profession = models.CharField(_("profession"), max_length=64, blank=True)
    source_system = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class RecordPreferences(models.Model):
    """The patient's own choices about their record view."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="record_preferences")
    show_unsigned = models.BooleanField(_("show notes that are not yet signed"), default=False)
    hide_recent = models.BooleanField(_("hide entries from the last 14 days"), default=False)
    notify_new_results = models.BooleanField(_("tell me when a new test result arrives"), default=False)


# --- prescriptions, alerts, vaccinations and referrals (issue 21) ----------------------------------


class PrescriptionStatus(models.TextChoices):
    ACTIVE = "active", _("current")
    ON_HOLD = "on-hold", _("paused")
    COMPLETED = "completed", _("ended")
    STOPPED = "stopped", _("stopped")


class Prescription(Sourced):
    """A prescription (FHIR MedicationRequest). ``unit`` is the prescribing unit; the dispensings
    made on it are the patient's Medicine rows naming it by ``prescription_source_id``."""

    name = models.CharField(_("medicine"), max_length=200)
    dosage = models.CharField(_("dosage"), max_length=300, blank=True)
    prescriber_name = models.CharField(_("prescriber"), max_length=200, blank=True)
    prescriber_profession = models.CharField(_("profession"), max_length=64, blank=True)
    prescribed_on = models.DateField(_("prescribed"))
    status = models.CharField(max_length=16, choices=PrescriptionStatus.choices)
    # dispenseRequest.numberOfRepeatsAllowed: the dispensings allowed after the first (None: not said).
    repeats_allowed = models.PositiveIntegerField(null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["name", "-prescribed_on"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="prescription_source_once")]
        indexes = [models.Index(fields=["patient", "unit"])]

    @property
    def profession_label(self) -> str:
        return str(dict(Profession.choices).get(self.prescriber_profession, self.prescriber_profession))


class AlertKind(models.TextChoices):
    ALLERGY = "allergy", _("allergy or intolerance")
    WARNING = "warning", _("warning")


ALLERGY_CATEGORIES = {
    "food": _("food"),
    "medication": _("medicine"),
    "environment": _("environment"),
    "biologic": _("biological"),
}


class Alert(Sourced):
    """Uppmärksamhetsinformation: an allergy or intolerance (FHIR AllergyIntolerance) or another
    warning (FHIR Flag). Refuted and erroneous ones are never kept (taken out with a tombstone)."""

    kind = models.CharField(max_length=8, choices=AlertKind.choices)
    text = models.CharField(_("substance or warning"), max_length=300)
    category = models.CharField(_("category"), max_length=120, blank=True)
    # AllergyIntolerance.criticality "high": shown first.
    critical = models.BooleanField(_("critical"), default=False)
    confirmed = models.BooleanField(_("confirmed"), default=True)
    reactions = models.CharField(_("reactions"), max_length=500, blank=True)
    noted_on = models.DateField(_("date"))
    # An allergy that is inactive or resolved, or a warning no longer active, is not shown.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-critical", "-noted_on"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="alert_source_once")]
        indexes = [models.Index(fields=["patient", "unit"])]

    @property
    def category_label(self) -> str:
        """An allergy's categories (FHIR codes) in the reader's language."""
        return ", ".join(str(ALLERGY_CATEGORIES.get(code, code)) for code in self.category.split(",") if code)


class Vaccination(Sourced):
    """A vaccination given (FHIR Immunization with status completed)."""

    vaccine = models.CharField(_("vaccine"), max_length=200)
    vaccine_code = models.CharField(_("code"), max_length=64, blank=True)
    given_on = models.DateField(_("date"))
    dose = models.CharField(_("dose"), max_length=32, blank=True)
    lot_number = models.CharField(_("batch"), max_length=64, blank=True)

    class Meta:
        ordering = ["-given_on", "vaccine"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="vaccination_source_once")]
        indexes = [models.Index(fields=["patient", "unit"])]


class ReferralStatus(models.TextChoices):
    # "en remiss": the Swedish words agree with it, so they have a context of their own.
    SENT = "sent", pgettext_lazy("referral status", "sent")
    RECEIVED = "received", pgettext_lazy("referral status", "received")
    ACCEPTED = "accepted", pgettext_lazy("referral status", "accepted")
    SCHEDULED = "scheduled", pgettext_lazy("referral status", "appointment booked")
    COMPLETED = "completed", pgettext_lazy("referral status", "completed")
    REFUSED = "refused", pgettext_lazy("referral status", "refused")
    WITHDRAWN = "withdrawn", pgettext_lazy("referral status", "withdrawn")


class Referral(Sourced):
    """A referral (FHIR ServiceRequest). ``unit`` is the unit that sent it, whose publishing rules
    apply; the receiving unit is kept by name. Its statuses as the source sent them are its events."""

    to_unit = models.CharField(_("to"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    sent_on = models.DateField(_("sent"))
    status = models.CharField(_("status"), max_length=16, choices=ReferralStatus.choices)
    # The version's meta.lastUpdated, when the source gives it: when the status was set.
    version_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_on"]
        constraints = [models.UniqueConstraint(fields=["source_system", "source_id"], name="referral_source_once")]
        indexes = [models.Index(fields=["patient", "unit"])]


class ReferralEvent(models.Model):
    """One status a referral had, from the version of the ServiceRequest that carried it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=16, choices=ReferralStatus.choices)
    # The source's meta.lastUpdated of that version, else when it arrived.
    at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["at", "received_at"]
        indexes = [models.Index(fields=["referral", "at"])]
