"""The work of the Appointment endpoints (fhir/views.py dispatches here): write one or a Bundle,
read one, search by patient, follow the change feed. Reads are audited here with the client as
the actor (one "fhir.read" per patient and unit shown); writes by booking.external."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode

from vardkontakt.access.audit import AuditLine, audit_many
from vardkontakt.booking import changes
from vardkontakt.booking.external import ExternalRefused, ExternalSent, Upserted, external_appointments_upsert, held_by
from vardkontakt.booking.external_models import AppointmentChange, ExternalAppointment, ExternalSlot
from vardkontakt.booking.external_slots import PLATFORM_SYSTEM, external_cancel_by_source
from vardkontakt.booking.models import Booking
from vardkontakt.fhir.appointments import resources
from vardkontakt.fhir.appointments.reading import (
    UNIT_KINDS,
    AppointmentReader,
    bundle_entries,
    concept_text,
    participant_kind,
    structure,
)
from vardkontakt.fhir.auth import Caller
from vardkontakt.fhir.importer.outcomes import Issue, operation_outcome
from vardkontakt.fhir.importer.vocabulary import HSA_SYSTEM
from vardkontakt.fhir.responses import fhir_response, refuse
from vardkontakt.fhir.selectors import actor_of

FEED_PAGE = 100
FEED_PAGE_MAX = 1000
SEARCH_LIMIT = 100
# A refusal's HTTP status by its issues (as the record import answers, with 409 for a conflict).
_STATUS_OF = {"forbidden": 403, "conflict": 409}


def _refused(issues: list[Issue]) -> HttpResponse:
    for code, status in _STATUS_OF.items():
        if any(issue.code == code for issue in issues):
            return fhir_response(operation_outcome(issues), status=status)
    structural = all(issue.code == "structure" for issue in issues)
    return fhir_response(operation_outcome(issues), status=400 if structural else 422)


def _units(caller: Caller) -> frozenset[uuid.UUID]:
    return caller.sender.units or frozenset()


def _upsert(caller: Caller, sent: list[ExternalSent], wheres: list[str]) -> list[Upserted] | HttpResponse:
    client = caller.client
    try:
        return external_appointments_upsert(
            source_system=client.source_system,
            source_name=client.name,
            sent=sent,
            units=_units(caller),
            actor=caller.sender.actor,
        )
    except ExternalRefused as refused:
        return _refused([Issue(wheres[p.index], p.message, p.code) for p in refused.problems])


def _carries(sent: ExternalSent, key: str) -> bool:
    return key[:128] == sent.identifier


def write_one(caller: Caller, data: Any, *, key: str | None) -> HttpResponse:
    """POST [base]/Appointment (create, or update of the same identifier) or PUT ?identifier=."""
    issues = structure(data, "Appointment")
    if issues:
        return _refused(issues)
    reader = AppointmentReader(units=_units(caller), source_system=caller.client.source_system)
    with transaction.atomic():
        sent = reader.read("Appointment", data)
        if sent is not None and key is not None and not _carries(sent, key):
            reader.issues.append(
                Issue("Appointment.identifier", "the resource must carry the identifier its URL names", "invalid")
            )
        if reader.issues or sent is None:
            transaction.set_rollback(True)  # residents registered while reading go too
            return _refused(reader.issues or [Issue("Appointment", "the resource could not be read", "invalid")])
        done = _upsert(caller, [sent], ["Appointment"])
        if isinstance(done, HttpResponse):
            transaction.set_rollback(True)
            return done
    upserted = done[0]
    return fhir_response(
        resources.external_appointment(upserted.row, request=_last_request(upserted.row)),
        status=201 if upserted.created else 200,
        Location=_location(upserted.row.pk),
    )


def write_bundle(caller: Caller, data: dict[str, Any]) -> HttpResponse:
    """A transaction Bundle of Appointments: every entry or none."""
    entries, issues = bundle_entries(data, ("Appointment",))
    if issues:
        return _refused(issues[:20])
    reader = AppointmentReader(units=_units(caller), source_system=caller.client.source_system)
    with transaction.atomic():
        sent: list[ExternalSent] = []
        wheres: list[str] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(entries):
            where = f"Bundle.entry[{index}]"
            request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
            method = str(request.get("method", "POST"))
            if method not in ("POST", "PUT"):
                reader.issues.append(
                    Issue(f"{where}.request.method", "only POST and PUT are accepted", "not-supported")
                )
                continue
            item = reader.read(f"{where}.resource", entry["resource"])
            if item is None:
                continue
            url = str(request.get("url", ""))
            if method == "PUT" and "identifier=" in url and not _carries(item, url.split("identifier=", 1)[1]):
                reader.issues.append(
                    Issue(f"{where}.request.url", "the resource must carry the identifier its URL names", "invalid")
                )
                continue
            if item.identifier in seen:
                reader.issues.append(
                    Issue(
                        f"{where}.resource.identifier",
                        f"the same appointment is already in entry[{seen[item.identifier]}]",
                        "duplicate",
                    )
                )
                continue
            seen[item.identifier] = index
            sent.append(item)
            wheres.append(f"{where}.resource")
        if reader.issues:
            transaction.set_rollback(True)
            return _refused(reader.issues)
        done = _upsert(caller, sent, wheres)
        if isinstance(done, HttpResponse):
            transaction.set_rollback(True)
            return done
    answers = [
        {
            "response": {
                "status": "201 Created" if u.created else "200 OK",
                "location": _location(u.row.pk),
                "etag": f'W/"{u.row.version}"',
            }
        }
        for u in done
    ]
    return fhir_response(
        {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "transaction-response", "entry": answers}
    )


# --- $book and $cancel ----------------------------------------------------------------------------


def _parameter(data: dict[str, Any], name: str) -> Any:
    parameters = data.get("parameter")
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, dict) and parameter.get("name") == name:
            return parameter
    return None


def _slot_of(caller: Caller, appointment: dict[str, Any]) -> ExternalSlot | HttpResponse:
    references = appointment.get("slot")
    reference = references[0] if isinstance(references, list) and len(references) == 1 else None
    if not isinstance(reference, dict):
        return refuse(400, "required", "$book needs the Appointment's slot: one Slot/<id> or slot identifier", "slot")
    mine = ExternalSlot.objects.filter(source_system=caller.client.source_system).select_related("schedule__unit")
    literal, identifier = reference.get("reference"), reference.get("identifier")
    slot = None
    if isinstance(literal, str) and literal.startswith("Slot/"):
        try:
            slot = mine.filter(pk=uuid.UUID(literal.split("/", 1)[1])).first()
        except ValueError:
            slot = None
    elif isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
        slot = mine.filter(identifier=f"{identifier['system']}|{identifier['value']}"[:128]).first()
    if slot is None:
        return refuse(422, "not-found", "unknown slot: not one this source system published", "Appointment.slot[0]")
    return slot


def book(caller: Caller, data: dict[str, Any]) -> HttpResponse:
    """POST [base]/Appointment/$book: book one of the source's published slots for a resident (a
    Parameters with the Appointment as ``appointment``, or the Appointment itself). What the
    Appointment leaves out is the slot's: start, end, the unit, the service type; status booked;
    an identifier of the platform's when it has none. Then it is an Appointment write naming the
    slot, with the slot's rules (free, not held by a resident confirming it, at the same unit)."""
    appointment: Any = data
    if data.get("resourceType") == "Parameters":
        parameter = _parameter(data, "appointment")
        appointment = parameter.get("resource") if isinstance(parameter, dict) else None
        if not isinstance(appointment, dict):
            return refuse(
                400, "required", "the Parameters need an appointment parameter with an Appointment", "Parameters"
            )
    elif data.get("resourceType") != "Appointment":
        return refuse(400, "structure", "send a Parameters (appointment) or an Appointment", "$book")
    slot = _slot_of(caller, appointment)
    if isinstance(slot, HttpResponse):
        return slot
    filled = dict(appointment)
    filled.setdefault("status", "booked")
    filled.setdefault("start", slot.starts_at.isoformat())
    filled.setdefault("end", slot.ends_at.isoformat())
    if not filled.get("identifier"):
        filled["identifier"] = [{"system": PLATFORM_SYSTEM, "value": str(uuid.uuid4())}]
    if not filled.get("serviceType") and (slot.service_type or slot.schedule.service_type):
        filled["serviceType"] = [{"text": slot.service_type or slot.schedule.service_type}]
    sent_participants = filled.get("participant")
    participants: list[Any] = sent_participants if isinstance(sent_participants, list) else []
    if not any(
        isinstance(p, dict) and isinstance(p.get("actor"), dict) and participant_kind(p["actor"]) in UNIT_KINDS
        for p in participants
    ):
        unit = slot.schedule.unit
        location = {"type": "Location", "identifier": {"system": HSA_SYSTEM, "value": unit.hsa_id}}
        filled["participant"] = [*participants, {"actor": location, "status": "accepted"}]
    return write_one(caller, filled, key=None)


