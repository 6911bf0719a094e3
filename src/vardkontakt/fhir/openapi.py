"""An OpenAPI 3.0 description of the FHIR API, built from the same vocabulary as the import.

The CapabilityStatement (views.metadata) is what FHIR clients read; this is the same surface for
tools that speak OpenAPI, above all the fuzzer (`make fuzz-fhir`, fuzz/fhir.py). The schemas
describe what the import accepts, narrowly enough that a generator hits valid resources often;
``Values`` fills in the identifiers of one installation (known and unknown personnummer, the
client's own unit and another) so that generated requests reach past the first refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vardkontakt.fhir.appointments.reading import STATUSES as APPOINTMENT_STATUSES
from vardkontakt.fhir.importer.vocabulary import (
    CLINICAL_STATUS,
    DOC_STATUS,
    HSA_SYSTEM,
    PERSONNUMMER_SYSTEM,
    REFERRAL_STATUS_EXTENSION,
    RESOURCE_TYPES,
    STATUS,
    UNIT_EXTENSION,
    VERIFICATION_STATUS,
)

FHIR_JSON = "application/fhir+json"
FORM = "application/x-www-form-urlencoded"
RECORD_TYPES = (
    "AllergyIntolerance",
    "Condition",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "Flag",
    "Immunization",
    "MedicationDispense",
    "MedicationRequest",
    "Observation",
    "ServiceRequest",
)


@dataclass
class Values:
    """The identifiers a description offers the generator: personnummer (valid and held, valid and
    new, invalid), HSA-ids of units (the client's own and others), ids of rows held."""

    personnummer: list[str] = field(default_factory=lambda: ["191212121212", "190101010101"])
    unit_hsa_ids: list[str] = field(default_factory=lambda: ["SE0000000000-E0001"])
    row_ids: list[str] = field(default_factory=list)


def _text(max_length: int = 40) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^[A-Za-z0-9åäöÅÄÖ][A-Za-z0-9åäöÅÄÖ .,-]{{0,{max_length - 1}}}$"}


def _identifier(system: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["system", "value"],
        "properties": {"system": {"type": "string", "enum": [system]}, "value": value},
    }


def _one(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "maxItems": 1, "items": item}


def _concept() -> dict[str, Any]:
    return {"type": "object", "required": ["text"], "properties": {"text": _text()}}


def _coded(codes: set[str]) -> dict[str, Any]:
    coding = {"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "enum": sorted(codes)}}}
    return {"type": "object", "required": ["coding"], "properties": {"coding": _one(coding)}}


def _resource(resource_type: str, required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["resourceType", *required],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}, **properties},
    }


FULL_URLS = ["urn:uuid:a", "urn:uuid:b", "urn:uuid:c"]  # the Bundle entries' (few: references hit, circles too)


def _lab_values() -> dict[str, Any]:
    """The value[x] an Observation (or a component) may carry, and dataAbsentReason."""
    quantity = {
        "type": "object",
        "required": ["value"],
        "properties": {
            "value": {"type": "number"},
            "unit": _text(10),
            "system": {"type": "string", "enum": ["http://unitsofmeasure.org"]},
            "code": {"type": "string", "enum": ["mm[Hg]", "10*9/L", "g/L", "{score}"]},
        },
    }
    return {
        "valueQuantity": quantity,
        "valueInteger": {"type": "integer"},
        "valueString": _text(),
        "valueBoolean": {"type": "boolean"},
        "valueCodeableConcept": _concept(),
        "valueRange": {"type": "object", "properties": {"low": quantity, "high": quantity}},
        "dataAbsentReason": _coded({"error", "not-performed", "masked", "unknown"}),
    }


def _reference_ranges() -> dict[str, Any]:
    bound = {
        "type": "object",
        "properties": {"value": {"type": "number"}, "code": {"type": "string", "enum": ["a", "mo"]}},
    }
    return {
        "type": "array",
        "maxItems": 3,
        "items": {
            "type": "object",
            "properties": {
                "low": {"type": "object", "properties": {"value": {"type": "number"}}},
                "high": {"type": "object", "properties": {"value": {"type": "number"}}},
                "age": {"type": "object", "properties": {"low": bound, "high": bound}},
                "appliesTo": _one(_coded({"male", "female", "248153007", "248152002"})),
            },
        },
    }


