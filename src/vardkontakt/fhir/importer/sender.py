"""Who sends an import: the source system whose rows these are, and the care units it may write for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from vardkontakt.access.audit import Actor
from vardkontakt.fhir.importer.vocabulary import RECORD_MODELS


@dataclass(frozen=True)
class Sender:
    """A source system sending record data.

    ``units``: the care units whose record data it may write (an integration client's registered
    units); None for an import the operator runs from the command line, which may name any unit.
    The audit log names the source system as the actor of everything it writes.
    """

    source_system: str
    name: str = ""
    units: frozenset[uuid.UUID] | None = None

    @property
    def actor(self) -> Actor:
        label = f"{self.name} ({self.source_system})" if self.name else self.source_system
        return Actor("system", self.source_system[:64], f"Källsystem {label}")

    def residents(self, patients: QuerySet[Any]) -> QuerySet[Any]:
        return residents_of(self.units, patients)


def residents_of(units: frozenset[uuid.UUID] | None, patients: QuerySet[Any]) -> QuerySet[Any]:
    """Of ``patients``, those the given care units have to do with: listed at one of them, or with
    record data from one of them. To a source system anyone else is not there: neither whether they
    exist nor their name may be looked up by personnummer. None (the operator's import) sees everyone."""
    if units is None:
        return patients
    theirs = Q(listings__unit__in=units)
    for model in RECORD_MODELS.values():
        theirs |= Q(pk__in=model._default_manager.filter(unit__in=units).values("patient"))
    return patients.filter(theirs).distinct()
