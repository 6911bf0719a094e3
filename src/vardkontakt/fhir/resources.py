"""The platform's copies as FHIR R4 resources, for ``read`` and ``search``.

What comes back is what the platform keeps (the mapped fields), not the source's original
document: a source system can see exactly what its push became.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Model

from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.fhir.importer.labs import ABSENT_REASON_SYSTEM
from vardkontakt.fhir.importer.vocabulary import (
    HSA_SYSTEM,
    ICD10_SYSTEMS,
    PERSONNUMMER_SYSTEM,
    REFERRAL_STATUS_EXTENSION,
    RENEWABLE_EXTENSION,
    UNIT_EXTENSION,
)
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import (
    ABSENT_REASONS,
    Alert,
    CareContact,
    Diagnosis,
    LabResult,
    Medicine,
    Practitioner,
    Prescription,
    RecordNote,
    Referral,
    ReferralStatus,
    Vaccination,
    ValueType,
)

ICD10 = sorted(ICD10_SYSTEMS)[0]
# Confidentiality "restricted": the population register hides this person's details.
RESTRICTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}


def _business_identifier(source_id: str) -> list[dict[str, str]]:
    system, _, value = source_id.partition("|")
    return [{"system": system, "value": value}]


def _subject(row: Any) -> dict[str, Any]:
    return {
        "reference": f"Patient/{row.patient_id}",
        "identifier": {"system": PERSONNUMMER_SYSTEM, "value": row.patient.personnummer},
    }


def _unit_extension(row: Any) -> list[dict[str, Any]]:
    return [{"url": UNIT_EXTENSION, "valueIdentifier": {"system": HSA_SYSTEM, "value": row.unit.hsa_id}}]


def _instant(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(), tzinfo=STOCKHOLM).isoformat()


def _number(value: Decimal) -> float | int:
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def patient(row: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(row.pk),
        "identifier": [{"system": PERSONNUMMER_SYSTEM, "value": row.personnummer}],
    }
    if row.protected_identity:
        resource["meta"] = {"security": [RESTRICTED]}
    elif row.given_name or row.family_name:
        resource["name"] = [{"family": row.family_name, "given": row.given_name.split()}]
    return resource


def practitioner(row: Practitioner) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(row.pk),
        "identifier": [{"system": HSA_SYSTEM, "value": row.hsa_id}],
        "name": [{"text": row.name}],
    }
    if row.profession:
        resource["qualification"] = [{"code": {"text": row.profession}}]
    return resource


def organization(row: CareUnit) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": str(row.pk),
        "identifier": [{"system": HSA_SYSTEM, "value": row.hsa_id}],
        "active": True,
        "name": row.name,
    }


def note(row: RecordNote) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "status": "current",
        "docStatus": "final" if row.signed else "preliminary",
        "type": {"text": row.template},
        "subject": _subject(row),
        "date": _instant(row.written_on),
        "author": [{"display": row.author_name}],
        "custodian": {"identifier": {"system": HSA_SYSTEM, "value": row.unit.hsa_id}},
        "context": {"practiceSetting": {"text": row.author_profession}},
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(row.text.encode()).decode(),
                }
            }
        ],
    }


def condition(row: Diagnosis) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "code": {"coding": [{"system": ICD10, "code": row.code}], "text": row.text},
        "subject": _subject(row),
        "recordedDate": row.recorded_on.isoformat(),
    }


def encounter(row: CareContact) -> dict[str, Any]:
    period = {"start": _instant(row.started_on)}
    if row.ended_on:
        period["end"] = _instant(row.ended_on)
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "status": "finished" if row.ended_on else "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [{"text": row.kind}],
        "subject": _subject(row),
        "period": period,
        "serviceProvider": {"identifier": {"system": HSA_SYSTEM, "value": row.unit.hsa_id}},
    }
    if row.responsible:
        resource["participant"] = [{"individual": {"display": row.responsible}}]
    return resource


def _quantity(value: Decimal | str | None, unit: str) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": _number(Decimal(value))} if value is not None else {}
    return {**quantity, "unit": unit} if unit else quantity


def _range(low: Decimal | str | None, high: Decimal | str | None, unit: str = "") -> dict[str, Any]:
    return {name: _quantity(value, unit) for name, value in (("low", low), ("high", high)) if value is not None}


def _value(
    resource: dict[str, Any], value_type: str, value: Any, value_high: Any, text: str, unit: str, absent: str
) -> None:
    """value[x] (or dataAbsentReason) as the import read it (mapping._value), onto ``resource``."""
    if value_type == ValueType.ABSENT:
        coding = [{"system": ABSENT_REASON_SYSTEM, "code": absent}] if absent in ABSENT_REASONS else []
        resource["dataAbsentReason"] = {"coding": coding} if coding else {"text": absent}
    elif value_type == ValueType.RANGE:
        resource["valueRange"] = _range(value, value_high, unit)
    elif value_type == ValueType.INTEGER and value is not None:
        resource["valueInteger"] = int(Decimal(value))
    elif value_type == ValueType.BOOLEAN:
        resource["valueBoolean"] = text == "true"
    elif value_type == ValueType.CONCEPT:
        resource["valueCodeableConcept"] = {"text": text}
    elif value is not None:
        resource["valueQuantity"] = _quantity(value, unit)
    elif text:
        resource["valueString"] = text


def _flag(flag: str) -> list[dict[str, Any]]:
    system = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
    return [{"coding": [{"system": system, "code": flag}]}] if flag else []


def _members(row: LabResult) -> list[dict[str, str]]:
    return [
        {"reference": f"{'DiagnosticReport' if m.report else 'Observation'}/{m.pk}"}
        for m in row.members.order_by("taken_at", "analysis")
    ]


def observation(row: LabResult) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "status": row.status,
        "code": {"text": row.analysis},
        "subject": _subject(row),
        "effectiveDateTime": row.taken_at.isoformat(),
    }
    _value(resource, row.value_type, row.value, row.value_high, row.value_text, row.unit_of_measure, row.absent_reason)
    bounds = _range(row.reference_low, row.reference_high)
    if bounds:
        resource["referenceRange"] = [bounds]
    if row.flag:
        resource["interpretation"] = _flag(row.flag)
    if row.value_type == ValueType.PANEL:
        resource["hasMember"] = _members(row)
    components = []
    for part in row.components:
        component: dict[str, Any] = {"code": {"text": part["analysis"]}}
        _value(
            component,
            part["value_type"],
            part["value"],
            part["value_high"],
            part["value_text"],
            part["unit"],
            part["absent_reason"],
        )
        if part["low"] is not None or part["high"] is not None:
            component["referenceRange"] = [_range(part["low"], part["high"])]
        if part["flag"]:
            component["interpretation"] = _flag(part["flag"])
        components.append(component)
    if components:
        resource["component"] = components
    return resource


def diagnostic_report(row: LabResult) -> dict[str, Any]:
    resource = {
        "resourceType": "DiagnosticReport",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "status": row.status,
        "code": {"text": row.analysis},
        "subject": _subject(row),
        "effectiveDateTime": row.taken_at.isoformat(),
    }
    members = _members(row)
    if members:
        resource["result"] = members
    if row.value_text:
        resource["conclusion"] = row.value_text
    return resource


def medication_dispense(row: Medicine) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": [*_unit_extension(row), {"url": RENEWABLE_EXTENSION, "valueBoolean": row.renewable}],
        "status": "completed" if row.current else "stopped",
        "medicationCodeableConcept": {"text": row.name},
        "subject": _subject(row),
        "whenHandedOver": _instant(row.dispensed_on),
    }
    if row.dosage:
        resource["dosageInstruction"] = [{"text": row.dosage}]
    if row.prescriber or row.prescription_source_id:
        prescription: dict[str, Any] = {"display": row.prescriber} if row.prescriber else {}
        if row.prescription_source_id:
            prescription["identifier"] = _business_identifier(row.prescription_source_id)[0]
        resource["authorizingPrescription"] = [prescription]
    return resource


def medication_request(row: Prescription) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "status": row.status,
        "intent": "order",
        "medicationCodeableConcept": {"text": row.name},
        "subject": _subject(row),
        "authoredOn": row.prescribed_on.isoformat(),
    }
    if row.prescriber_name:
        resource["requester"] = {"display": row.prescriber_name}
    if row.dosage:
        resource["dosageInstruction"] = [{"text": row.dosage}]
    request: dict[str, Any] = {}
    if row.repeats_allowed is not None:
        request["numberOfRepeatsAllowed"] = row.repeats_allowed
    if row.valid_until:
        request["validityPeriod"] = {"end": row.valid_until.isoformat()}
    if request:
        resource["dispenseRequest"] = request
    return resource


def _status_code(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}", "code": code}]}


def allergy_intolerance(row: Alert) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "clinicalStatus": _status_code("allergyintolerance-clinical", "active" if row.active else "inactive"),
        "verificationStatus": _status_code(
            "allergyintolerance-verification", "confirmed" if row.confirmed else "unconfirmed"
        ),
        "code": {"text": row.text},
        "patient": _subject(row),
        "recordedDate": row.noted_on.isoformat(),
    }
    if row.critical:
        resource["criticality"] = "high"
    if row.category:
        resource["category"] = row.category.split(",")
    if row.reactions:
        resource["reaction"] = [{"manifestation": [{"text": row.reactions}]}]
    return resource


def flag(row: Alert) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "status": "active" if row.active else "inactive",
        "code": {"text": row.text},
        "subject": _subject(row),
        "period": {"start": row.noted_on.isoformat()},
    }
    if row.category:
        resource["category"] = [{"text": row.category}]
    return resource


def immunization(row: Vaccination) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "status": "completed",
        "vaccineCode": {"text": row.vaccine},
        "patient": _subject(row),
        "occurrenceDateTime": row.given_on.isoformat(),
    }
    if row.vaccine_code:
        resource["vaccineCode"]["coding"] = [{"code": row.vaccine_code}]
    if row.dose:
        resource["protocolApplied"] = [{"doseNumberString": row.dose}]
    if row.lot_number:
        resource["lotNumber"] = row.lot_number
    return resource


def service_request(row: Referral) -> dict[str, Any]:
    status = {
        ReferralStatus.COMPLETED: "completed",
        ReferralStatus.WITHDRAWN: "revoked",
        ReferralStatus.REFUSED: "revoked",
    }.get(ReferralStatus(row.status), "active")
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(row.pk),
        "identifier": _business_identifier(row.source_id),
        "extension": _unit_extension(row),
        "status": status,
        "intent": "order",
        "subject": _subject(row),
        "authoredOn": row.sent_on.isoformat(),
        "performer": [{"display": row.to_unit}],
    }
    if row.status != ReferralStatus.WITHDRAWN:
        resource["extension"].append({"url": REFERRAL_STATUS_EXTENSION, "valueCode": row.status})
    if row.reason:
        resource["reasonCode"] = [{"text": row.reason}]
    return resource


SERIALISERS: dict[str, Any] = {
    "Patient": patient,
    "Practitioner": practitioner,
    "Organization": organization,
    "DocumentReference": note,
    "Condition": condition,
    "Encounter": encounter,
    "Observation": observation,
    "DiagnosticReport": diagnostic_report,
    "MedicationDispense": medication_dispense,
    "MedicationRequest": medication_request,
    "AllergyIntolerance": allergy_intolerance,
    "Flag": flag,
    "Immunization": immunization,
    "ServiceRequest": service_request,
}


def as_fhir(resource_type: str, row: Model) -> dict[str, Any]:
    return SERIALISERS[resource_type](row)
