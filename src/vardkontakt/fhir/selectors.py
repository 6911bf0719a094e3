"""Reads for the FHIR API. The reader is a source system's integration client: it reads back the
record entries it sent itself, practitioners and units by their identifiers, and the residents its
units have to do with (listed there, or with record data from there). Each row read is audited
here, with the client as the actor."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet

from vardkontakt.access.audit import Actor, audit
from vardkontakt.fhir.auth import Caller
from vardkontakt.fhir.importer import HSA_SYSTEM, PERSONNUMMER_SYSTEM, RECORD_MODELS, STORED_BY_ID
from vardkontakt.identity.models import Patient
from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import Practitioner

SEARCH_LIMIT = 100
# Lab values and reports share a table; each type reads back only its own rows.
TYPE_FILTERS = {"Observation": Q(report=False), "DiagnosticReport": Q(report=True)}


def actor_of(caller: Caller) -> Actor:
    return Actor("system", caller.client.client_id, f"Integration: {caller.client.name}")


def resources_by_identifier(*, caller: Caller, resource_type: str, key: str) -> list[Model]:
    """A search by business identifier (``system|value``): at most SEARCH_LIMIT rows, audited."""
    rows = list(_related(resource_type, _by_identifier(caller, resource_type, key))[:SEARCH_LIMIT])
    _audit_read(caller, rows)
    return rows


def resource_by_id(*, caller: Caller, resource_type: str, pk: uuid.UUID) -> Model | None:
    """One resource by the id the platform gave it; a record entry only for the system that sent it."""
    rows = _related(resource_type, STORED_BY_ID[resource_type].objects.filter(pk=pk))
    if resource_type in RECORD_MODELS:
        rows = rows.filter(source_system=caller.client.source_system)
    if resource_type == "Patient":
        rows = caller.sender.residents(rows)
    row = rows.first()
    if row is not None:
        _audit_read(caller, [row])
    return row


def resource_as_written(resource_type: str, row: Model) -> Model:
    """A row the caller has just written, read again with what its FHIR form shows (not audited:
    the write is)."""
    return _related(resource_type, type(row)._default_manager.filter(pk=row.pk)).get()


def _by_identifier(caller: Caller, resource_type: str, key: str) -> QuerySet[Any]:
    system, _, value = key.partition("|")
    if resource_type == "Patient":
        if system != PERSONNUMMER_SYSTEM:
            return Patient.objects.none()
        try:
            found = Patient.objects.filter(personnummer=normalise_personnummer(value))
        except ValidationError:  # an invalid number finds nobody
            return Patient.objects.none()
        return caller.sender.residents(found)
    if resource_type in ("Practitioner", "Organization"):
        if system != HSA_SYSTEM:
            return Patient.objects.none()
        by_hsa: Any = Practitioner if resource_type == "Practitioner" else CareUnit
        return by_hsa.objects.filter(hsa_id=value.upper())
    record_model: Any = RECORD_MODELS[resource_type]
    return record_model.objects.filter(source_system=caller.client.source_system, source_id=key[:128])


def _related(resource_type: str, rows: QuerySet[Any]) -> QuerySet[Any]:
    if resource_type in TYPE_FILTERS:
        rows = rows.filter(TYPE_FILTERS[resource_type])
    return rows.select_related("patient", "unit") if resource_type in RECORD_MODELS else rows


def _audit_read(caller: Caller, rows: list[Model]) -> None:
    for row in rows:
        patient = row if isinstance(row, Patient) else getattr(row, "patient", None)
        audit(actor=actor_of(caller), action="fhir.read", patient=patient, obj=row, unit=getattr(row, "unit", None))