def _references(values: Values) -> dict[str, Any]:
    """Results referenced by a report or panel: Bundle entries, held rows, or nothing at all."""
    targets = [*FULL_URLS, *(f"Observation/{row}" for row in values.row_ids), "Observation/nothing"]
    return {
        "type": "array",
        "maxItems": 3,
        "items": {
            "type": "object",
            "required": ["reference"],
            "properties": {"reference": {"type": "string", "enum": targets}},
        },
    }


def resource_schemas(values: Values) -> dict[str, dict[str, Any]]:
    business_id = _one(
        _identifier("urn:fuzz:entry", {"type": "string", "pattern": "^[a-z0-9]{1,6}$"})
    )  # few values, so updates and removals of held rows happen too
    subject = {
        "type": "object",
        "required": ["identifier"],
        "properties": {"identifier": _identifier(PERSONNUMMER_SYSTEM, {"type": "string", "enum": values.personnummer})},
    }
    unit = _one(
        {
            "type": "object",
            "required": ["url", "valueIdentifier"],
            "properties": {
                "url": {"type": "string", "enum": [UNIT_EXTENSION]},
                "valueIdentifier": _identifier(HSA_SYSTEM, {"type": "string", "enum": values.unit_hsa_ids}),
            },
        }
    )
    instant = {"type": "string", "enum": ["2026-10-01T10:00:00+02:00", "2025-03-30T02:30:00+01:00", "2026-01-01"]}
    day = {"type": "string", "enum": ["2026-10-01", "2024-02-29", "2026-13-01"]}
    record = {"identifier": business_id, "subject": subject, "extension": unit}
    base64_text = {"type": "string", "enum": ["TcOlciBicmEu", "SGFsc29udA==", "not base64", ""]}
    return {
        "Observation": _resource(
            "Observation",
            ["identifier", "status", "code", "subject", "effectiveDateTime", "extension"],
            {
                **record,
                "status": {"type": "string", "enum": sorted(STATUS["Observation"])},
                "code": _concept(),
                "effectiveDateTime": instant,
                **_lab_values(),
                "referenceRange": _reference_ranges(),
                "interpretation": _one(_coded({"H", "HH", "L", "LL", "N"})),
                "component": {
                    "type": "array",
                    "maxItems": 2,
                    "items": {
                        "type": "object",
                        "required": ["code"],
                        "properties": {"code": _concept(), **_lab_values(), "referenceRange": _reference_ranges()},
                    },
                },
                "hasMember": _references(values),
            },
        ),
        "DiagnosticReport": _resource(
            "DiagnosticReport",
            ["identifier", "status", "code", "subject", "effectiveDateTime", "extension"],
            {
                **record,
                "status": {"type": "string", "enum": sorted(STATUS["DiagnosticReport"])},
                "code": _concept(),
                "effectiveDateTime": instant,
                "conclusion": _text(200),
                "result": _references(values),
            },
        ),
        "DocumentReference": _resource(
            "DocumentReference",
            ["identifier", "status", "docStatus", "subject", "date", "type", "content", "extension"],
            {
                **record,
                "status": {"type": "string", "enum": sorted(STATUS["DocumentReference"])},
                "docStatus": {"type": "string", "enum": sorted(DOC_STATUS)},
                "date": instant,
                "type": _concept(),
                "author": _one({"type": "object", "required": ["display"], "properties": {"display": _text()}}),
                "content": _one(
                    {
                        "type": "object",
                        "required": ["attachment"],
                        "properties": {
                            "attachment": {
                                "type": "object",
                                "required": ["contentType", "data"],
                                "properties": {
                                    "contentType": {"type": "string", "enum": ["text/plain"]},
                                    "data": base64_text,
                                },
                            }
                        },
                    }
                ),
            },
        ),
        "Condition": _resource(
            "Condition",
            ["identifier", "subject", "code", "recordedDate", "extension"],
            {
                **record,
                "code": {
                    "type": "object",
                    "required": ["coding"],
                    "properties": {
                        "coding": _one(
                            {
                                "type": "object",
                                "required": ["system", "code"],
                                "properties": {
                                    "system": {"type": "string", "enum": ["http://hl7.org/fhir/sid/icd-10"]},
                                    "code": {"type": "string", "enum": ["J06.9", "E11.9", "F32.1"]},
                                },
                            }
                        )
                    },
                },
                "recordedDate": day,
                "clinicalStatus": _coded(CLINICAL_STATUS),
                "verificationStatus": _coded(VERIFICATION_STATUS),
            },
        ),
        "Encounter": _resource(
            "Encounter",
            ["identifier", "status", "class", "subject", "period", "extension"],
            {
                **record,
                "status": {"type": "string", "enum": sorted(STATUS["Encounter"])},
                "class": {"type": "object", "required": ["code"], "properties": {"code": {"enum": ["AMB"]}}},
                "period": {"type": "object", "required": ["start"], "properties": {"start": instant, "end": instant}},
                "type": _one(_concept()),
            },
        ),
        "MedicationDispense": _resource(
            "MedicationDispense",
            ["identifier", "status", "medicationCodeableConcept", "subject", "whenHandedOver", "extension"],
            {
                **record,
                "status": {"type": "string", "enum": sorted(STATUS["MedicationDispense"])},
                "medicationCodeableConcept": _concept(),
                "whenHandedOver": instant,
            },
        ),
        **clinical_schemas(record, instant, day, unit),
        "Patient": _resource(
            "Patient",
            ["identifier"],
            {
                "identifier": _one(_identifier(PERSONNUMMER_SYSTEM, {"type": "string", "enum": values.personnummer})),
                "name": _one(
                    {"type": "object", "properties": {"family": _text(), "given": {"type": "array", "items": _text()}}}
                ),
            },
        ),
        "Practitioner": _resource(
            "Practitioner",
            ["identifier", "name"],
            {
                "identifier": _one(_identifier(HSA_SYSTEM, {"type": "string", "pattern": "^SE2321000255-P[0-9]{2}$"})),
                "name": _one({"type": "object", "required": ["family"], "properties": {"family": _text()}}),
            },
        ),
        "Organization": _resource(
            "Organization",
            ["identifier"],
            {"identifier": _one(_identifier(HSA_SYSTEM, {"type": "string", "enum": values.unit_hsa_ids}))},
        ),
    }


