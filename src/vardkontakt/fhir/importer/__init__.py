"""Import of record data as FHIR R4 resources and transaction Bundles: validated, mapped, all or nothing.

Validation is two-layered: the R4B models of `fhir.resources` (structure and types; R4B is
wire-compatible with R4 for these resources) and our own checks of value sets, identifiers and
references, which those models do not make (they accept ``status="nonsense"``).

Every record resource names its patient and its care unit — by identifier (personnummer, HSA-id),
by a reference to another entry of the same Bundle (``urn:uuid:…``), or by a reference to a
resource the platform already holds (``Patient/<id>``). Each is upserted by its business
identifier, so sending the same Bundle twice changes nothing; ``entered-in-error`` takes a row
back out of the record, leaving a tombstone (records.RemovedEntry). The ``Sender`` says which
source system writes and for which care units; every patient touched gets an audit entry naming
it as the actor. See docs/api.md.

The package in the order an import runs: ``bundle`` (the two ways in) → ``validation`` (the R4B
models, each shape of element once) → ``reading`` (our checks, resolve references) with
``mapping`` (each resource type's fields) → ``writing``
(through identity's and records' services). ``vocabulary`` holds the systems and value sets,
``outcomes`` what an import answers.
"""

from vardkontakt.fhir.importer.bundle import import_bundle, import_resource
from vardkontakt.fhir.importer.outcomes import FhirRejected, ImportResult, Issue, Outcome, operation_outcome
from vardkontakt.fhir.importer.sender import Sender
from vardkontakt.fhir.importer.vocabulary import (
    HSA_SYSTEM,
    MODELS,
    NOTE_TEMPLATE_SYSTEM,
    PERSONNUMMER_SYSTEM,
    RECORD_MODELS,
    RENEWABLE_EXTENSION,
    RESOURCE_TYPES,
    STORED_BY_ID,
    UNIT_EXTENSION,
)

__all__ = [
    "HSA_SYSTEM",
    "MODELS",
    "NOTE_TEMPLATE_SYSTEM",
    "PERSONNUMMER_SYSTEM",
    "RECORD_MODELS",
    "RENEWABLE_EXTENSION",
    "RESOURCE_TYPES",
    "STORED_BY_ID",
    "UNIT_EXTENSION",
    "FhirRejected",
    "ImportResult",
    "Issue",
    "Outcome",
    "Sender",
    "import_bundle",
    "import_resource",
    "operation_outcome",
]
