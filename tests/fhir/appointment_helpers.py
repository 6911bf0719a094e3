"""What the Appointment tests share: an Appointment as a booking system sends it, and systems."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.fhir.test_api import Integration
from vardkontakt.fhir.importer import HSA_SYSTEM, PERSONNUMMER_SYSTEM
from vardkontakt.organisation.models import CareUnit

PASIS = "urn:oid:1.2.752.97.3.1"  # the source's own identifier system (invented)
APPOINTMENT_SCOPES = ["system/Appointment.write", "system/Appointment.read"]


def an_appointment(
    value: str = "A-1",
    *,
    number: str = "191212121212",
    unit_hsa: str,
    status: str = "booked",
    start: dt.datetime | None = None,
    minutes: int = 30,
    **extra: Any,
) -> dict[str, Any]:
    # Ten days ahead at 09:00 UTC: two sends in one test name the same time (unless midnight passes).
    start = start or (timezone.now() + dt.timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
    return {
        "resourceType": "Appointment",
        "identifier": [{"system": PASIS, "value": value}],
        "status": status,
        "serviceType": [{"text": "Röntgen, lungor"}],
        "start": start.isoformat(),
        "end": (start + dt.timedelta(minutes=minutes)).isoformat(),
        "patientInstruction": "Kom 15 minuter före.",
        "participant": [
            {
                "actor": {"type": "Patient", "identifier": {"system": PERSONNUMMER_SYSTEM, "value": number}},
                "status": "accepted",
            },
            {
                "actor": {"type": "PractitionerRole", "display": "Röntgensjuksköterska"},
                "status": "accepted",
            },
            {
                "actor": {"type": "Location", "identifier": {"system": HSA_SYSTEM, "value": unit_hsa}},
                "status": "accepted",
            },
        ],
        **extra,
    }


def a_bundle(*appointments: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": a,
                "request": {
                    "method": "PUT",
                    "url": f"Appointment?identifier={a['identifier'][0]['system']}|{a['identifier'][0]['value']}",
                },
            }
            for a in appointments
        ],
    }


def booking_system(client_id: str, units: list[CareUnit], scopes: list[str] | None = None) -> Integration:
    return Integration(client_id, APPOINTMENT_SCOPES if scopes is None else scopes, units=units)


SLOT_SCOPES = [
    "system/Schedule.write",
    "system/Schedule.read",
    "system/Slot.write",
    "system/Slot.read",
    *APPOINTMENT_SCOPES,
]
BOOKABLE = "https://vardkontakt.example/fhir/StructureDefinition/bookable-online"


def a_schedule(value: str = "S-1", *, unit_hsa: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "identifier": [{"system": PASIS, "value": value}],
        "active": True,
        "serviceType": [{"text": "Provtagning"}],
        "actor": [
            {"type": "Location", "identifier": {"system": HSA_SYSTEM, "value": unit_hsa}},
            {"type": "PractitionerRole", "display": "Biomedicinsk analytiker"},
        ],
        **extra,
    }


def a_slot(
    value: str = "T-1",
    *,
    schedule: str = "S-1",
    status: str = "free",
    start: dt.datetime | None = None,
    minutes: int = 15,
    online: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A slot of the schedule with the identifier ``schedule`` (or Schedule/<id> when it has a slash)."""
    start = start or (timezone.now() + dt.timedelta(days=5)).replace(hour=8, minute=0, second=0, microsecond=0)
    reference = {"reference": schedule} if "/" in schedule else {"identifier": {"system": PASIS, "value": schedule}}
    return {
        "resourceType": "Slot",
        "identifier": [{"system": PASIS, "value": value}],
        "schedule": reference,
        "status": status,
        "start": start.isoformat(),
        "end": (start + dt.timedelta(minutes=minutes)).isoformat(),
        "extension": [{"url": BOOKABLE, "valueBoolean": online}],
        **extra,
    }


def a_scheduling_bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": r,
                "request": {
                    "method": "PUT",
                    "url": f"{r['resourceType']}?identifier={r['identifier'][0]['system']}|{r['identifier'][0]['value']}",
                },
            }
            for r in resources
        ],
    }
