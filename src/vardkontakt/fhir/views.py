"""The FHIR R4 API for source systems: metadata, transaction, create, conditional update, read, search.

Every answer is FHIR JSON; every refusal an OperationOutcome naming the problem, and nothing is
stored in part. Record resources are read back only by the source system that sent them.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from vardkontakt.fhir import resources, selectors
from vardkontakt.fhir.appointments import APPOINTMENT_TYPES, SCHEDULING_TYPES, scheduling
from vardkontakt.fhir.appointments import api as appointments
from vardkontakt.fhir.appointments.resources import REQUEST_EXTENSION as APPOINTMENT_REQUEST_EXTENSION
from vardkontakt.fhir.auth import Caller, integration_view, require_scope, require_scopes, scope
from vardkontakt.fhir.importer import (
    MODELS,
    RESOURCE_TYPES,
    FhirRejected,
    Outcome,
    import_bundle,
    import_resource,
    operation_outcome,
)
from vardkontakt.fhir.importer.vocabulary import ACCEPTED
from vardkontakt.fhir.responses import fhir_response, refuse
from vardkontakt.identity.decorators import public

ACCEPTED_TYPES = ("application/fhir+json", "application/json")
# A string, or an unterminated one to the end (so a hostile body is scanned once, never again
# from every quote).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit``, decided before parsing
    (a parser recurses once per level). Strings are taken out first; brackets in them do not count.
    Stops at the first level past the limit, so a hostile body costs no more than its first levels."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _rejected(error: FhirRejected) -> HttpResponse:
    # 400 for what is not FHIR at all, 422 for FHIR that breaks our rules (FHIR's http page), 403
    # for data of a care unit the client is not registered for.
    if any(issue.code == "forbidden" for issue in error.issues):
        return fhir_response(operation_outcome(error.issues), status=403)
    structural = all(issue.code == "structure" for issue in error.issues)
    return fhir_response(operation_outcome(error.issues), status=400 if structural else 422)


def _body(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    content_type = request.content_type or ""
    if content_type not in ACCEPTED_TYPES:
        return refuse(415, "not-supported", "send application/fhir+json")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.FHIR_MAX_REQUEST_BYTES:
        return refuse(413, "too-costly", f"at most {settings.FHIR_MAX_REQUEST_BYTES} bytes per request")
    # Read the stream directly: request.body would apply the form-upload limit meant for browsers.
    raw = request.read(settings.FHIR_MAX_REQUEST_BYTES + 1)
    if len(raw) > settings.FHIR_MAX_REQUEST_BYTES:
        return refuse(413, "too-costly", f"at most {settings.FHIR_MAX_REQUEST_BYTES} bytes per request")
    if json_depth_exceeds(raw, settings.FHIR_MAX_JSON_DEPTH):
        return refuse(400, "structure", f"the JSON nests deeper than {settings.FHIR_MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return refuse(400, "structure", "the body is not JSON")
    if not isinstance(data, dict):
        return refuse(400, "structure", "the body must be a FHIR resource (a JSON object)")
    return data


def _caller(request: HttpRequest) -> Caller:
    return request.fhir_caller  # type: ignore[attr-defined]


def _location(outcome: Outcome) -> str:
    return reverse("fhir:instance", kwargs={"resource_type": outcome.resource_type, "ident": outcome.obj.pk})


_RECORD_SCOPE = (
    "system/<type>.write: create and update entries of this type for the care units the client is registered "
    "for (any other unit: 403, nothing written); entered-in-error and the like take an entry out, leaving a "
    "tombstone. system/<type>.read: read back the entries this client's source system sent."
)
_SCOPE_DOCUMENTATION = {
    "Patient": "system/Patient.write: name a resident by personnummer; never changes a name (names come from the "
    "population register); a resident not yet held is registered only with record data of the client's units. "
    "system/Patient.read: a resident the client's units have to do with (listed there, or with record data "
    "from there) by id or by personnummer (POST _search); anyone else is not found.",
    "Practitioner": "system/Practitioner.write: create or update authors by HSA-id. system/Practitioner.read: by "
    "id or HSA-id.",
    "Organization": "system/Organization.write: name one of the client's own care units by HSA-id (units are never "
    "created by import). system/Organization.read: a unit by id or HSA-id.",
}


def _appointment_capability() -> dict[str, Any]:
    """What the region's booking systems may do with Appointments (docs/api.md has the examples)."""
    return {
        "type": "Appointment",
        "interaction": [
            {"code": "read"},
            {"code": "search-type"},
            {"code": "create"},
            {"code": "update"},
            {"code": "history-type", "documentation": "The change feed: GET [base]/Appointment/_history?_since=<n>."},
        ],
        "conditionalCreate": False,
        "conditionalUpdate": True,
        "updateCreate": True,
        "operation": [
            {
                "name": "book",
                "definition": "https://vardkontakt.example/fhir/OperationDefinition/Appointment-book",
                "documentation": "POST [base]/Appointment/$book: a Parameters with the Appointment as 'appointment' "
                "(or the Appointment itself) naming one of the client's published slots (slot: Slot/<id> or its "
                "identifier) and the patient; start, end, the unit and the service type default to the slot's. "
                "Refused: unknown slot or patient (422 not-found), the slot booked or held by a resident confirming "
                "it (409 conflict), another unit (422 business-rule; a unit the client is not registered for: 403). "
                "Needs system/Appointment.write.",
            },
            {
                "name": "cancel",
                "definition": "https://vardkontakt.example/fhir/OperationDefinition/Appointment-cancel",
                "documentation": "POST [base]/Appointment/<id>/$cancel with a Parameters (reason: valueString) or no "
                "body: cancels one of the client's appointments and frees its slot; a cancelled one stays as it is "
                "(200). Needs system/Appointment.write.",
            },
        ],
        "searchParam": [
            {
                "name": "patient",
                "type": "reference",
                "documentation": "GET [base]/Appointment?patient=<id>: the Patient's id here (never a personnummer).",
            },
            {
                "name": "_lastUpdated",
                "type": "date",
                "documentation": "gt or ge an instant with its offset: appointments changed after it.",
            },
            {
                "name": "identifier",
                "type": "token",
                "documentation": "POST [base]/Appointment/_search with identifier=system|value in a form body.",
            },
            {
                "name": "_since",
                "type": "number",
                "documentation": "On _history: the last change number read (not an instant); the next link carries it.",
            },
        ],
        "documentation": (
            "system/Appointment.write: publish the client's source system's appointments at the care units it is "
            "registered for (participant Location by HSA-id), upserted by business identifier; a cancellation is "
            "an update with status cancelled; a cancelled appointment stays so; an identifier held for another "
            "patient is a conflict (409). Transaction Bundles of Appointments only, all or nothing. "
            "system/Appointment.read: the client's own appointments (with the resident's cancel or rebook request "
            "in the extension " + APPOINTMENT_REQUEST_EXTENSION + "), the platform's own bookings at its units, and "
            "the change feed of what residents booked, moved, cancelled or asked for, numbered in commit order."
        ),
    }


