"""Schemathesis checks for `make fuzz-fhir` (fuzz/fhir.py): nothing accepted outside its scope.

Loaded by schemathesis through SCHEMATHESIS_HOOKS=fuzz.fhir_hooks; FUZZ_CONTEXT names a JSON file
the runner wrote: the client's own care unit, the types it may write and read, and ids of rows
another source system sent. A 2xx answer to a request the client's scopes or units do not cover
fails the run, as a 5xx does (schemathesis's not_a_server_error).
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

UNIT_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/care-unit"
HSA_SYSTEM = "urn:oid:1.2.752.29.4.19"
RECORD_TYPES = {
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
}

with open(os.environ["FUZZ_CONTEXT"], encoding="utf-8") as _file:
    CONTEXT: dict[str, Any] = json.load(_file)


def _unit_named(resource: dict[str, Any]) -> str | None:
    """The care unit a resource is written for, found as the import finds it (reading.Batch.unit)."""
    hsa = ""
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == UNIT_EXTENSION:
            hsa = str((extension.get("valueIdentifier") or {}).get("value", ""))
    if not hsa:
        for key in ("custodian", "serviceProvider"):
            identifier = (resource.get(key) or {}).get("identifier") if isinstance(resource.get(key), dict) else None
            if isinstance(identifier, dict) and identifier.get("system") == HSA_SYSTEM:
                hsa = str(identifier.get("value", ""))
    if resource.get("resourceType") == "Appointment":
        for participant in resource.get("participant") or []:
            actor = participant.get("actor") if isinstance(participant, dict) else None
            identifier = actor.get("identifier") if isinstance(actor, dict) else None
            if isinstance(identifier, dict) and identifier.get("system") == HSA_SYSTEM:
                hsa = str(identifier.get("value", ""))
    if resource.get("resourceType") == "Schedule":
        # Any unit named is the schedule's (the reader refuses the whole resource for one out of scope).
        for actor in resource.get("actor") or []:
            identifier = actor.get("identifier") if isinstance(actor, dict) else None
            kind = actor.get("type") if isinstance(actor, dict) else None
            if kind in ("Location", "Organization") and isinstance(identifier, dict):
                if (
                    identifier.get("system") == HSA_SYSTEM
                    and str(identifier.get("value", "")).upper() != CONTEXT["own_unit"].upper()
                ):
                    return str(identifier.get("value", "")).upper()
                if identifier.get("system") == HSA_SYSTEM:
                    hsa = str(identifier.get("value", ""))
    if resource.get("resourceType") == "Organization":
        for identifier in resource.get("identifier") or []:
            if isinstance(identifier, dict) and identifier.get("system") == HSA_SYSTEM:
                hsa = str(identifier.get("value", ""))
    return hsa.upper() or None


def _outside_scope(resource: Any) -> str:
    """Why writing this resource is outside the client's scope ("" when it is not)."""
    if not isinstance(resource, dict):
        return ""
    kind = resource.get("resourceType")
    if kind not in CONTEXT["write_types"]:
        return f"a {kind} was written without the scope system/{kind}.write"
    if kind in RECORD_TYPES or kind in ("Organization", "Appointment", "Schedule"):
        unit = _unit_named(resource)
        if unit is not None and unit != CONTEXT["own_unit"]:
            return f"a {kind} was written for the care unit {unit}, which the client is not registered for"
    return ""


@schemathesis.check
def accepted_only_within_scope(ctx: Any, response: Any, case: Any) -> bool | None:
    if not 200 <= response.status_code < 300:
        return None
    method, path = case.method.upper(), case.path
    parts = path.strip("/").split("/")  # fhir, <type>, <id> | _search
    if path in ("/fhir/metadata", "/fhir/auth/token"):
        return None
    if path == "/fhir":
        body = case.body if isinstance(case.body, dict) else {}
        for entry in body.get("entry") or []:
            if isinstance(entry, dict) and (why := _outside_scope(entry.get("resource"))):
                raise AssertionError(f"accepted outside its scope: {why}")
        return None
    kind = parts[1] if len(parts) > 1 else ""
    # Appointment: by patient id, no personnummer; Schedule and Slot name no resident (active, schedule id).
    if len(parts) == 2 and method == "GET" and kind not in ("Appointment", "Schedule", "Slot"):
        raise AssertionError("a search by GET was answered: identifiers would be in the URL")
    if len(parts) == 2 and method in ("POST", "PUT"):
        if why := _outside_scope(case.body if isinstance(case.body, dict) else {"resourceType": kind}):
            raise AssertionError(f"accepted outside its scope: {why}")
        if method == "PUT" and kind == "Patient":
            raise AssertionError("a Patient was updated with a personnummer in the URL")
        return None
    if kind not in CONTEXT["read_types"]:
        raise AssertionError(f"read without the scope system/{kind}.read")
    if len(parts) == 3 and parts[2] in CONTEXT["foreign_ids"]:
        raise AssertionError("a row another source system sent was read")
    return None
