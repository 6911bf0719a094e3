"""What the import understands: identifier systems, our extensions, value sets, and which FHIR
resource becomes which row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.immunization import Immunization
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.servicerequest import ServiceRequest

from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import (
    Alert,
    CareContact,
    Diagnosis,
    LabResult,
    Medicine,
    Practitioner,
    Prescription,
    RecordNote,
    Referral,
    Vaccination,
)

PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
HSA_SYSTEM = "urn:oid:1.2.752.29.4.19"
UNIT_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/care-unit"
# The code system of note templates in DocumentReference.type (records.models.EARLY_HYPOTHESES_CODE).
NOTE_TEMPLATE_SYSTEM = "https://vardkontakt.example/fhir/CodeSystem/note-template"
RENEWABLE_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/renewable"
# A referral's status as the receiving side sets it (remisstatus), on ServiceRequest (docs/api.md).
REFERRAL_STATUS_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/referral-status"
ICD10_SYSTEMS = {"http://hl7.org/fhir/sid/icd-10", "urn:oid:1.2.752.116.1.1.1"}  # ICD-10, ICD-10-SE
ENTERED_IN_ERROR = "entered-in-error"

STATUS = {
    "Observation": {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "DocumentReference": {"current", "superseded", "entered-in-error"},
    "Encounter": {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "DiagnosticReport": {
        "registered",
        "partial",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "MedicationDispense": {
        "preparation",
        "in-progress",
        "cancelled",
        "on-hold",
        "completed",
        "entered-in-error",
        "stopped",
        "declined",
        "unknown",
    },
}
# The resources of issue 21 (fhir/importer/clinical.py maps them).
STATUS["MedicationRequest"] = {"active", "on-hold", "completed", "stopped", "cancelled", "draft", "entered-in-error"}
STATUS["Flag"] = {"active", "inactive", "entered-in-error"}
STATUS["Immunization"] = {"completed", "not-done", "entered-in-error"}
STATUS["ServiceRequest"] = {"active", "on-hold", "revoked", "completed", "entered-in-error"}
DOC_STATUS = {"preliminary", "final", "amended", "entered-in-error"}
CLINICAL_STATUS = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
VERIFICATION_STATUS = {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
# A lab value must fit the column (12 digits, 4 after the point).
VALUE_LIMIT = Decimal("100000000")

MODELS: dict[str, Any] = {
    "Patient": FhirPatient,
    "Practitioner": FhirPractitioner,
    "Organization": Organization,
    "Observation": Observation,
    "DiagnosticReport": DiagnosticReport,
    "DocumentReference": DocumentReference,
    "Condition": Condition,
    "Encounter": Encounter,
    "MedicationDispense": MedicationDispense,
    "MedicationRequest": MedicationRequest,
    "AllergyIntolerance": AllergyIntolerance,
    "Flag": Flag,
    "Immunization": Immunization,
    "ServiceRequest": ServiceRequest,
}
# What the platform keeps of each record resource type.
RECORD_MODELS: dict[str, type[models.Model]] = {
    "DocumentReference": RecordNote,
    "Condition": Diagnosis,
    "Encounter": CareContact,
    "Observation": LabResult,
    "DiagnosticReport": LabResult,
    "MedicationDispense": Medicine,
    "MedicationRequest": Prescription,
    "AllergyIntolerance": Alert,
    "Flag": Alert,
    "Immunization": Vaccination,
    "ServiceRequest": Referral,
}
# What a source system may send of a type beyond the R4 base, for the CapabilityStatement (docs/api.md has it all).
ACCEPTED: dict[str, str] = {
    "Observation": "Accepted: value[x] as valueQuantity (UCUM), valueInteger, valueString, valueCodeableConcept, "
    "valueBoolean, valueRange, or dataAbsentReason; component (each its own code, value, unit and referenceRange); "
    "hasMember (Observations of the Bundle or held); several referenceRange, by age and appliesTo (sex).",
    "DiagnosticReport": "Accepted: result (Observations of the Bundle or held), conclusion and presentedForm "
    "(text/plain, base64) optional when there are results.",
}
# Where a resource names its patient, when not in ``subject``.
PATIENT_PATH = {"AllergyIntolerance": "patient", "Immunization": "patient"}
RESOURCE_TYPES = sorted(MODELS)
WRITE_BATCH = 500

STORED_BY_ID: dict[str, Any] = {
    "Patient": Patient,
    "Practitioner": Practitioner,
    "Organization": CareUnit,
    **RECORD_MODELS,
}