def cancel(caller: Caller, ident: str, data: dict[str, Any] | None) -> HttpResponse:
    """POST [base]/Appointment/<id>/$cancel [Parameters with reason]: the source cancels one of its
    own appointments (a slot it took is free again). Cancelling a cancelled one changes nothing."""
    try:
        pk = uuid.UUID(ident)
    except ValueError:
        return refuse(404, "not-found", f"no Appointment with id {ident}")
    row = _externals(caller).filter(pk=pk).first()
    if row is None:
        return refuse(404, "not-found", f"no Appointment with id {ident} of this source system")
    reason = ""
    if data is not None:
        if data.get("resourceType") != "Parameters":
            return refuse(400, "structure", "send a Parameters resource (reason), or no body", "$cancel")
        parameter = _parameter(data, "reason") or {}
        concept = parameter.get("valueCodeableConcept")
        reason = str(
            parameter.get("valueString") or (concept_text([concept]) if isinstance(concept, dict) else "") or ""
        )
    try:
        row = external_cancel_by_source(row=row, reason=reason, actor=caller.sender.actor)
    except ExternalRefused as refused:
        return _refused([Issue("Appointment.status", p.message, p.code) for p in refused.problems])
    return fhir_response(resources.external_appointment(row, request=_last_request(row)))


