"""The two ways in: a transaction Bundle (every entry or none) and one resource."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vardkontakt.fhir.importer.outcomes import FhirRejected, ImportResult, Issue, Outcome
from vardkontakt.fhir.importer.reading import Batch, Planned
from vardkontakt.fhir.importer.sender import Sender
from vardkontakt.fhir.importer.validation import Validator
from vardkontakt.fhir.importer.vocabulary import HSA_SYSTEM, MODELS, PERSONNUMMER_SYSTEM
from vardkontakt.fhir.importer.writing import write
from vardkontakt.identity.numbers import normalise_personnummer


def import_bundle(data: Any, *, sender: Sender) -> ImportResult:
    """Validate the whole transaction Bundle first, then write it in one transaction, auditing
    each patient touched with the source system as the actor (writing.write)."""
    with _collection_paused():
        return _import_bundle(data, sender=sender)


_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a Bundle is imported (on again after the last
    one ends). A large Bundle is hundreds of thousands of dicts and lists, alive until the import
    ends, and every full collection walks them all to free nothing: about a third of the
    validation's time on bench/record.py's 10,000 resources. Reference counting still frees what
    is let go meanwhile; cyclic garbage made meanwhile waits for the collector, which runs as usual
    once it is on again."""
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def _import_bundle(data: Any, *, sender: Sender) -> ImportResult:
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirRejected([Issue("Bundle", "a Bundle resource is required", "structure")])
    if data.get("type") != "transaction":
        raise FhirRejected([Issue("Bundle.type", "only transaction Bundles are accepted", "not-supported")])
    # The R4B models look each entry's resourceType up in their own registry and fail on one they
    # do not know (or on one that is not a string) with a KeyError or TypeError: name it first.
    unknown = [
        Issue(
            f"Bundle.entry[{index}].resource.resourceType", "only the types in the CapabilityStatement", "not-supported"
        )
        for index, entry in enumerate(data["entry"] if isinstance(data.get("entry"), list) else [])
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and not (isinstance(entry["resource"].get("resourceType"), str) and entry["resource"]["resourceType"] in MODELS)
    ]
    if unknown:
        raise FhirRejected(unknown)
    issues = Validator().bundle(data)  # the Bundle, its entries, and every entry's resource by its resourceType
    if issues:
        raise FhirRejected(issues)
    entries = data.get("entry") or []
    by_url = {str(e["fullUrl"]): e.get("resource") or {} for e in entries if isinstance(e, dict) and e.get("fullUrl")}
    batch = Batch(by_url, units=sender.units)
    with transaction.atomic():
        planned: list[tuple[int, Planned]] = []
        seen: dict[tuple[str, str], int] = {}
        for index, entry in enumerate(entries):
            where = f"Bundle.entry[{index}]"
            method = str((entry.get("request") or {}).get("method", "POST"))
            if method not in ("POST", "PUT"):
                batch.issues.append(Issue(f"{where}.request.method", "only POST and PUT are accepted", "not-supported"))
                continue
            item = batch.read(f"{where}.resource", entry.get("resource") or {})
            if item is None:
                continue
            if (item.resource_type, item.key) in seen:
                batch.issues.append(
                    Issue(
                        f"{where}.resource.identifier",
                        f"the same resource is already in entry[{seen[item.resource_type, item.key]}]",
                        "duplicate",
                    )
                )
                continue
            seen[item.resource_type, item.key] = index
            planned.append((index, item))
        batch.check_registrations([item for _, item in planned])
        if batch.issues:
            transaction.set_rollback(True)  # patients registered while reading go too
            raise FhirRejected(batch.issues)
        return write([item for _, item in planned], sender=sender, batch=batch)


def import_resource(data: Any, *, resource_type: str, sender: Sender, key: str | None = None) -> Outcome:
    """One resource (FHIR create, or update by business identifier): the same checks as a Bundle entry.

    ``key`` is the business identifier the request names (``system|value``); the resource must carry it.
    """
    if not isinstance(data, dict) or data.get("resourceType") != resource_type:
        raise FhirRejected([Issue(resource_type, f"a {resource_type} resource is required", "structure")])
    issues = Validator().resource(data, resource_type)
    if issues:
        raise FhirRejected(issues)
    batch = Batch(units=sender.units)
    with transaction.atomic():
        item = batch.read(resource_type, data)
        batch.check_registrations([item] if item is not None else [])
        if key is not None and item is not None and not batch.issues and not _carries(item, key):
            batch.issues.append(
                Issue(f"{resource_type}.identifier", "the resource must carry the identifier its URL names", "invalid")
            )
        if batch.issues or item is None:
            transaction.set_rollback(True)
            raise FhirRejected(batch.issues or [Issue(resource_type, "the resource could not be read", "invalid")])
        return write([item], sender=sender, batch=batch).outcomes[0]


def _carries(item: Planned, key: str) -> bool:
    """Whether the resource read is the one the URL's ``identifier=system|value`` names."""
    system, _, value = key.partition("|")
    if item.resource_type == "Patient":
        try:
            return system == PERSONNUMMER_SYSTEM and normalise_personnummer(value) == item.key
        except ValidationError:
            return False
    if item.resource_type in ("Practitioner", "Organization"):
        return system == HSA_SYSTEM and value.upper() == item.key
    return key[:128] == item.key
