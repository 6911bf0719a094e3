"""Reading a sent Appointment: the R4B model's structure, then our rules (status value set,
business identifier, start before end, the patient by personnummer or id, the care unit as a
Location participant by HSA-id and one of the client's units, the practitioner role, the service
type). Nothing is written here except registering a resident not yet held (rolled back with the
send if it is refused), as the record import does."""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot
from pydantic import ValidationError as PydanticError

from vardkontakt.booking.external import ExternalSent
from vardkontakt.booking.external_models import ExternalAppointment, ExternalSlot, ExternalStatus
from vardkontakt.fhir.importer.outcomes import Issue, pydantic_issues
from vardkontakt.fhir.importer.reading import Batch, Reader
from vardkontakt.fhir.importer.sender import residents_of
from vardkontakt.fhir.importer.validation import UNREADABLE, unreadable
from vardkontakt.fhir.importer.vocabulary import HSA_SYSTEM, PERSONNUMMER_SYSTEM, UNIT_EXTENSION
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit

STATUSES = sorted(ExternalStatus.values)
UNIT_KINDS = ("Location", "Organization")
ROLE_KINDS = ("PractitionerRole", "Practitioner")


MODELS: dict[str, Any] = {"Appointment": Appointment, "Schedule": Schedule, "Slot": Slot}


def structure(data: Any, where: str, kinds: tuple[str, ...] = ("Appointment",)) -> list[Issue]:
    """The R4B model's answer: what is not a resource of one of the kinds at all."""
    if not isinstance(data, dict) or data.get("resourceType") not in kinds:
        return [Issue(where, f"a resource of type {' or '.join(kinds)} is required", "structure")]
    try:
        MODELS[data["resourceType"]].model_validate(data)
    except PydanticError as error:
        return pydantic_issues(where, error)
    except UNREADABLE:
        return [unreadable(where)]
    return []


def bundle_entries(data: dict[str, Any], kinds: tuple[str, ...]) -> tuple[list[Any], list[Issue]]:
    """A transaction Bundle's entries, and what is wrong with its shape or its resources' (each
    must be one of ``kinds``); the writes go on only without issues."""
    if data.get("type") != "transaction":
        return [], [Issue("Bundle.type", "only transaction Bundles are accepted", "not-supported")]
    entries: list[Any] = data["entry"] if isinstance(data.get("entry"), list) else []
    issues: list[Issue] = []
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        if not isinstance(entry, dict):
            issues.append(Issue(where, "an entry must be a JSON object", "structure"))
            continue
        issues += structure(entry.get("resource"), f"{where}.resource", kinds)
    return entries, issues


def participant_kind(actor: dict[str, Any]) -> str:
    """Which kind of participant: from its type, else its literal reference, else its identifier."""
    if isinstance(actor.get("type"), str):
        return actor["type"].rsplit("/", 1)[-1]
    reference = actor.get("reference")
    if isinstance(reference, str) and "/" in reference:
        return reference.split("/", 1)[0]
    system = (actor.get("identifier") or {}).get("system") if isinstance(actor.get("identifier"), dict) else None
    return "Patient" if system == PERSONNUMMER_SYSTEM else ""


def concept_text(concepts: Any) -> str:
    for concept in concepts or []:
        if not isinstance(concept, dict):
            continue
        if concept.get("text"):
            return str(concept["text"])
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and (coding.get("display") or coding.get("code")):
                return str(coding.get("display") or coding.get("code"))
    return ""


