"""Schedule and Slot publishing (issue 17 part 2): a booking system publishes the times residents
may book on the platform, and reads them back (a slot a resident holds or has booked reads busy).

Writes follow the Appointment writes: upsert by business identifier keyed by (source system,
identifier), one resource or a transaction Bundle of Schedules and Slots (all or nothing; the
Bundle's Schedules are written first, so its Slots may name them by identifier), an
OperationOutcome on refusal. The rules are booking.external_slots'."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone

from vardkontakt.booking.external import ExternalRefused
from vardkontakt.booking.external_models import ExternalSchedule, ExternalSlot, SlotStatus
from vardkontakt.booking.external_slots import (
    Published,
    ScheduleSent,
    SlotSent,
    scheduling_publish,
    shown_status,
)
from vardkontakt.fhir.appointments import SCHEDULING_TYPES
from vardkontakt.fhir.appointments.api import _refused, _units  # the Appointment writes' refusals and units
from vardkontakt.fhir.appointments.reading import (
    ROLE_KINDS,
    UNIT_KINDS,
    AppointmentReader,
    bundle_entries,
    concept_text,
    participant_kind,
    structure,
)
from vardkontakt.fhir.appointments.resources import instant
from vardkontakt.fhir.auth import Caller
from vardkontakt.fhir.importer.outcomes import Issue
from vardkontakt.fhir.importer.reading import Reader
from vardkontakt.fhir.importer.vocabulary import HSA_SYSTEM
from vardkontakt.fhir.responses import fhir_response, refuse

BOOKABLE_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/bookable-online"
HOLD_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/held-until"
SLOT_STATUSES = sorted(SlotStatus.values)
SEARCH_LIMIT = 500


class SchedulingReader(AppointmentReader):
    """Reads Schedules and Slots of one send (units looked up once, in the client's scope)."""

    def schedule(self, where: str, data: dict[str, Any]) -> ScheduleSent | None:
        r = Reader(where, data, self.batch.issues)
        before = len(self.issues)
        key = r.business_id()
        unit = None
        unit_named = False
        role, role_hsa = "", ""
        actors = data.get("actor") or []
        for index, actor in enumerate(actors if isinstance(actors, list) else []):
            if not isinstance(actor, dict):
                continue
            kind = participant_kind(actor)
            if kind in UNIT_KINDS:
                unit_named = True
                unit = self._unit(r, f"actor[{index}]", {"identifier": actor.get("identifier")})
            elif kind in ROLE_KINDS:
                role = str(actor.get("display") or "")
                identifier = actor.get("identifier")
                if isinstance(identifier, dict) and identifier.get("system") == HSA_SYSTEM:
                    role_hsa = str(identifier.get("value") or "").upper()
        if not unit_named:
            r.fail("actor", "an actor must be the care unit: a Location with its HSA-id", "required")
        active = data.get("active", True)
        if len(self.issues) > before or unit is None:
            return None
        return ScheduleSent(
            identifier=key,
            unit=unit,
            service_type=concept_text(data.get("serviceType")),
            practitioner_role=role,
            practitioner_hsa_id=role_hsa,
            active=active is not False,
        )

    def slot(self, where: str, data: dict[str, Any]) -> SlotSent | None:
        r = Reader(where, data, self.batch.issues)
        before = len(self.issues)
        key = r.business_id()
        status = data.get("status")
        if status not in SLOT_STATUSES:
            r.fail("status", f"status must be one of {', '.join(SLOT_STATUSES)}", "code-invalid")
        start = r.instant(data.get("start"), "start")
        end = r.instant(data.get("end"), "end")
        if start is not None and end is not None and end <= start:
            r.fail("end", "the end must come after the start", "invariant")
        schedule_id: uuid.UUID | None = None
        schedule_key = ""
        sent_schedule = data.get("schedule")
        reference: dict[str, Any] = sent_schedule if isinstance(sent_schedule, dict) else {}
        literal = reference.get("reference")
        identifier = reference.get("identifier")
        if isinstance(literal, str) and literal.startswith("Schedule/"):
            try:
                schedule_id = uuid.UUID(literal.split("/", 1)[1])
            except ValueError:
                r.fail("schedule.reference", f"unknown schedule {literal}", "not-found")
        elif isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
            schedule_key = f"{identifier['system']}|{identifier['value']}"[:128]
        else:
            r.fail(
                "schedule", "the schedule is required: Schedule/<id> or its identifier (system and value)", "required"
            )
        bookable = False
        for extension in data.get("extension") or []:
            if isinstance(extension, dict) and extension.get("url") == BOOKABLE_EXTENSION:
                bookable = extension.get("valueBoolean") is True
        if len(self.issues) > before or start is None or end is None:
            return None
        return SlotSent(
            identifier=key,
            schedule_id=schedule_id,
            schedule_key=schedule_key,
            status=str(status),
            starts_at=start,
            ends_at=end,
            service_type=concept_text(data.get("serviceType")),
            bookable_online=bookable,
        )


def _publish(
    caller: Caller, schedules: list[tuple[int, ScheduleSent]], slots: list[tuple[int, SlotSent]], wheres: list[str]
) -> list[tuple[int, Published]] | HttpResponse:
    try:
        return scheduling_publish(
            source_system=caller.client.source_system,
            source_name=caller.client.name,
            schedules=schedules,
            slots=slots,
            units=_units(caller),
        )
    except ExternalRefused as refused:
        return _refused([Issue(wheres[p.index], p.message, p.code) for p in refused.problems])


def _type_of(row: ExternalSchedule | ExternalSlot) -> str:
    return "Schedule" if isinstance(row, ExternalSchedule) else "Slot"


def _location(row: ExternalSchedule | ExternalSlot) -> str:
    return reverse("fhir:instance", kwargs={"resource_type": _type_of(row), "ident": row.pk})


def as_fhir(row: ExternalSchedule | ExternalSlot, now: dt.datetime | None = None) -> dict[str, Any]:
    return schedule_resource(row) if isinstance(row, ExternalSchedule) else slot_resource(row, now or timezone.now())


def write_one(caller: Caller, resource_type: str, data: Any, *, key: str | None) -> HttpResponse:
    """POST [base]/Schedule or Slot (create, or update of the same identifier), or PUT ?identifier=."""
    issues = structure(data, resource_type, (resource_type,))
    if issues:
        return _refused(issues)
    reader = SchedulingReader(units=_units(caller), source_system=caller.client.source_system)
    item = reader.schedule(resource_type, data) if resource_type == "Schedule" else reader.slot(resource_type, data)
    if item is not None and key is not None and key[:128] != item.identifier:
        reader.issues.append(
            Issue(f"{resource_type}.identifier", "the resource must carry the identifier its URL names", "invalid")
        )
    if reader.issues or item is None:
        return _refused(reader.issues or [Issue(resource_type, "the resource could not be read", "invalid")])
    schedules = [(0, item)] if isinstance(item, ScheduleSent) else []
    slots = [(0, item)] if isinstance(item, SlotSent) else []
    done = _publish(caller, schedules, slots, [resource_type])
    if isinstance(done, HttpResponse):
        return done
    published = done[0][1]
    return fhir_response(
        as_fhir(published.row),
        status=201 if published.created else 200,
        Location=_location(published.row),
    )


def write_bundle(caller: Caller, data: dict[str, Any]) -> HttpResponse:
    """A transaction Bundle of Schedules and Slots: every entry or none."""
    entries, issues = bundle_entries(data, SCHEDULING_TYPES)
    if issues:
        return _refused(issues[:20])
    reader = SchedulingReader(units=_units(caller), source_system=caller.client.source_system)
    schedules: list[tuple[int, ScheduleSent]] = []
    slots: list[tuple[int, SlotSent]] = []
    wheres: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    with transaction.atomic():
        for index, entry in enumerate(entries):
            where = f"Bundle.entry[{index}]"
            request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
            method = str(request.get("method", "POST"))
            if method not in ("POST", "PUT"):
                reader.issues.append(
                    Issue(f"{where}.request.method", "only POST and PUT are accepted", "not-supported")
                )
                wheres.append(where)
                continue
            resource = entry["resource"]
            kind = resource["resourceType"]
            item = (
                reader.schedule(f"{where}.resource", resource)
                if kind == "Schedule"
                else reader.slot(f"{where}.resource", resource)
            )
            wheres.append(f"{where}.resource")
            if item is None:
                continue
            url = str(request.get("url", ""))
            if method == "PUT" and "identifier=" in url and url.split("identifier=", 1)[1][:128] != item.identifier:
                reader.issues.append(
                    Issue(f"{where}.request.url", "the resource must carry the identifier its URL names", "invalid")
                )
                continue
            if (kind, item.identifier) in seen:
                reader.issues.append(
                    Issue(
                        f"{where}.resource.identifier",
                        f"the same {kind} is already in entry[{seen[(kind, item.identifier)]}]",
                        "duplicate",
                    )
                )
                continue
            seen[(kind, item.identifier)] = index
            if isinstance(item, ScheduleSent):
                schedules.append((index, item))
            else:
                slots.append((index, item))
        if reader.issues:
            return _refused(reader.issues)
        done = _publish(caller, schedules, slots, wheres)
        if isinstance(done, HttpResponse):
            transaction.set_rollback(True)
            return done
    answers: list[dict[str, Any]] = [{} for _ in entries]
    for index, published in done:
        answers[index] = {
            "response": {
                "status": "201 Created" if published.created else "200 OK",
                "location": _location(published.row),
                "etag": f'W/"{published.row.version}"',
            }
        }
    return fhir_response(
        {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "transaction-response", "entry": answers}
    )


# --- reads ----------------------------------------------------------------------------------------


def _identifier(value: str) -> list[dict[str, str]]:
    system, _, code = value.partition("|")
    return [{"system": system, "value": code}]


def schedule_resource(row: ExternalSchedule) -> dict[str, Any]:
    actors: list[dict[str, Any]] = [
        {"type": "Location", "identifier": {"system": HSA_SYSTEM, "value": row.unit.hsa_id}, "display": row.unit.name}
    ]
    if row.practitioner_role or row.practitioner_hsa_id:
        role: dict[str, Any] = {"type": "PractitionerRole"}
        if row.practitioner_role:
            role["display"] = row.practitioner_role
        if row.practitioner_hsa_id:
            role["identifier"] = {"system": HSA_SYSTEM, "value": row.practitioner_hsa_id}
        actors.append(role)
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": str(row.pk),
        "meta": {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)},
        "identifier": _identifier(row.identifier),
        "active": row.active,
        "actor": actors,
    }
    if row.service_type:
        resource["serviceType"] = [{"text": row.service_type}]
    return resource