def _location(pk: uuid.UUID) -> str:
    return reverse("fhir:instance", kwargs={"resource_type": "Appointment", "ident": pk})


def _last_request(row: ExternalAppointment) -> Any:
    return row.requests.order_by("-asked_at").first()


# --- reads ----------------------------------------------------------------------------------------


def _audit(caller: Caller, shown: list[tuple[Any, Any, Any]], detail: str) -> None:
    """One "fhir.read" per patient and unit whose appointments the client was shown."""
    by_key: dict[tuple[Any, Any], tuple[Any, Any, list[Any]]] = {}
    for patient, unit, row in shown:
        by_key.setdefault((patient.pk, unit.pk), (patient, unit, []))[2].append(row)
    lines = [
        AuditLine(
            patient,
            rows[0] if len(rows) == 1 else None,
            unit,
            detail,
            object_type="" if len(rows) == 1 else "Appointment",
        )
        for patient, unit, rows in by_key.values()
    ]
    audit_many(actor=actor_of(caller), action="fhir.read", lines=lines)


def _externals(caller: Caller) -> Any:
    held = held_by(source_system=caller.client.source_system, units=_units(caller))
    return ExternalAppointment.objects.filter(held).select_related("patient", "unit")


def _bookings(caller: Caller) -> Any:
    return Booking.objects.filter(slot__unit__in=_units(caller)).select_related(
        "patient", "slot__unit", "slot__visit_type", "slot__practitioner"
    )


def _latest_of_event(caller: Caller, event: uuid.UUID) -> Booking | None:
    """The booking an event is now: the newest of the bookings it has been (moves keep the event)."""
    return _bookings(caller).filter(Q(pk=event) | Q(calendar_uid=event)).order_by("-created_at").first()


def read(caller: Caller, ident: str) -> HttpResponse:
    """Appointment/<id>: one of the client's own external appointments, or a booking of the
    platform's own book at one of its units (by its event id); anything else is not found."""
    try:
        pk = uuid.UUID(ident)
    except ValueError:
        return refuse(404, "not-found", f"no Appointment with id {ident}")
    row = _externals(caller).filter(pk=pk).first()
    if row is not None:
        _audit(caller, [(row.patient, row.unit, row)], "Appointment read")
        return fhir_response(resources.external_appointment(row, request=_last_request(row)))
    booking = _latest_of_event(caller, pk)
    if booking is None:
        return refuse(404, "not-found", f"no Appointment with id {ident}")
    _audit(caller, [(booking.patient, booking.slot.unit, booking)], "Appointment read")
    return fhir_response(resources.booking_appointment(booking))


def _since(value: str) -> dt.datetime | HttpResponse | None:
    """``_lastUpdated=gt<instant>`` (or ge): a full date and time with its offset."""
    if not value:
        return None
    prefix, moment = value[:2], value[2:]
    if prefix not in ("gt", "ge"):
        return refuse(
            400, "not-supported", "_lastUpdated takes gt or ge and an instant, e.g. gt2026-12-01T00:00:00+01:00"
        )
    try:
        parsed = dt.datetime.fromisoformat(moment)
    except ValueError:
        return refuse(400, "value", "_lastUpdated: not an instant (date, time and offset)")
    if parsed.tzinfo is None:
        return refuse(400, "value", "_lastUpdated: the instant needs its offset (Z or +01:00)")
    return parsed - dt.timedelta(microseconds=1) if prefix == "ge" else parsed


SEARCH_PARAMETERS = {"patient", "_lastUpdated", "_count"}