class AppointmentReader:
    """Reads the appointments of one send with one Batch (patients and units looked up once)."""

    def __init__(self, *, units: frozenset[uuid.UUID] | None, source_system: str) -> None:
        self.batch = Batch(units=units)
        self.units = units
        self.source_system = source_system

    @property
    def issues(self) -> list[Issue]:
        return self.batch.issues

    def read(self, where: str, data: dict[str, Any]) -> ExternalSent | None:
        r = Reader(where, data, self.batch.issues)
        before = len(self.batch.issues)
        key = r.business_id()
        status = data.get("status")
        if status not in STATUSES:
            r.fail("status", f"status must be one of {', '.join(STATUSES)}", "code-invalid")
        start = r.instant(data.get("start"), "start")
        end = r.instant(data.get("end"), "end")
        if start is not None and end is not None and end <= start:
            r.fail("end", "the end must come after the start", "invariant")
        patient: Patient | None = None
        unit: CareUnit | None = None
        role, role_hsa = "", ""
        unit_named = False
        for index, participant in enumerate(data.get("participant") or []):
            path = f"participant[{index}].actor"
            actor = participant.get("actor") if isinstance(participant, dict) else None
            if not isinstance(actor, dict):
                continue
            kind = participant_kind(actor)
            if kind == "Patient":
                if patient is not None:
                    r.fail(path, "an appointment has one patient", "business-rule")
                    continue
                patient = self._patient(r, path, actor)
                if patient is None and len(self.batch.issues) == before:
                    r.fail(path, "the patient must be referenced by personnummer or by Patient/<id>", "required")
            elif kind in UNIT_KINDS:
                unit_named = True
                unit = self._unit(r, path, actor)
            elif kind in ROLE_KINDS:
                role = str(actor.get("display") or "")
                identifier = actor.get("identifier")
                if isinstance(identifier, dict) and identifier.get("system") == HSA_SYSTEM:
                    role_hsa = str(identifier.get("value") or "").upper()
        if unit is None and not unit_named:
            unit_named = any(
                isinstance(e, dict) and e.get("url") == UNIT_EXTENSION for e in data.get("extension") or []
            )
            unit = self._unit_extension(r)
        if patient is None and not any(i.location.startswith(f"{where}.participant") for i in self.issues[before:]):
            r.fail("participant", "a participant must be the patient (by personnummer or Patient/<id>)", "required")
        if unit is None and not unit_named:
            r.fail("participant", "a participant must be the care unit: a Location with its HSA-id", "required")
        slot = self._slot(r, data.get("slot"))
        if len(self.batch.issues) > before or patient is None or unit is None or start is None or end is None:
            return None
        return ExternalSent(
            identifier=key,
            patient=patient,
            unit=unit,
            status=str(status),
            starts_at=start,
            ends_at=end,
            service_type=concept_text(data.get("serviceType")),
            practitioner_role=role,
            practitioner_hsa_id=role_hsa,
            patient_instruction=str(data.get("patientInstruction") or ""),
            slot=slot,
        )

    def _slot(self, r: Reader, references: Any) -> ExternalSlot | None:
        """Appointment.slot: one of the source's own published slots, by Slot/<id> or identifier."""
        if not references:
            return None
        if not isinstance(references, list) or len(references) != 1 or not isinstance(references[0], dict):
            r.fail("slot", "an appointment takes one slot", "business-rule")
            return None
        reference = references[0]
        mine = ExternalSlot.objects.filter(source_system=self.source_system).select_related("schedule__unit")
        literal, identifier = reference.get("reference"), reference.get("identifier")
        slot: ExternalSlot | None = None
        if isinstance(literal, str) and literal.startswith("Slot/"):
            try:
                slot = mine.filter(pk=uuid.UUID(literal.split("/", 1)[1])).first()
            except ValueError:
                slot = None
        elif isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
            slot = mine.filter(identifier=f"{identifier['system']}|{identifier['value']}"[:128]).first()
        else:
            r.fail("slot[0]", "the slot is named by Slot/<id> or by its identifier (system and value)", "required")
            return None
        if slot is None:
            r.fail("slot[0]", "unknown slot: not one this source system published", "not-found")
            return None
        if self.batch.in_scope(r, "slot[0]", slot.schedule.unit) is None:
            return None
        return slot

    def _patient(self, r: Reader, path: str, actor: dict[str, Any]) -> Patient | None:
        reference = actor.get("reference")
        if isinstance(reference, str) and reference.startswith("Patient/"):
            try:
                pk = uuid.UUID(reference.split("/", 1)[1])
            except ValueError:
                pk = None
            found = Patient.objects.filter(pk=pk) if pk else Patient.objects.none()
            # An id names only a resident the client's units have to do with: anyone else is unknown.
            theirs = residents_of(self.units, found).exists() or (
                pk is not None
                and ExternalAppointment.objects.filter(patient_id=pk, source_system=self.source_system).exists()
            )
            if not theirs:
                r.fail(f"{path}.reference", f"unknown patient {reference}", "not-found")
                return None
            return found.get()
        identifier = actor.get("identifier")
        if isinstance(identifier, dict) and identifier.get("system") == PERSONNUMMER_SYSTEM and identifier.get("value"):
            return self.batch.patient_by_number(r, f"{path}.identifier.value", str(identifier["value"]))
        return None

    def _unit(self, r: Reader, path: str, actor: dict[str, Any]) -> CareUnit | None:
        identifier = actor.get("identifier")
        hsa = (
            str(identifier.get("value") or "")
            if isinstance(identifier, dict) and identifier.get("system") == HSA_SYSTEM
            else ""
        )
        if not hsa:
            r.fail(f"{path}.identifier", "the care unit must be given by HSA-id", "required")
            return None
        unit = self.batch.unit_by_hsa(hsa)
        if unit is None:
            r.fail(f"{path}.identifier", f"unknown care unit {hsa}", "not-found")
            return None
        return self.batch.in_scope(r, f"{path}.identifier", unit)

    def _unit_extension(self, r: Reader) -> CareUnit | None:
        for extension in r.data.get("extension") or []:
            if isinstance(extension, dict) and extension.get("url") == UNIT_EXTENSION:
                return self._unit(r, "extension", {"identifier": extension.get("valueIdentifier") or {}})
        return None