def clinical_schemas(
    record: dict[str, Any], instant: dict[str, Any], day: dict[str, Any], unit: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Prescriptions, alerts, vaccinations and referrals (fhir/importer/clinical.py)."""
    by_patient = {**record, "patient": record["subject"]}
    del by_patient["subject"]
    order = {"type": "string", "enum": ["order", "original-order", "proposal"]}
    return {
        "MedicationRequest": _resource(
            "MedicationRequest",
            ["identifier", "status", "intent", "medicationCodeableConcept", "subject", "authoredOn", "extension"],
            {
                **record,
                "status": {"type": "string", "enum": sorted(STATUS["MedicationRequest"])},
                "intent": order,
                "medicationCodeableConcept": _concept(),
                "authoredOn": instant,
                "dosageInstruction": _one({"type": "object", "properties": {"text": _text()}}),
                "dispenseRequest": {
                    "type": "object",
                    "properties": {"numberOfRepeatsAllowed": {"type": "integer", "minimum": -1, "maximum": 12}},
                },
            },
        ),
        "AllergyIntolerance": _resource(
            "AllergyIntolerance",
            ["identifier", "patient", "code", "recordedDate", "extension"],
            {
                **by_patient,
                "code": _concept(),
                "recordedDate": day,
                "criticality": {"type": "string", "enum": ["low", "high", "unable-to-assess", "deadly"]},
                "clinicalStatus": _coded({"active", "inactive", "resolved"}),
                "verificationStatus": _coded({"unconfirmed", "confirmed", "refuted", "entered-in-error", "maybe"}),
                "reaction": _one(
                    {
                        "type": "object",
                        "required": ["manifestation"],
                        "properties": {"manifestation": _one(_concept()), "severity": {"enum": ["mild", "severe"]}},
                    }
                ),
            },
        ),
        "Flag": _resource(
            "Flag",
            ["identifier", "status", "code", "subject", "period", "extension"],
            {
                **record,
                "status": {"type": "string", "enum": sorted(STATUS["Flag"])},
                "code": _concept(),
                "period": {"type": "object", "required": ["start"], "properties": {"start": day}},
            },
        ),
        "Immunization": _resource(
            "Immunization",
            ["identifier", "status", "vaccineCode", "patient", "occurrenceDateTime", "extension"],
            {
                **by_patient,
                "status": {"type": "string", "enum": sorted(STATUS["Immunization"])},
                "vaccineCode": _concept(),
                "occurrenceDateTime": instant,
                "protocolApplied": _one(
                    {"type": "object", "properties": {"doseNumberPositiveInt": {"type": "integer", "minimum": 0}}}
                ),
            },
        ),
        "ServiceRequest": _resource(
            "ServiceRequest",
            ["identifier", "status", "intent", "subject", "authoredOn", "performer", "extension"],
            {
                **record,
                "extension": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "items": {
                        "anyOf": [
                            unit["items"],
                            {
                                "type": "object",
                                "required": ["url", "valueCode"],
                                "properties": {
                                    "url": {"type": "string", "enum": [REFERRAL_STATUS_EXTENSION]},
                                    "valueCode": {"type": "string", "enum": ["received", "accepted", "closed"]},
                                },
                            },
                        ]
                    },
                },
                "status": {"type": "string", "enum": sorted(STATUS["ServiceRequest"])},
                "intent": order,
                "authoredOn": instant,
                "performer": _one({"type": "object", "required": ["display"], "properties": {"display": _text()}}),
                "reasonCode": _one(_concept()),
            },
        ),
    }


def appointment_schema(values: Values) -> dict[str, Any]:
    """An Appointment as a booking system sends it: few identifiers (so updates and cancellations
    of held ones happen), every status, times that may end before they start."""
    instant = {
        "type": "string",
        "enum": [
            "2030-03-05T09:00:00+01:00",
            "2030-03-05T09:30:00+01:00",
            "2030-03-31T02:30:00+02:00",
            "2020-01-01T08:00:00Z",
            "2030-03-05T09:00:00",
        ],
    }
    patient = {
        "type": "object",
        "required": ["actor"],
        "properties": {
            "actor": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["Patient"]},
                    "identifier": _identifier(PERSONNUMMER_SYSTEM, {"type": "string", "enum": values.personnummer}),
                    "reference": {
                        "type": "string",
                        "enum": [f"Patient/{row}" for row in values.row_ids] or ["Patient/x"],
                    },
                },
            },
            "status": {"type": "string", "enum": ["accepted"]},
        },
    }
    location = {
        "type": "object",
        "required": ["actor"],
        "properties": {
            "actor": {
                "type": "object",
                "required": ["type", "identifier"],
                "properties": {
                    "type": {"type": "string", "enum": ["Location"]},
                    "identifier": _identifier(HSA_SYSTEM, {"type": "string", "enum": values.unit_hsa_ids}),
                },
            },
            "status": {"type": "string", "enum": ["accepted"]},
        },
    }
    role = {
        "type": "object",
        "required": ["actor"],
        "properties": {
            "actor": {
                "type": "object",
                "properties": {"type": {"type": "string", "enum": ["PractitionerRole"]}, "display": _text()},
            },
            "status": {"type": "string", "enum": ["accepted"]},
        },
    }
    return _resource(
        "Appointment",
        ["identifier", "status", "start", "end", "participant"],
        {
            "identifier": _one(_identifier("urn:fuzz:appointment", {"type": "string", "pattern": "^[a-z0-9]{1,3}$"})),
            "status": {"type": "string", "enum": [*APPOINTMENT_STATUSES, "nonsense"]},
            "start": instant,
            "end": instant,
            "serviceType": _one(_concept()),
            "patientInstruction": _text(),
            "participant": {
                "type": "array",
                "minItems": 1,
                "maxItems": 4,
                "items": {"anyOf": [patient, location, role]},
            },
        },
    )


def _appointment_paths(values: Values, refused: tuple[int, ...], row_id: dict[str, Any]) -> dict[str, Any]:
    """The booking systems' endpoints: write, search by patient id, read, the change feed."""
    schema = appointment_schema(values)
    patient_ids = {"type": "string", "enum": [*values.row_ids, "191212121212", "x"]}
    return {
        "/fhir/Appointment": {
            "post": {
                "operationId": "createAppointment",
                "requestBody": _json_body(schema),
                "responses": _answers(200, 201, 409, *refused),
            },
            "put": {
                "operationId": "updateAppointment",
                "parameters": [{"name": "identifier", "in": "query", "required": True, "schema": {"type": "string"}}],
                "requestBody": _json_body(schema),
                "responses": _answers(200, 201, 409, *refused),
            },
            "get": {
                "operationId": "searchAppointment",
                "description": "By the Patient's id (never a personnummer) and _lastUpdated=gt<instant>.",
                "parameters": [
                    {"name": "patient", "in": "query", "required": True, "schema": patient_ids},
                    {"name": "_lastUpdated", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
                "responses": _answers(200, *refused),
            },
        },
        "/fhir/Appointment/_search": {
            "post": {
                "operationId": "searchAppointmentByIdentifier",
                "requestBody": _form_body({"identifier": {"type": "string"}}, ["identifier"]),
                "responses": _answers(200, *refused),
            }
        },
        "/fhir/Appointment/_history": {
            "get": {
                "operationId": "appointmentChanges",
                "parameters": [
                    {"name": "_since", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "_count", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
                "responses": _answers(200, 400, 401, 403),
            }
        },
        "/fhir/Appointment/{id}": {
            "get": {
                "operationId": "readAppointment",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": row_id}],
                "responses": _answers(200, 401, 403, 404),
            }
        },
    }


def scheduling_schemas(values: Values) -> dict[str, dict[str, Any]]:
    """A Schedule (the unit and a role) and a Slot (of schedule S-0..S-2 by identifier, or an id)."""
    instant = {
        "type": "string",
        "enum": ["2030-03-05T09:00:00+01:00", "2030-03-05T09:15:00+01:00", "2020-01-01T08:00:00Z"],
    }
    identifier = _one(_identifier("urn:fuzz:slot", {"type": "string", "pattern": "^[A-Z]-[0-2]$"}))
    unit = {
        "type": "object",
        "required": ["type", "identifier"],
        "properties": {
            "type": {"type": "string", "enum": ["Location", "Organization"]},
            "identifier": _identifier(HSA_SYSTEM, {"type": "string", "enum": values.unit_hsa_ids}),
        },
    }
    role = {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": ["PractitionerRole"]}, "display": _text()},
    }
    schedule = _resource(
        "Schedule",
        ["identifier", "actor"],
        {
            "identifier": identifier,
            "active": {"type": "boolean"},
            "serviceType": _one(_concept()),
            "actor": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"anyOf": [unit, role]}},
        },
    )
    reference = {
        "anyOf": [
            {
                "type": "object",
                "required": ["identifier"],
                "properties": {
                    "identifier": _identifier("urn:fuzz:slot", {"type": "string", "enum": ["S-0", "S-1", "S-2"]})
                },
            },
            {
                "type": "object",
                "required": ["reference"],
                "properties": {
                    "reference": {"type": "string", "enum": [f"Schedule/{r}" for r in values.row_ids] or ["Schedule/x"]}
                },
            },
        ]
    }
    slot = _resource(
        "Slot",
        ["identifier", "schedule", "status", "start", "end"],
        {
            "identifier": identifier,
            "schedule": reference,
            "status": {"type": "string", "enum": ["free", "busy", "busy-unavailable", "entered-in-error", "open"]},
            "start": instant,
            "end": instant,
            "serviceType": _one(_concept()),
            "extension": _one(
                {
                    "type": "object",
                    "required": ["url", "valueBoolean"],
                    "properties": {
                        "url": {
                            "type": "string",
                            "enum": ["https://vardkontakt.example/fhir/StructureDefinition/bookable-online"],
                        },
                        "valueBoolean": {"type": "boolean"},
                    },
                }
            ),
        },
    )
    return {"Schedule": schedule, "Slot": slot}


def _scheduling_paths(values: Values, refused: tuple[int, ...], row_id: dict[str, Any]) -> dict[str, Any]:
    """Schedule and Slot publishing and read-back, $book and $cancel."""
    schemas = scheduling_schemas(values)
    paths: dict[str, Any] = {}
    for kind, schema in schemas.items():
        search = (
            [
                {
                    "name": "active",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["true", "false", "x"]},
                }
            ]
            if kind == "Schedule"
            else [
                {"name": "schedule", "in": "query", "required": True, "schema": row_id},
                {"name": "status", "in": "query", "required": False, "schema": {"type": "string"}},
            ]
        )
        paths[f"/fhir/{kind}"] = {
            "post": {
                "operationId": f"create{kind}",
                "requestBody": _json_body(schema),
                "responses": _answers(200, 201, 409, *refused),
            },
            "put": {
                "operationId": f"update{kind}",
                "parameters": [{"name": "identifier", "in": "query", "required": True, "schema": {"type": "string"}}],
                "requestBody": _json_body(schema),
                "responses": _answers(200, 201, 409, *refused),
            },
            "get": {"operationId": f"search{kind}ByGet", "parameters": search, "responses": _answers(200, *refused)},
        }
        paths[f"/fhir/{kind}/_search"] = {
            "post": {
                "operationId": f"search{kind}ByIdentifier",
                "requestBody": _form_body({"identifier": {"type": "string"}}, ["identifier"]),
                "responses": _answers(200, *refused),
            }
        }
        paths[f"/fhir/{kind}/{{id}}"] = {
            "get": {
                "operationId": f"read{kind}",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": row_id}],
                "responses": _answers(200, 401, 403, 404),
            }
        }
    appointment = appointment_schema(values)
    slot_reference = {
        "type": "object",
        "properties": {"reference": {"type": "string", "enum": [f"Slot/{r}" for r in values.row_ids] or ["Slot/x"]}},
    }
    booking = {
        **appointment,
        "required": ["slot"],
        "properties": {**appointment["properties"], "slot": _one(slot_reference)},
    }
    paths["/fhir/Appointment/$book"] = {
        "post": {
            "operationId": "bookSlot",
            "requestBody": _json_body(
                {
                    "anyOf": [
                        booking,
                        {
                            "type": "object",
                            "required": ["resourceType", "parameter"],
                            "properties": {
                                "resourceType": {"type": "string", "enum": ["Parameters"]},
                                "parameter": _one(
                                    {
                                        "type": "object",
                                        "required": ["name", "resource"],
                                        "properties": {
                                            "name": {"type": "string", "enum": ["appointment"]},
                                            "resource": booking,
                                        },
                                    }
                                ),
                            },
                        },
                    ]
                }
            ),
            "responses": _answers(200, 201, 409, *refused),
        }
    }
    paths["/fhir/Appointment/{id}/$cancel"] = {
        "post": {
            "operationId": "cancelAppointment",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": row_id}],
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["resourceType"],
                    "properties": {
                        "resourceType": {"type": "string", "enum": ["Parameters"]},
                        "parameter": _one(
                            {
                                "type": "object",
                                "required": ["name", "valueString"],
                                "properties": {"name": {"type": "string", "enum": ["reason"]}, "valueString": _text()},
                            }
                        ),
                    },
                }
            ),
            "responses": _answers(200, *refused),
        }
    }
    return paths