def _scheduling_capability() -> list[dict[str, Any]]:
    """Schedule and Slot: the times a booking system publishes for residents to book here."""
    interactions = [{"code": "read"}, {"code": "search-type"}, {"code": "create"}, {"code": "update"}]
    common = {"interaction": interactions, "conditionalCreate": False, "conditionalUpdate": True, "updateCreate": True}
    identifier = {
        "name": "identifier",
        "type": "token",
        "documentation": "POST [base]/<type>/_search with identifier=system|value in a form body.",
    }
    return [
        {
            "type": "Schedule",
            **common,
            "searchParam": [identifier, {"name": "active", "type": "token", "documentation": "true or false"}],
            "documentation": "system/Schedule.write: publish a practitioner role or service at one of the client's "
            "care units (actor: a Location by HSA-id, and a PractitionerRole), upserted by business identifier; "
            "a schedule with slots stays at its unit. system/Schedule.read: the client's own schedules.",
        },
        {
            "type": "Slot",
            **common,
            "searchParam": [
                identifier,
                {"name": "schedule", "type": "reference", "documentation": "GET [base]/Slot?schedule=<id> (required)"},
                {
                    "name": "status",
                    "type": "token",
                    "documentation": "the status as read back (busy while held or booked)",
                },
            ],
            "documentation": "system/Slot.write: publish times of the client's schedules (schedule: Schedule/<id> or "
            "its identifier, also one in the same Bundle), status free, busy, busy-unavailable, busy-tentative or "
            "entered-in-error; residents may book it on the platform when the extension "
            + scheduling.BOOKABLE_EXTENSION
            + " is true. A booked slot is not moved or withdrawn (422). system/Slot.read: read back, busy while an "
            "appointment takes it or a resident holds it (the extension " + scheduling.HOLD_EXTENSION + " says until "
            "when).",
        },
    ]