def slot_resource(row: ExternalSlot, now: dt.datetime) -> dict[str, Any]:
    """The slot as the source reads it back: busy while a resident holds it or an appointment takes it."""
    extension: list[dict[str, Any]] = [{"url": BOOKABLE_EXTENSION, "valueBoolean": row.bookable_online}]
    if row.held_until is not None and row.held_until > now:
        extension.append({"url": HOLD_EXTENSION, "valueDateTime": instant(row.held_until)})
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": str(row.pk),
        "meta": {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)},
        "identifier": _identifier(row.identifier),
        "schedule": {"reference": f"Schedule/{row.schedule_id}"},
        "status": shown_status(row, now),
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
        "extension": extension,
    }
    if row.service_type:
        resource["serviceType"] = [{"text": row.service_type}]
    return resource


def _schedules(caller: Caller) -> Any:
    return ExternalSchedule.objects.filter(
        source_system=caller.client.source_system, unit__in=_units(caller)
    ).select_related("unit")


def _slots(caller: Caller) -> Any:
    return ExternalSlot.objects.filter(
        source_system=caller.client.source_system, schedule__unit__in=_units(caller)
    ).select_related("schedule")


def read(caller: Caller, resource_type: str, ident: str) -> HttpResponse:
    """Schedule/<id> or Slot/<id>: the client's own, at one of its units; anything else is not found."""
    try:
        pk = uuid.UUID(ident)
    except ValueError:
        return refuse(404, "not-found", f"no {resource_type} with id {ident}")
    rows = _schedules(caller) if resource_type == "Schedule" else _slots(caller)
    row = rows.filter(pk=pk).first()
    if row is None:
        return refuse(404, "not-found", f"no {resource_type} with id {ident}")
    return fhir_response(as_fhir(row))