def search(caller: Caller, params: Any) -> HttpResponse:
    """Appointment?patient=<id>[&_lastUpdated=gt<instant>]: the patient's appointments at the
    client's units changed after the instant: its own external ones (changed by it, or asked about
    by the resident), and the platform's own bookings (booked, moved or cancelled)."""
    unknown = sorted(set(params) - SEARCH_PARAMETERS)
    if unknown:
        return refuse(400, "not-supported", f"unknown search parameters: {', '.join(unknown)}", "Appointment")
    value = str(params.get("patient", "")).removeprefix("Patient/")
    try:
        patient = uuid.UUID(value)
    except ValueError:
        return refuse(
            400, "required", "patient=<id> is required: the Patient's id here (never a personnummer)", "Appointment"
        )
    after = _since(str(params.get("_lastUpdated", "")))
    if isinstance(after, HttpResponse):
        return after
    externals = _externals(caller).filter(patient_id=patient)
    bookings = _bookings(caller).filter(patient_id=patient)
    if after is not None:
        asked = Q(requests__asked_at__gt=after) | Q(requests__answered_at__gt=after)
        externals = externals.filter(Q(updated_at__gt=after) | asked).distinct()
        bookings = bookings.filter(Q(created_at__gt=after) | Q(ended_at__gt=after))
    rows = list(externals.order_by("starts_at")[:SEARCH_LIMIT])
    # One Appointment per calendar event: the booking it is now.
    events: dict[uuid.UUID, Booking] = {}
    for booking in bookings.order_by("created_at")[: SEARCH_LIMIT * 4]:
        events[booking.event_uid] = booking
    latest = [_latest_of_event(caller, event) or booking for event, booking in list(events.items())[:SEARCH_LIMIT]]
    entries = [
        {"resource": resources.external_appointment(row, request=_last_request(row)), "search": {"mode": "match"}}
        for row in rows
    ] + [{"resource": resources.booking_appointment(b), "search": {"mode": "match"}} for b in latest]
    shown = [(r.patient, r.unit, r) for r in rows] + [(b.patient, b.slot.unit, b) for b in latest]
    _audit(caller, shown, "Appointment search")
    return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


def search_by_identifier(caller: Caller, key: str) -> HttpResponse:
    """POST Appointment/_search with identifier=system|value: the client's own appointment."""
    rows = list(_externals(caller).filter(identifier=key[:128])[:SEARCH_LIMIT])
    _audit(caller, [(r.patient, r.unit, r) for r in rows], "Appointment search")
    entries = [
        {"resource": resources.external_appointment(r, request=_last_request(r)), "search": {"mode": "match"}}
        for r in rows
    ]
    return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


def _number(value: str, name: str, default: int) -> int | HttpResponse:
    if not value:
        return default
    if not value.isdigit() or len(value) > 18:
        return refuse(400, "value", f"{name} must be a whole number of at most 18 digits")
    return int(value)


def history(request: HttpRequest, caller: Caller) -> HttpResponse:
    """Appointment/_history?_since=<n>[&_count=<m>]: the changes numbered after n, in order, at
    most m; follow the ``next`` link (the last number given) to read on, and never miss one."""
    unknown = sorted(set(request.GET) - {"_since", "_count"})
    if unknown:
        return refuse(400, "not-supported", f"unknown parameters: {', '.join(unknown)}", "Appointment")
    since = _number(request.GET.get("_since", ""), "_since", 0)
    count = _number(request.GET.get("_count", ""), "_count", FEED_PAGE)
    if isinstance(since, HttpResponse):
        return since
    if isinstance(count, HttpResponse):
        return count
    count = max(1, min(count, FEED_PAGE_MAX))
    rows: list[AppointmentChange] = list(
        changes.changes_for(units=_units(caller), source_system=caller.client.source_system).filter(seq__gt=since)[
            :count
        ]
    )
    last = rows[-1].seq if rows else since
    base = request.build_absolute_uri(reverse("fhir:appointment_history"))
    entries = []
    shown: list[tuple[Any, Any, Any]] = []
    for change in rows:
        if change.external is not None:
            resource = resources.external_appointment(change.external, request=change.request)
            shown.append((change.patient, change.unit, change.external))
        else:
            assert change.booking is not None  # noqa: S101 (the constraint appointment_change_of_one_appointment)
            resource = resources.booking_appointment(change.booking)
            shown.append((change.patient, change.unit, change.booking))
        entries.append(
            {
                "fullUrl": request.build_absolute_uri(_location(uuid.UUID(resource["id"]))),
                "extension": [
                    {"url": resources.SEQUENCE_EXTENSION, "valueString": str(change.seq)},
                    {"url": resources.CHANGE_EXTENSION, "valueCode": change.kind},
                ],
                "resource": resource,
                "request": {"method": "PUT", "url": f"Appointment/{resource['id']}"},
                "response": {"status": "200", "lastModified": resources.instant(change.at)},
            }
        )
    if shown:
        _audit(caller, shown, "Appointment change feed")
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [
            {"relation": "self", "url": f"{base}?{urlencode({'_since': since, '_count': count})}"},
            {"relation": "next", "url": f"{base}?{urlencode({'_since': last, '_count': count})}"},
        ],
        "entry": entries,
    }
    return fhir_response(bundle)