@public
@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: what this server accepts, and how to get a token."""
    base = request.build_absolute_uri(reverse("fhir:base"))
    token_url = request.build_absolute_uri(reverse("fhir:token"))
    security = {
        "service": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}
        ],
        "extension": [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [{"url": "token", "valueUri": token_url}],
            }
        ],
        "description": "OAuth2 client credentials; scopes system/<type>.read and system/<type>.write.",
    }
    rest_resources = []
    for resource_type in RESOURCE_TYPES:
        interactions = [{"code": "read"}, {"code": "search-type"}, {"code": "create"}, {"code": "update"}]
        rest_resources.append(
            {
                "type": resource_type,
                "interaction": interactions,
                "conditionalCreate": False,
                "conditionalUpdate": resource_type != "Patient",
                "updateCreate": True,
                "searchParam": [
                    {
                        "name": "identifier",
                        "type": "token",
                        "documentation": "POST [base]/" + resource_type + "/_search only, identifier=system|value in "
                        "an application/x-www-form-urlencoded body; GET searches are refused (personnummer never "
                        "go in URLs).",
                    }
                ],
                "documentation": " ".join(
                    filter(None, [_SCOPE_DOCUMENTATION.get(resource_type, _RECORD_SCOPE), ACCEPTED.get(resource_type)])
                ),
            }
        )
    rest_resources.append(_appointment_capability())
    rest_resources += _scheduling_capability()
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-25",
        "kind": "instance",
        "software": {"name": "Vårdkontakt"},
        "implementation": {"description": "Vårdkontakt record import and booking systems' interface", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": security,
                "resource": rest_resources,
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
    return fhir_response(statement)


@integration_view
def base(request: HttpRequest) -> HttpResponse:
    """POST a transaction Bundle: every entry or none; the answer is a transaction-response Bundle."""
    if request.method != "POST":
        return refuse(405, "not-supported", "POST a transaction Bundle here", "Bundle")
    data = _body(request)
    if isinstance(data, HttpResponse):
        return data
    caller = _caller(request)
    sent: list[Any] = data["entry"] if isinstance(data.get("entry"), list) else []
    entries = [e for e in sent if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    sent_types = {str(e["resource"].get("resourceType", "")) for e in entries}
    if data.get("resourceType") == "Bundle" and sent_types & set(APPOINTMENT_TYPES):
        # Appointments travel in Bundles of their own: they are the booking systems', not record data.
        if sent_types - set(APPOINTMENT_TYPES):
            return refuse(400, "not-supported", "a Bundle with Appointments holds Appointments only", "Bundle.entry")
        if refused := require_scope(request, "Appointment", "write"):
            return refused
        return appointments.write_bundle(caller, data)
    if data.get("resourceType") == "Bundle" and sent_types & set(SCHEDULING_TYPES):
        # Published times travel in Bundles of their own too: Schedules and Slots only.
        if sent_types - set(SCHEDULING_TYPES):
            return refuse(400, "not-supported", "a Bundle with Schedules or Slots holds those only", "Bundle.entry")
        if refused := require_scopes(request, [scope(kind, "write") for kind in sorted(sent_types)]):
            return refused
        return scheduling.write_bundle(caller, data)
    kinds = sorted(sent_types & set(MODELS))
    if refused := require_scopes(request, [scope(kind, "write") for kind in kinds]):
        return refused
    try:
        result = import_bundle(data, sender=caller.sender)
    except FhirRejected as error:
        return _rejected(error)
    entries = []
    for outcome in result.outcomes:
        if outcome.retracted:
            entries.append({"response": {"status": "204 No Content"}})
        else:
            status = "201 Created" if outcome.created else "200 OK"
            entries.append({"response": {"status": status, "location": _location(outcome)}})
    return fhir_response(
        {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "transaction-response", "entry": entries}
    )


def _identifier_query(request: HttpRequest) -> str | None:
    value = request.GET.get("identifier", "")
    return value if "|" in value and all(value.partition("|")[::2]) else None


# Personnummer never go in URLs (they end up in access logs, proxies and browser histories):
# searches send their parameters in a POST body (FHIR's [base]/[type]/_search).
SEARCH_BY_POST = "search with POST [base]/{type}/_search and identifier=system|value in a form body"


@integration_view
def type_endpoint(request: HttpRequest, resource_type: str) -> HttpResponse:
    """POST = create (an upsert by business identifier), PUT ?identifier= = conditional update.
    A search is POST [type]/_search (search); GET with parameters is refused."""
    if resource_type in APPOINTMENT_TYPES:
        return _appointments(request)
    if resource_type in SCHEDULING_TYPES:
        return _scheduling(request, resource_type)
    if resource_type not in MODELS:
        return refuse(404, "not-supported", f"{resource_type} is not served here")
    if request.method == "GET":
        response = refuse(405, "not-supported", SEARCH_BY_POST.format(type=resource_type), resource_type)
        response["Allow"] = "POST, PUT"
        return response
    if request.method not in ("POST", "PUT"):
        return refuse(405, "not-supported", "use POST or PUT (and POST .../_search to search)")
    if refused := require_scope(request, resource_type, "write"):
        return refused
    key = None
    if request.method == "PUT":
        if resource_type == "Patient":
            # A Patient's identifier is a personnummer, and that never goes in a URL.
            return refuse(400, "not-supported", "POST the Patient to [base]/Patient: personnummer never go in URLs")
        key = _identifier_query(request)
        if key is None:
            return refuse(400, "required", "PUT needs ?identifier=system|value (update by business identifier)")
    data = _body(request)
    if isinstance(data, HttpResponse):
        return data
    try:
        outcome = import_resource(data, resource_type=resource_type, sender=_caller(request).sender, key=key)
    except FhirRejected as error:
        return _rejected(error)
    if outcome.retracted:
        return HttpResponse(status=204)
    return fhir_response(
        resources.as_fhir(resource_type, selectors.resource_as_written(resource_type, outcome.obj)),
        status=201 if outcome.created else 200,
        Location=_location(outcome),
    )


@integration_view
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    """POST [type]/_search with identifier=system|value in an application/x-www-form-urlencoded body."""
    if resource_type not in MODELS and resource_type not in (*APPOINTMENT_TYPES, *SCHEDULING_TYPES):
        return refuse(404, "not-supported", f"{resource_type} is not served here")
    if request.method != "POST":
        response = refuse(405, "not-supported", SEARCH_BY_POST.format(type=resource_type), resource_type)
        response["Allow"] = "POST"
        return response
    if request.GET:
        return refuse(400, "not-supported", "search parameters go in the form body, never in the URL")
    if request.content_type != "application/x-www-form-urlencoded":
        return refuse(415, "not-supported", "send the search as application/x-www-form-urlencoded")
    if refused := require_scope(request, resource_type, "read"):
        return refused
    value = request.POST.get("identifier", "")
    if set(request.POST) - {"identifier"} or "|" not in value or not all(value.partition("|")[::2]):
        return refuse(400, "not-supported", "search by identifier=system|value only", resource_type)
    if resource_type in APPOINTMENT_TYPES:
        return appointments.search_by_identifier(_caller(request), value)
    if resource_type in SCHEDULING_TYPES:
        return scheduling.search_by_identifier(_caller(request), resource_type, value)
    rows = selectors.resources_by_identifier(caller=_caller(request), resource_type=resource_type, key=value)
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(rows),
        "entry": [{"resource": resources.as_fhir(resource_type, row), "search": {"mode": "match"}} for row in rows],
    }
    return fhir_response(bundle)


@integration_view
@require_GET
def instance(request: HttpRequest, resource_type: str, ident: str) -> HttpResponse:
    """Read one resource by the id the platform gave it."""
    if resource_type in APPOINTMENT_TYPES:
        if refused := require_scope(request, resource_type, "read"):
            return refused
        return appointments.read(_caller(request), ident)
    if resource_type in SCHEDULING_TYPES:
        if refused := require_scope(request, resource_type, "read"):
            return refused
        return scheduling.read(_caller(request), resource_type, ident)
    if resource_type not in MODELS:
        return refuse(404, "not-supported", f"{resource_type} is not served here")
    if refused := require_scope(request, resource_type, "read"):
        return refused
    caller = _caller(request)
    try:
        pk = uuid.UUID(ident)
    except ValueError:
        return refuse(404, "not-found", f"no {resource_type} with id {ident}")
    row = selectors.resource_by_id(caller=caller, resource_type=resource_type, pk=pk)
    if row is None:
        return refuse(404, "not-found", f"no {resource_type} with id {ident}")
    return fhir_response(resources.as_fhir(resource_type, row))


def _appointments(request: HttpRequest) -> HttpResponse:
    """[base]/Appointment: GET searches by patient id (an id, never a personnummer, so the URL may
    carry it); POST creates or updates by identifier; PUT ?identifier= updates by identifier."""
    if request.method == "GET":
        if refused := require_scope(request, "Appointment", "read"):
            return refused
        return appointments.search(_caller(request), request.GET)
    if request.method not in ("POST", "PUT"):
        response = refuse(405, "not-supported", "use GET to search, POST or PUT to write", "Appointment")
        response["Allow"] = "GET, POST, PUT"
        return response
    if refused := require_scope(request, "Appointment", "write"):
        return refused
    key = None
    if request.method == "PUT":
        key = _identifier_query(request)
        if key is None:
            return refuse(400, "required", "PUT needs ?identifier=system|value (update by business identifier)")
    data = _body(request)
    if isinstance(data, HttpResponse):
        return data
    return appointments.write_one(_caller(request), data, key=key)


@integration_view
@require_GET
def appointment_history(request: HttpRequest) -> HttpResponse:
    """The change feed: what residents booked, moved, cancelled or asked for, numbered in commit order."""
    if refused := require_scope(request, "Appointment", "read"):
        return refused
    return appointments.history(request, _caller(request))


def _scheduling(request: HttpRequest, resource_type: str) -> HttpResponse:
    """[base]/Schedule and [base]/Slot: GET searches (no resident in them, so the URL may carry
    the parameters); POST creates or updates by identifier; PUT ?identifier= updates by identifier."""
    if request.method == "GET":
        if refused := require_scope(request, resource_type, "read"):
            return refused
        return scheduling.search(_caller(request), resource_type, request.GET)
    if request.method not in ("POST", "PUT"):
        response = refuse(405, "not-supported", "use GET to search, POST or PUT to write", resource_type)
        response["Allow"] = "GET, POST, PUT"
        return response
    if refused := require_scope(request, resource_type, "write"):
        return refused
    key = None
    if request.method == "PUT":
        key = _identifier_query(request)
        if key is None:
            return refuse(400, "required", "PUT needs ?identifier=system|value (update by business identifier)")
    data = _body(request)
    if isinstance(data, HttpResponse):
        return data
    return scheduling.write_one(_caller(request), resource_type, data, key=key)


@integration_view
def appointment_book(request: HttpRequest) -> HttpResponse:
    """$book: a source system books one of its published slots for a resident (its phone booking)."""
    if request.method != "POST":
        response = refuse(405, "not-supported", "POST a Parameters (appointment) or an Appointment", "$book")
        response["Allow"] = "POST"
        return response
    if refused := require_scope(request, "Appointment", "write"):
        return refused
    data = _body(request)
    if isinstance(data, HttpResponse):
        return data
    return appointments.book(_caller(request), data)


@integration_view
def appointment_cancel(request: HttpRequest, ident: str) -> HttpResponse:
    """$cancel: a source system cancels one of its appointments, with a reason (Parameters)."""
    if request.method != "POST":
        response = refuse(405, "not-supported", "POST, with a Parameters (reason) or no body", "$cancel")
        response["Allow"] = "POST"
        return response
    if refused := require_scope(request, "Appointment", "write"):
        return refused
    data = None
    if request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        body = _body(request)
        if isinstance(body, HttpResponse):
            return body
        data = body
    return appointments.cancel(_caller(request), ident, data)
