"""Reading (parse and validate): each resource is checked against our value sets, identifiers
and references and turned into a planned row; nothing is written here except registering a
resident the platform does not hold yet (rolled back with the batch if it is refused)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from vardkontakt.fhir.importer.mapping import MAPPERS, person_name, qualification
from vardkontakt.fhir.importer.outcomes import Issue
from vardkontakt.fhir.importer.sender import residents_of
from vardkontakt.fhir.importer.vocabulary import (
    HSA_SYSTEM,
    PERSONNUMMER_SYSTEM,
    STATUS,
    STORED_BY_ID,
    UNIT_EXTENSION,
    VALUE_LIMIT,
)
from vardkontakt.identity.models import Patient
from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.identity.services import patient_get_or_register
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import Practitioner


@dataclass
class Planned:
    """One validated resource waiting to be written."""

    resource_type: str
    key: str  # business identifier, personnummer or HSA-id
    fields: dict[str, Any]
    retract: str = ""  # the status that takes the row back out of the record, if any
    existing: Any = None  # Organization: the unit it names


class Batch:
    """Reads resources, resolves their references and collects issues; writes nothing itself.

    Patients, units and practitioners are looked up once per batch, so a 10,000-entry Bundle costs
    a handful of queries per distinct person and unit rather than per entry.
    """

    def __init__(
        self, entries_by_url: dict[str, dict[str, Any]] | None = None, *, units: frozenset[uuid.UUID] | None = None
    ) -> None:
        self.issues: list[Issue] = []
        self.entries_by_url = entries_by_url or {}
        self.units = units  # the care units the sender may write for (None: any)
        self.registered_at: dict[uuid.UUID, str] = {}  # a resident registered now → where first named
        self.named_at: dict[uuid.UUID, str] = {}  # a resident already held, sent as a Patient → where
        self._patients: dict[str, Patient] = {}
        self._numbers: dict[str, str | ValidationError] = {}  # as sent → normalised, or why not
        self._units: dict[str, CareUnit | None] = {}
        self._practitioners: dict[str, Practitioner | None] = {}
        self.new_patients: list[Patient] = []

    # -- references -------------------------------------------------------------------------
    def _resolve(
        self, r: Reader, path: str, reference: Any, resource_type: str
    ) -> dict[str, Any] | models.Model | None:
        """A reference → the Bundle entry it points at, a stored row, or a bare identifier."""
        if not isinstance(reference, dict):
            return None
        literal = reference.get("reference")
        if literal:
            literal = str(literal)
            if literal in self.entries_by_url:
                target = self.entries_by_url[literal]
                if target.get("resourceType") != resource_type:
                    r.fail(f"{path}.reference", f"{literal} is not a {resource_type}", "invalid")
                    return None
                return target
            kind, _, ident = literal.partition("/")
            stored = STORED_BY_ID.get(kind)
            if kind == resource_type and stored is not None:
                try:
                    found = stored.objects.filter(pk=uuid.UUID(ident)).first()
                except ValueError:
                    found = None
                if found is not None:
                    return found
            r.fail(f"{path}.reference", f"{literal} is not found (not in this Bundle, not held here)", "not-found")
            return None
        if isinstance(reference.get("identifier"), dict):
            return {"identifier": [reference["identifier"]]}
        return None

    @staticmethod
    def identifier_of(resource: dict[str, Any], system: str) -> str:
        for identifier in resource.get("identifier") or []:
            if isinstance(identifier, dict) and identifier.get("system") == system and identifier.get("value"):
                return str(identifier["value"])
        return ""

    def patient_by_number(self, r: Reader, path: str, value: str) -> Patient | None:
        # A Bundle names its few residents thousands of times, in the same spelling: each spelling
        # is checked once (the checksum, the date, the clock for "not born yet").
        if value not in self._numbers:
            try:
                self._numbers[value] = normalise_personnummer(value)
            except ValidationError as error:
                self._numbers[value] = error
        number = self._numbers[value]
        if isinstance(number, ValidationError):
            r.fail(path, " ".join(str(m) for m in number.messages), "value")
            return None
        if number not in self._patients:
            # Known to the platform from now on; rolled back with the batch if it is refused.
            patient, registered = patient_get_or_register(personnummer=number)
            if registered:
                self.new_patients.append(patient)
                self.registered_at[patient.pk] = r.where
            self._patients[number] = patient
        return self._patients[number]

    def patient(self, r: Reader, path: str = "subject") -> Patient | None:
        target = self._resolve(r, path, r.data.get(path), "Patient")
        if isinstance(target, Patient):
            return target
        if target is None:
            if not any(issue.location.startswith(f"{r.where}.{path}") for issue in self.issues):
                r.fail(f"{path}.identifier", "the patient must be referenced by personnummer", "required")
            return None
        number = self.identifier_of(target, PERSONNUMMER_SYSTEM)  # type: ignore[arg-type]
        if not number:
            r.fail(f"{path}.identifier", "the patient must be referenced by personnummer", "required")
            return None
        return self.patient_by_number(r, f"{path}.identifier.value", number)

    def unit_by_hsa(self, hsa: str) -> CareUnit | None:
        key = hsa.upper()
        if key not in self._units:
            self._units[key] = CareUnit.objects.filter(hsa_id=key).first()
        return self._units[key]

    def unit(self, r: Reader) -> CareUnit | None:
        hsa, path = "", "extension"
        for extension in r.data.get("extension") or []:
            if isinstance(extension, dict) and extension.get("url") == UNIT_EXTENSION:
                hsa = str((extension.get("valueIdentifier") or {}).get("value", ""))
        if not hsa:
            for key in ("custodian", "serviceProvider"):
                if r.data.get(key):
                    path = key
                    target = self._resolve(r, key, r.data[key], "Organization")
                    if isinstance(target, CareUnit):
                        return target
                    if isinstance(target, dict):
                        hsa = self.identifier_of(target, HSA_SYSTEM)
        if not hsa:
            if not any(issue.location.startswith(f"{r.where}.{path}") for issue in self.issues):
                r.fail(path, "the care unit must be given by HSA-id", "required")
            return None
        unit = self.unit_by_hsa(hsa)
        if unit is None:
            r.fail(path, f"unknown care unit {hsa}", "not-found")
        return self.in_scope(r, path, unit)

    def in_scope(self, r: Reader, path: str, unit: CareUnit | None) -> CareUnit | None:
        """The unit when the sender may write for it; otherwise a "forbidden" issue (403)."""
        if unit is None or self.units is None or unit.pk in self.units:
            return unit
        r.fail(path, f"this client is not registered for the care unit {unit.hsa_id}", "forbidden")
        return None

    def check_registrations(self, planned: list[Planned]) -> None:
        """A resident the platform did not hold is registered only with record data for them (of the
        sender's own units), never from a Patient resource alone; and a Patient alone is answered
        (with the name held) only for a resident the sender's units have to do with. Both refusals
        read the same, so a source system cannot learn whether someone else's resident exists."""
        # Taking out an entry never held writes nothing: it registers nobody either.
        with_data = {item.fields["patient"].pk for item in planned if "patient" in item.fields and not item.retract}
        refused = {pk: where for pk, where in self.registered_at.items() if pk not in with_data}
        named_alone = {pk: where for pk, where in self.named_at.items() if pk not in with_data}
        if named_alone:
            known = set(
                residents_of(self.units, Patient.objects.filter(pk__in=named_alone)).values_list("pk", flat=True)
            )
            refused.update({pk: where for pk, where in named_alone.items() if pk not in known})
        for where in refused.values():
            self.issues.append(
                Issue(
                    f"{where}.identifier",
                    "a Patient is accepted only with record data for them from your units, "
                    "or for a resident your units already have to do with",
                    "business-rule",
                )
            )

    def practitioner(self, r: Reader, path: str, reference: Any) -> tuple[str, str]:
        """Name and profession of an author: from its display, or the Practitioner it references."""
        if not isinstance(reference, dict):
            return "", ""
        display = str(reference.get("display", ""))
        if not reference.get("reference") and not isinstance(reference.get("identifier"), dict):
            return display, ""
        target = self._resolve(r, path, reference, "Practitioner")
        if isinstance(target, dict):
            hsa = self.identifier_of(target, HSA_SYSTEM)
            if target.get("resourceType") == "Practitioner":
                return display or person_name(target), qualification(target)
            if hsa not in self._practitioners:
                self._practitioners[hsa] = Practitioner.objects.filter(hsa_id=hsa.upper()).first()
            target = self._practitioners[hsa]
            if target is None:
                r.fail(f"{path}.identifier", f"unknown practitioner {hsa}: send the Practitioner first", "not-found")
                return display, ""
        if isinstance(target, Practitioner):
            return display or target.name, target.profession
        return display, ""

    # -- one resource -----------------------------------------------------------------------
    def read(self, where: str, resource: dict[str, Any]) -> Planned | None:
        resource_type = str(resource.get("resourceType", ""))
        reader = Reader(where, resource, self.issues)
        if resource_type == "Patient":
            return self._read_patient(reader)
        if resource_type == "Practitioner":
            return self._read_practitioner(reader)
        if resource_type == "Organization":
            return self._read_organization(reader)
        mapper = MAPPERS.get(resource_type)
        if mapper is None:
            self.issues.append(
                Issue(where, f"{resource_type or 'a resource'} cannot be imported here", "not-supported")
            )
            return None
        business_id = reader.business_id()
        patient = self.patient(reader)
        unit = self.unit(reader)
        fields = mapper(reader, self)
        retract = str(fields.pop("_retract", "") or "")
        if patient is None or unit is None or not business_id:
            return None
        return Planned(resource_type, business_id, {**fields, "patient": patient, "unit": unit}, retract)

    def _read_patient(self, r: Reader) -> Planned | None:
        number = self.identifier_of(r.data, PERSONNUMMER_SYSTEM)
        if not number:
            r.fail("identifier", "a Patient needs a personnummer identifier", "required")
            return None
        patient = self.patient_by_number(r, "identifier", number)
        if patient is None:
            return None
        if patient.pk not in self.registered_at:
            self.named_at.setdefault(patient.pk, r.where)
        # Residents' names come from the population register (through their e-ID), never from a
        # source system: a name in the resource is not written (docs/api.md).
        return Planned("Patient", patient.personnummer, {}, existing=patient)

    def _read_practitioner(self, r: Reader) -> Planned | None:
        hsa = self.identifier_of(r.data, HSA_SYSTEM).upper()
        if not hsa:
            r.fail("identifier", "a Practitioner needs an HSA-id identifier", "required")
            return None
        name = person_name(r.data)
        if not name:
            r.fail("name", "a Practitioner needs a name", "required")
        return Planned("Practitioner", hsa[:32], {"name": name[:200], "profession": qualification(r.data)[:64]})

    def _read_organization(self, r: Reader) -> Planned | None:
        hsa = self.identifier_of(r.data, HSA_SYSTEM)
        if not hsa:
            r.fail("identifier", "an Organization needs an HSA-id identifier", "required")
            return None
        unit = self.unit_by_hsa(hsa)
        if unit is None:
            # Units join through the region's onboarding, never by an integration's say-so.
            r.fail("identifier", f"unknown care unit {hsa}: units are added by the region, not by import", "not-found")
            return None
        if self.in_scope(r, "identifier", unit) is None:
            return None
        return Planned("Organization", unit.hsa_id, {}, existing=unit)


class Reader:
    """One resource (a plain dict, already structurally validated) and where it sits."""

    def __init__(self, where: str, data: dict[str, Any], issues: list[Issue]) -> None:
        self.where, self.data, self.issues = where, data, issues

    def fail(self, path: str, message: str, code: str = "invalid") -> None:
        self.issues.append(Issue(f"{self.where}.{path}", message, code))

    def business_id(self) -> str:
        for identifier in self.data.get("identifier") or []:
            if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
                return f"{identifier['system']}|{identifier['value']}"[:128]
        self.fail("identifier", "a business identifier (system and value) is required", "required")
        return ""

    def status(self, resource_type: str) -> str:
        allowed = STATUS[resource_type]
        value = self.data.get("status")
        if value not in allowed:
            self.fail("status", f"status must be one of {', '.join(sorted(allowed))}", "code-invalid")
        return str(value or "")

    def coded(self, path: str, allowed: set[str]) -> str:
        """A CodeableConcept bound to a value set (Condition.clinicalStatus and the like)."""
        codes = [str(c.get("code")) for c in (self.data.get(path) or {}).get("coding") or [] if isinstance(c, dict)]
        for code in codes:
            if code not in allowed:
                self.fail(f"{path}.coding", f"{path} must be one of {', '.join(sorted(allowed))}", "code-invalid")
        return codes[0] if codes else ""

    def date(self, value: Any, path: str) -> dt.date | None:
        if not value:
            self.fail(path, "a date is required", "required")
            return None
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            self.fail(path, "a full date (year, month and day) is required", "value")
            return None

    def optional_date(self, value: Any, path: str) -> dt.date | None:
        return self.date(value, path) if value else None

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

    def decimal(self, value: Any, path: str) -> Decimal | None:
        if value is None:
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(path, "not a number", "value")
            return None
        if not number.is_finite() or abs(number) >= VALUE_LIMIT:
            self.fail(path, "the value is out of range", "value")
            return None
        return number.quantize(Decimal("0.0001"))
