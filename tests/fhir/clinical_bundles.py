"""Realistic transaction Bundles of the clinical resources of issue 21, after the shapes of the FHIR
R4 examples (medicationrequest0301/0302, medicationdispense0301, allergyintolerance-example,
flag-example, immunization-example, servicerequest referral): a prescription with repeats and two
dispensings, an allergy and a warning, a vaccination, a referral whose status moves on.

Dates are computed from ``today`` (the caller's frozen or real clock), never written as literals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vardkontakt.demo import demo_data
from vardkontakt.fhir.importer import HSA_SYSTEM, PERSONNUMMER_SYSTEM, UNIT_EXTENSION
from vardkontakt.fhir.importer.vocabulary import REFERRAL_STATUS_EXTENSION

LINDANGEN = demo_data.unit_hsa_id("E1001")
TOLVAN = "191212121212"
PRESCRIPTION_URL = "urn:uuid:6f1c3c52-7d0e-4d3b-9d55-2b4a3e9a0301"
PRACTITIONER_URL = "urn:uuid:0b7a1f44-55a2-4b8e-9a11-4f0f4a6e0001"


def day(today: dt.date, days_ago: int) -> str:
    return (today - dt.timedelta(days=days_ago)).isoformat()


def subject(number: str = TOLVAN) -> dict[str, Any]:
    return {"identifier": {"system": PERSONNUMMER_SYSTEM, "value": number}}


def unit_ext(hsa: str = LINDANGEN) -> list[dict[str, Any]]:
    return [{"url": UNIT_EXTENSION, "valueIdentifier": {"system": HSA_SYSTEM, "value": hsa}}]


def transaction(*resources: dict[str, Any], urls: dict[int, str] | None = None) -> dict[str, Any]:
    entries = []
    for index, resource in enumerate(resources):
        entry: dict[str, Any] = {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
        if urls and index in urls:
            entry["fullUrl"] = urls[index]
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def practitioner() -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": HSA_SYSTEM, "value": "SE2321000255-P301"}],
        "name": [{"family": "Receptsson", "given": ["Rut"]}],
        "qualification": [{"code": {"text": "doctor"}}],
    }


def prescription(today: dt.date, ident: str = "rx-0301", number: str = TOLVAN, **changes: Any) -> dict[str, Any]:
    """medicationrequest0301's shape: an order with a dosage, repeats and a validity period."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "identifier": [{"system": "urn:oid:1.2.752.129.2.1.2.1", "value": ident}],
        "extension": unit_ext(),
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.whocc.no/atc", "code": "C09AA05", "display": "Ramipril"}],
            "text": "Ramipril 5 mg tablett",
        },
        "subject": subject(number),
        "authoredOn": day(today, 100),
        "requester": {"display": "Rut Receptsson"},
        "dosageInstruction": [{"sequence": 1, "text": "1 tablett morgon"}],
        "dispenseRequest": {
            "validityPeriod": {"start": day(today, 100), "end": day(today, -265)},
            "numberOfRepeatsAllowed": 3,
            "quantity": {"value": 100, "unit": "tablett"},
            "expectedSupplyDuration": {
                "value": 100,
                "unit": "days",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            },
        },
    }
    resource.update(changes)
    return resource


def dispense(
    today: dt.date, ident: str, days_ago: int, prescription_ref: dict[str, Any] | None = None
) -> dict[str, Any]:
    """medicationdispense0301's shape, linked to its prescription by authorizingPrescription."""
    return {
        "resourceType": "MedicationDispense",
        "identifier": [{"system": "urn:oid:1.2.752.129.2.1.2.2", "value": ident}],
        "extension": unit_ext(),
        "status": "completed",
        "medicationCodeableConcept": {"text": "Ramipril 5 mg tablett"},
        "subject": subject(),
        "authorizingPrescription": [prescription_ref or {"reference": PRESCRIPTION_URL}],
        "quantity": {"value": 100, "unit": "tablett"},
        "whenHandedOver": f"{day(today, days_ago)}T14:00:00+01:00",
        "dosageInstruction": [{"text": "1 tablett morgon"}],
    }