def search_by_identifier(caller: Caller, resource_type: str, key: str) -> HttpResponse:
    rows = _schedules(caller) if resource_type == "Schedule" else _slots(caller)
    found = list(rows.filter(identifier=key[:128])[:SEARCH_LIMIT])
    return _searchset(found)


def _searchset(rows: list[Any]) -> HttpResponse:
    now = timezone.now()
    entries = [{"resource": as_fhir(row, now), "search": {"mode": "match"}} for row in rows]
    return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


SEARCH_PARAMETERS = {"Schedule": {"active"}, "Slot": {"schedule", "status"}}


def search(caller: Caller, resource_type: str, params: QueryDict) -> HttpResponse:
    """GET Schedule[?active=true|false]: the client's schedules; GET Slot?schedule=<id>[&status=…]:
    a schedule's slots as the client reads them back (held or booked ones busy), by start, at
    most 500. Neither names a resident, so the parameters may go in the URL."""
    unknown = sorted(set(params) - SEARCH_PARAMETERS[resource_type])
    if unknown:
        return refuse(400, "not-supported", f"unknown search parameters: {', '.join(unknown)}", resource_type)
    if resource_type == "Schedule":
        rows = _schedules(caller)
        active = params.get("active", "")
        if active not in ("", "true", "false"):
            return refuse(400, "value", "active is true or false", "Schedule")
        if active:
            rows = rows.filter(active=active == "true")
        return _searchset(list(rows.order_by("identifier")[:SEARCH_LIMIT]))
    value = str(params.get("schedule", "")).removeprefix("Schedule/")
    try:
        schedule = uuid.UUID(value)
    except ValueError:
        return refuse(400, "required", "schedule=<id> is required (the Schedule's id here)", "Slot")
    status = params.get("status", "")
    if status and status not in SLOT_STATUSES:
        return refuse(400, "value", f"status is one of {', '.join(SLOT_STATUSES)}", "Slot")
    found = list(_slots(caller).filter(schedule_id=schedule).order_by("starts_at")[:SEARCH_LIMIT])
    now = timezone.now()
    if status:
        found = [row for row in found if shown_status(row, now) == status]
    return _searchset(found)