def _answers(*statuses: int) -> dict[str, Any]:
    outcome = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}
    return {str(status): {"description": str(status), **outcome} for status in statuses}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {FHIR_JSON: {"schema": schema}}}


def _form_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {FORM: {"schema": schema}}}


def openapi_description(values: Values | None = None, server_url: str = "/") -> dict[str, Any]:
    """The FHIR API as OpenAPI 3.0: every endpoint of fhir/urls.py, per resource type."""
    values = values or Values()
    schemas = resource_schemas(values)
    refused = (400, 401, 403, 404, 405, 413, 415, 422)
    paths: dict[str, Any] = {
        "/fhir/metadata": {
            "get": {"operationId": "metadata", "security": [], "responses": _answers(200)},
        },
        "/fhir/auth/token": {
            "post": {
                "operationId": "token",
                "security": [],
                "requestBody": _form_body(
                    {
                        "grant_type": {"type": "string", "enum": ["client_credentials", "password"]},
                        "client_id": _text(20),
                        "client_secret": _text(60),
                        "scope": {"type": "string"},
                    },
                    ["grant_type"],
                ),
                "responses": _answers(200, 400, 401, 429),
            }
        },
        "/fhir": {
            "post": {
                "operationId": "transaction",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["resourceType", "type", "entry"],
                        "properties": {
                            "resourceType": {"type": "string", "enum": ["Bundle"]},
                            "type": {"type": "string", "enum": ["transaction"]},
                            "entry": {
                                "type": "array",
                                "maxItems": 3,
                                "items": {
                                    "type": "object",
                                    "required": ["resource", "request"],
                                    "properties": {
                                        "fullUrl": {"type": "string", "enum": FULL_URLS},
                                        "resource": {
                                            "anyOf": [
                                                *schemas.values(),
                                                appointment_schema(values),
                                                *scheduling_schemas(values).values(),
                                            ]
                                        },
                                        "request": {
                                            "type": "object",
                                            "required": ["method", "url"],
                                            "properties": {
                                                "method": {"type": "string", "enum": ["POST", "PUT"]},
                                                "url": {
                                                    "type": "string",
                                                    "enum": [*RESOURCE_TYPES, "Appointment", "Schedule", "Slot"],
                                                },
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    }
                ),
                "responses": _answers(200, *refused),
            }
        },
    }
    row_id: dict[str, Any] = {
        "anyOf": [{"type": "string", "enum": values.row_ids}, {"type": "string", "format": "uuid"}]
    }
    if not values.row_ids:
        row_id = {"type": "string", "format": "uuid"}
    for resource_type in RESOURCE_TYPES:
        type_path: dict[str, Any] = {
            "post": {
                "operationId": f"create{resource_type}",
                "requestBody": _json_body(schemas[resource_type]),
                "responses": _answers(200, 201, 204, *refused),
            },
            "get": {
                "operationId": f"searchByGet{resource_type}",
                "description": "Refused (405): searches go by POST _search, never with identifiers in the URL.",
                "parameters": [{"name": "identifier", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": _answers(405),
            },
        }
        if resource_type != "Patient":
            type_path["put"] = {
                "operationId": f"update{resource_type}",
                "parameters": [{"name": "identifier", "in": "query", "required": True, "schema": {"type": "string"}}],
                "requestBody": _json_body(schemas[resource_type]),
                "responses": _answers(200, 201, 204, *refused),
            }
        paths[f"/fhir/{resource_type}"] = type_path
        paths[f"/fhir/{resource_type}/_search"] = {
            "post": {
                "operationId": f"search{resource_type}",
                "requestBody": _form_body({"identifier": {"type": "string"}}, ["identifier"]),
                "responses": _answers(200, *refused),
            }
        }
        paths[f"/fhir/{resource_type}/{{id}}"] = {
            "get": {
                "operationId": f"read{resource_type}",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": row_id}],
                "responses": _answers(200, 401, 403, 404),
            }
        }
    paths.update(_appointment_paths(values, refused, row_id))
    paths.update(_scheduling_paths(values, refused, row_id))
    return {
        "openapi": "3.0.3",
        "info": {"title": "Vårdkontakt FHIR R4 API", "version": "1", "description": "See docs/api.md."},
        "servers": [{"url": server_url}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