def prescription_bundle(today: dt.date) -> dict[str, Any]:
    """A prescription with 3 repeats (4 dispensings in all) and two dispensings made on it."""
    return transaction(
        practitioner(),
        prescription(today, requester={"reference": PRACTITIONER_URL}),
        dispense(today, "disp-1", 95),
        dispense(today, "disp-2", 5),
        urls={0: PRACTITIONER_URL, 1: PRESCRIPTION_URL},
    )


def allergy(today: dt.date, ident: str = "al-1", **changes: Any) -> dict[str, Any]:
    """allergyintolerance-example's shape: a critical, confirmed allergy with a reaction."""
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "identifier": [{"system": "urn:pmo:allergy", "value": ident}],
        "extension": unit_ext(),
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}
            ]
        },
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}
            ]
        },
        "type": "allergy",
        "category": ["medication"],
        "criticality": "high",
        "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J01CE02"}], "text": "Penicillin V"},
        "patient": subject(),
        "recordedDate": day(today, 400),
        "reaction": [
            {
                "manifestation": [{"text": "Nässelfeber"}, {"text": "Andnöd"}],
                "severity": "severe",
            }
        ],
    }
    resource.update(changes)
    return resource


def warning(today: dt.date, ident: str = "flag-1", **changes: Any) -> dict[str, Any]:
    """flag-example's shape: another warning (uppmärksamhetsinformation)."""
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "identifier": [{"system": "urn:pmo:flag", "value": ident}],
        "extension": unit_ext(),
        "status": "active",
        "category": [{"text": "Behandling"}],
        "code": {"text": "Behandlas med blodförtunnande läkemedel (Waran)"},
        "subject": subject(),
        "period": {"start": day(today, 300)},
    }
    resource.update(changes)
    return resource


def alerts_bundle(today: dt.date) -> dict[str, Any]:
    unconfirmed = allergy(
        today,
        "al-2",
        criticality="low",
        category=["food"],
        code={"text": "Jordnötter"},
        verificationStatus={"coding": [{"code": "unconfirmed"}]},
        recordedDate=day(today, 30),
        reaction=[{"manifestation": [{"text": "Klåda i munnen"}], "severity": "mild"}],
    )
    return transaction(unconfirmed, warning(today), allergy(today))


def vaccination(today: dt.date, ident: str = "imm-1", **changes: Any) -> dict[str, Any]:
    """immunization-example's shape: a vaccine by ATC code, dose number, lot."""
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "identifier": [{"system": "urn:svevac:immunization", "value": ident}],
        "extension": unit_ext(),
        "status": "completed",
        "vaccineCode": {
            "coding": [{"system": "http://www.whocc.no/atc", "code": "J07BB02", "display": "Influensavaccin"}],
            "text": "Influvac Tetra",
        },
        "patient": subject(),
        "occurrenceDateTime": f"{day(today, 60)}T10:30:00+01:00",
        "primarySource": True,
        "lotNumber": "AAJN11K",
        "site": {"text": "Vänster överarm"},
        "doseQuantity": {"value": 0.5, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"},
        "protocolApplied": [{"doseNumberPositiveInt": 1, "seriesDosesPositiveInt": 1}],
    }
    resource.update(changes)
    return resource


def referral(
    today: dt.date, status: str | None, *, ident: str = "rem-1", fhir_status: str = "active", hours: int = 0
) -> dict[str, Any]:
    """A referral from the health centre to the orthopaedic clinic; ``status`` its remisstatus."""
    extensions = unit_ext()
    if status is not None:
        extensions = [*extensions, {"url": REFERRAL_STATUS_EXTENSION, "valueCode": status}]
    return {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "urn:pmo:referral", "value": ident}],
        "meta": {"lastUpdated": f"{day(today, 20)}T{8 + hours:02d}:00:00+01:00"},
        "extension": extensions,
        "status": fhir_status,
        "intent": "order",
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "3457005", "display": "Remiss"}]}],
        "code": {"text": "Bedömning ortopedi"},
        "subject": subject(),
        "authoredOn": day(today, 25),
        "requester": {"display": "Rut Receptsson"},
        "performer": [{"display": "Ortopedmottagningen, Lindängens sjukhus"}],
        "reasonCode": [{"text": "Knäsmärta sedan ett halvår"}],
    }


def referral_bundle(today: dt.date, status: str | None = "sent", **kwargs: Any) -> dict[str, Any]:
    return transaction(referral(today, status, **kwargs))
