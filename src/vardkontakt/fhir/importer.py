"""Import of record data as FHIR R4 transaction Bundles: validated, mapped, all or nothing.

Validation is two-layered: the R4B models of `fhir.resources` (structure and types; R4B is
wire-compatible with R4 for these resources) and our own checks of value sets, identifiers and
references, which those models do not make (they accept ``status="nonsense"``).

Every resource names its patient by personnummer and its care unit by HSA-id (see docs/api.md);
each is upserted by its business identifier, so sending the same Bundle twice changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError as PydanticError

from vardkontakt.identity.models import Patient
from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import CareContact, Diagnosis, LabResult, Medicine, RecordNote

PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
HSA_SYSTEM = "urn:oid:1.2.752.29.4.19"
UNIT_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/care-unit"
RENEWABLE_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/renewable"
ICD10_SYSTEMS = {"http://hl7.org/fhir/sid/icd-10", "urn:oid:1.2.752.116.1.1.1"}  # ICD-10, ICD-10-SE

STATUS = {
    "Observation": {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"},
    "DocumentReference": {"current", "superseded", "entered-in-error"},
    "Encounter": {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"},
    "MedicationDispense": {"preparation", "in-progress", "cancelled", "on-hold", "completed", "entered-in-error", "stopped", "declined", "unknown"},
}  # fmt: skip
DOC_STATUS = {"preliminary", "final", "amended", "entered-in-error"}
MODELS: dict[str, Any] = {
    "Observation": Observation,
    "DocumentReference": DocumentReference,
    "Condition": Condition,
    "Encounter": Encounter,
    "MedicationDispense": MedicationDispense,
}


@dataclass
class Issue:
    location: str
    message: str
    code: str = "invalid"


class FhirRejected(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{issue.location}: {issue.message}" for issue in issues))
        self.issues = issues


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": issue.code, "diagnostics": issue.message, "expression": [issue.location]}
            for issue in issues
        ],
    }


class _Reader:
    """Reads one resource (a plain dict after model validation) and collects the issues found."""

    def __init__(self, where: str, data: dict[str, Any], issues: list[Issue]) -> None:
        self.where, self.data, self.issues = where, data, issues

    def fail(self, path: str, message: str, code: str = "invalid") -> None:
        self.issues.append(Issue(f"{self.where}.{path}", message, code))

    def business_id(self) -> str:
        for identifier in self.data.get("identifier") or []:
            if identifier.get("system") and identifier.get("value"):
                return f"{identifier['system']}|{identifier['value']}"[:128]
        self.fail("identifier", "a business identifier (system and value) is required", "required")
        return ""

    def patient(self, path: str = "subject") -> Patient | None:
        identifier = (self.data.get(path) or {}).get("identifier") or {}
        if identifier.get("system") != PERSONNUMMER_SYSTEM or not identifier.get("value"):
            self.fail(f"{path}.identifier", "the patient must be referenced by personnummer", "required")
            return None
        try:
            number = normalise_personnummer(identifier["value"])
        except ValidationError as error:
            self.fail(f"{path}.identifier.value", " ".join(str(m) for m in error.messages), "value")
            return None
        patient, _ = Patient.objects.get_or_create(personnummer=number, defaults={"given_name": "", "family_name": ""})
        return patient

    def unit(self) -> CareUnit | None:
        hsa = ""
        for extension in self.data.get("extension") or []:
            if extension.get("url") == UNIT_EXTENSION:
                hsa = (extension.get("valueIdentifier") or {}).get("value", "")
        if not hsa:
            for key in ("custodian", "serviceProvider"):
                identifier = (self.data.get(key) or {}).get("identifier") or {}
                if identifier.get("system") == HSA_SYSTEM:
                    hsa = identifier.get("value", "")
        if not hsa:
            self.fail("extension", "the care unit must be given by HSA-id", "required")
            return None
        unit = CareUnit.objects.filter(hsa_id=hsa.upper()).first()
        if unit is None:
            self.fail("extension", f"unknown care unit {hsa}", "not-found")
        return unit

    def status(self, resource_type: str) -> None:
        allowed = STATUS.get(resource_type)
        if allowed and self.data.get("status") not in allowed:
            self.fail("status", f"status must be one of {', '.join(sorted(allowed))}", "code-invalid")

    def date(self, value: Any, path: str) -> dt.date | None:
        if not value:
            self.fail(path, "a date is required", "required")
            return None
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            self.fail(path, "not a date", "value")
            return None

    def instant(self, value: Any, path: str) -> dt.datetime | None:
        if not value:
            self.fail(path, "a time is required", "required")
            return None
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(path, "not a date and time", "value")
            return None
        return parsed if parsed.tzinfo else timezone.make_aware(parsed)


def _text(concept: dict[str, Any] | None) -> str:
    concept = concept or {}
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    return ""


def _note(r: _Reader) -> dict[str, Any]:
    r.status("DocumentReference")
    doc_status = r.data.get("docStatus", "final")
    if doc_status not in DOC_STATUS:
        r.fail("docStatus", f"docStatus must be one of {', '.join(sorted(DOC_STATUS))}", "code-invalid")
    text = ""
    try:
        attachment = r.data["content"][0]["attachment"]
        text = base64.b64decode(attachment.get("data", "")).decode("utf-8")
    except (KeyError, IndexError, binascii.Error, UnicodeDecodeError):
        r.fail("content[0].attachment.data", "the note's text must be base64-encoded UTF-8", "value")
    author = (r.data.get("author") or [{}])[0]
    return {
        "author_name": str(author.get("display", ""))[:200],
        "author_profession": _text((r.data.get("context") or {}).get("practiceSetting"))[:64],
        "written_on": r.date(r.data.get("date"), "date"),
        "template": (_text(r.data.get("type")) or "Anteckning")[:120],
        "signed": doc_status in ("final", "amended"),
        "text": text,
    }


def _diagnosis(r: _Reader) -> dict[str, Any]:
    codings = (r.data.get("code") or {}).get("coding") or []
    icd = next((c for c in codings if c.get("system") in ICD10_SYSTEMS and c.get("code")), None)
    if icd is None:
        r.fail("code.coding", "an ICD-10 code is required", "code-invalid")
        icd = {}
    return {
        "code": str(icd.get("code", ""))[:10],
        "text": (_text(r.data.get("code")) or str(icd.get("code", "")))[:300],
        "recorded_on": r.date(r.data.get("recordedDate") or r.data.get("onsetDateTime"), "recordedDate"),
    }


def _contact(r: _Reader) -> dict[str, Any]:
    r.status("Encounter")
    period = r.data.get("period") or {}
    ended = r.data.get("period", {}).get("end")
    return {
        "kind": (_text((r.data.get("type") or [{}])[0]) or "Vårdkontakt")[:120],
        "started_on": r.date(period.get("start"), "period.start"),
        "ended_on": dt.date.fromisoformat(str(ended)[:10]) if ended else None,
        "responsible": str(((r.data.get("participant") or [{}])[0].get("individual") or {}).get("display", ""))[:200],
    }


def _result(r: _Reader) -> dict[str, Any]:
    r.status("Observation")
    if not _text(r.data.get("code")):
        r.fail("code", "the analysis must be named (code.text or a coding's display)", "required")
    quantity = r.data.get("valueQuantity") or {}
    ranges = (r.data.get("referenceRange") or [{}])[0]
    flag = ""
    for interpretation in r.data.get("interpretation") or []:
        for coding in interpretation.get("coding") or []:
            if coding.get("code") in ("H", "L", "N"):
                flag = coding["code"]
    value = quantity.get("value")
    value_text = str(r.data.get("valueString", ""))[:500]
    if value is None and not value_text:
        r.fail("value[x]", "a valueQuantity or valueString is required", "required")
    low, high = (ranges.get("low") or {}).get("value"), (ranges.get("high") or {}).get("value")
    return {
        "analysis": (_text(r.data.get("code")) or "Analys")[:200],
        "value": Decimal(str(value)) if value is not None else None,
        "value_text": value_text,
        "unit_of_measure": str(quantity.get("unit", ""))[:40],
        "reference_low": Decimal(str(low)) if low is not None else None,
        "reference_high": Decimal(str(high)) if high is not None else None,
        "flag": flag,
        "taken_at": r.instant(r.data.get("effectiveDateTime"), "effectiveDateTime"),
    }


def _medicine(r: _Reader) -> dict[str, Any]:
    r.status("MedicationDispense")
    renewable = any(
        extension.get("url") == RENEWABLE_EXTENSION and extension.get("valueBoolean")
        for extension in r.data.get("extension") or []
    )
    dosage = (r.data.get("dosageInstruction") or [{}])[0]
    prescription = (r.data.get("authorizingPrescription") or [{}])[0]
    return {
        "name": (_text(r.data.get("medicationCodeableConcept")) or "Läkemedel")[:200],
        "strength": "",
        "dosage": str(dosage.get("text", ""))[:300],
        "prescriber": str(prescription.get("display", ""))[:200],
        "dispensed_on": r.date(r.data.get("whenHandedOver"), "whenHandedOver"),
        "current": r.data.get("status") not in ("cancelled", "stopped", "entered-in-error"),
        "renewable": renewable,
    }


MAPPERS: dict[str, tuple[type[Any], Callable[[_Reader], dict[str, Any]]]] = {
    "DocumentReference": (RecordNote, _note),
    "Condition": (Diagnosis, _diagnosis),
    "Encounter": (CareContact, _contact),
    "Observation": (LabResult, _result),
    "MedicationDispense": (Medicine, _medicine),
}


def import_bundle(data: Any, *, source_system: str) -> ImportResult:
    """Validate the whole transaction Bundle first, then write it in one transaction."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirRejected([Issue("Bundle", "a Bundle resource is required", "structure")])
    if data.get("type") != "transaction":
        raise FhirRejected([Issue("Bundle.type", "only transaction Bundles are accepted", "not-supported")])
    try:
        Bundle.model_validate(data)
    except PydanticError as error:
        raise FhirRejected(_pydantic_issues("Bundle", error)) from None
    issues: list[Issue] = []
    planned: list[tuple[type[Any], str, dict[str, Any]]] = []
    with transaction.atomic():
        for index, entry in enumerate(data.get("entry") or []):
            resource = entry.get("resource") or {}
            resource_type = resource.get("resourceType", "")
            where = f"Bundle.entry[{index}].resource"
            if resource_type not in MAPPERS:
                issues.append(Issue(where, f"{resource_type or 'a resource'} cannot be imported here", "not-supported"))
                continue
            try:
                MODELS[resource_type].model_validate(resource)
            except PydanticError as error:
                issues.extend(_pydantic_issues(where, error))
                continue
            reader = _Reader(where, resource, issues)
            model, mapper = MAPPERS[resource_type]
            business_id = reader.business_id()
            patient = reader.patient()
            unit = reader.unit()
            fields = mapper(reader)
            if patient is not None and unit is not None and business_id:
                planned.append((model, business_id, {**fields, "patient": patient, "unit": unit}))
        if issues:
            transaction.set_rollback(True)  # patients created while reading go too
            raise FhirRejected(issues)
        result = ImportResult()
        now = timezone.now()
        for model, business_id, fields in planned:
            _, created = model.objects.update_or_create(
                source_system=source_system, source_id=business_id, defaults={**fields, "received_at": now}
            )
            result.created += created
            result.updated += not created
            result.by_type[model.__name__] = result.by_type.get(model.__name__, 0) + 1
    return result


def _pydantic_issues(where: str, error: PydanticError) -> list[Issue]:
    """Pydantic's locations in FHIRPath style: ('entry', 1, 'resource') → entry[1].resource."""
    issues = []
    for item in error.errors()[:20]:
        path = where
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        issues.append(Issue(path, item["msg"], "structure"))
    return issues
