"""The platform's appointments as FHIR R4 Appointments: the external ones as their source sent them
(with the resident's request, if any), and the platform's own bookings (one Appointment per
calendar event, so a booking moved online is the same Appointment at a new time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vardkontakt.booking.external_models import ExternalAppointment, ExternalAppointmentRequest
from vardkontakt.booking.models import Booking, BookingStatus
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.fhir.importer.vocabulary import HSA_SYSTEM, PERSONNUMMER_SYSTEM
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit

BOOKING_SYSTEM = "https://vardkontakt.example/fhir/identifier/booking"
REQUEST_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/resident-request"
SEQUENCE_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/change-sequence"
CHANGE_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/change-kind"
CHANNEL_EXTENSION = "https://vardkontakt.example/fhir/StructureDefinition/booking-channel"


def instant(value: dt.datetime) -> str:
    return value.astimezone(STOCKHOLM).isoformat(timespec="seconds")


def _patient(patient: Patient) -> dict[str, Any]:
    return {
        "actor": {
            "reference": f"Patient/{patient.pk}",
            "type": "Patient",
            "identifier": {"system": PERSONNUMMER_SYSTEM, "value": patient.personnummer},
        },
        "status": "accepted",
    }


def _location(unit: CareUnit) -> dict[str, Any]:
    return {
        "actor": {"type": "Location", "identifier": {"system": HSA_SYSTEM, "value": unit.hsa_id}, "display": unit.name},
        "status": "accepted",
    }


def request_extension(request: ExternalAppointmentRequest) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "kind", "valueCode": request.kind},
        {"url": "status", "valueCode": request.status},
        {"url": "requested", "valueDateTime": instant(request.asked_at)},
    ]
    if request.note:
        parts.append({"url": "note", "valueString": request.note})
    if request.answered_at:
        parts.append({"url": "answered", "valueDateTime": instant(request.answered_at)})
    return {"url": REQUEST_EXTENSION, "extension": parts}


def external_appointment(
    row: ExternalAppointment, *, request: ExternalAppointmentRequest | None = None
) -> dict[str, Any]:
    system, _, value = row.identifier.partition("|")
    participants = [_patient(row.patient), _location(row.unit)]
    if row.practitioner_role or row.practitioner_hsa_id:
        actor: dict[str, Any] = {"type": "PractitionerRole"}
        if row.practitioner_role:
            actor["display"] = row.practitioner_role
        if row.practitioner_hsa_id:
            actor["identifier"] = {"system": HSA_SYSTEM, "value": row.practitioner_hsa_id}
        participants.append({"actor": actor, "status": "accepted"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(row.pk),
        "meta": {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)},
        "identifier": [{"system": system, "value": value}],
        "status": row.status,
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
        "participant": participants,
    }
    if row.service_type:
        resource["serviceType"] = [{"text": row.service_type}]
    if row.patient_instruction:
        resource["patientInstruction"] = row.patient_instruction
    if row.slot_id is not None:
        resource["slot"] = [{"reference": f"Slot/{row.slot_id}"}]
    if row.status == "cancelled" and row.cancellation_reason:
        resource["cancelationReason"] = {"text": row.cancellation_reason}
    extensions = []
    if request is not None:
        extensions.append(request_extension(request))
    if row.booked_via:
        extensions.append({"url": CHANNEL_EXTENSION, "valueCode": row.booked_via})
    if extensions:
        resource["extension"] = extensions
    return resource


def booking_appointment(booking: Booking) -> dict[str, Any]:
    """A booking of the platform's own book. Its id is the calendar event's: a move keeps it."""
    slot = booking.slot
    status = "booked" if booking.status == BookingStatus.ACTIVE else "cancelled"
    changed = booking.ended_at or booking.created_at
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(booking.event_uid),
        "meta": {"lastUpdated": instant(changed)},
        "identifier": [{"system": BOOKING_SYSTEM, "value": str(booking.event_uid)}],
        "status": status,
        "serviceType": [{"text": slot.visit_type.name}],
        "start": instant(slot.starts_at),
        "end": instant(slot.ends_at),
        "created": instant(booking.created_at),
        "participant": [
            _patient(booking.patient),
            {
                "actor": {
                    "type": "PractitionerRole",
                    "display": slot.practitioner.full_name,
                    **(
                        {"identifier": {"system": HSA_SYSTEM, "value": slot.practitioner.hsa_id}}
                        if slot.practitioner.hsa_id
                        else {}
                    ),
                },
                "status": "accepted",
            },
            _location(slot.unit),
        ],
        "extension": [{"url": CHANNEL_EXTENSION, "valueCode": booking.channel}],
    }
    if booking.status == BookingStatus.CANCELLED:
        resource["cancelationReason"] = {
            "text": "cancelled online" if booking.ended_online else "cancelled by the unit"
        }
    return resource
