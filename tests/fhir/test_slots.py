"""Booking systems publish Schedules and Slots (upsert by identifier, Bundles all or nothing, an
OperationOutcome on refusal), book a slot for a resident with $book or an Appointment naming it,
cancel with $cancel, and read slots back busy while a resident holds or has booked them."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.utils import timezone
from django.utils.http import urlencode
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from tests.fhir.appointment_helpers import (
    APPOINTMENT_SCOPES,
    PASIS,
    SLOT_SCOPES,
    a_schedule,
    a_scheduling_bundle,
    a_slot,
    an_appointment,
    booking_system,
)
from tests.fhir.test_api import Integration
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.external_models import ExternalAppointment, ExternalSchedule, ExternalSlot
from vardkontakt.booking.external_slots import slot_hold
from vardkontakt.fhir.importer import HSA_SYSTEM, PERSONNUMMER_SYSTEM
from vardkontakt.fhir.openapi import openapi_description

pytestmark = pytest.mark.django_db
BOOK = "/fhir/Appointment/$book"


@pytest.fixture
def lindangen(personas):
    return personas.unit_admin.memberships.get().unit


@pytest.fixture
def karnan(personas):
    return personas.nurse.memberships.get().unit


@pytest.fixture
def pasis(lindangen) -> Integration:
    return booking_system("pasis-lindangen", [lindangen], SLOT_SCOPES)


@pytest.fixture
def published(pasis, lindangen) -> ExternalSlot:
    """One schedule at Lindängen with one free slot residents may book, published in one Bundle."""
    answer = pasis.post("/fhir", a_scheduling_bundle(a_schedule(unit_hsa=lindangen.hsa_id), a_slot()))
    assert answer.status_code == 200, answer.content
    return ExternalSlot.objects.get()


def parameters(appointment: dict) -> dict:
    return {"resourceType": "Parameters", "parameter": [{"name": "appointment", "resource": appointment}]}


def booking_of(slot: ExternalSlot, *, number: str = "191212121212", **extra) -> dict:
    """An Appointment for $book: the patient and the slot; the rest comes from the slot."""
    return {
        "resourceType": "Appointment",
        "slot": [{"reference": f"Slot/{slot.pk}"}],
        "participant": [
            {
                "actor": {"type": "Patient", "identifier": {"system": PERSONNUMMER_SYSTEM, "value": number}},
                "status": "accepted",
            }
        ],
        **extra,
    }


def codes(answer) -> list[str]:
    return [issue["code"] for issue in answer.json()["issue"]]


# --- publishing -----------------------------------------------------------------------------------


def test_a_schedule_and_its_slot_are_published_read_back_as_valid_fhir_and_a_resend_changes_nothing(pasis, lindangen):
    schedule = pasis.post("/fhir/Schedule", a_schedule(unit_hsa=lindangen.hsa_id))
    assert schedule.status_code == 201, schedule.content
    Schedule.model_validate(schedule.json())
    row = ExternalSchedule.objects.get()
    assert (row.unit, row.service_type, row.practitioner_role, row.source_system) == (
        lindangen,
        "Provtagning",
        "Biomedicinsk analytiker",
        "pasis-lindangen",
    )
    slot = pasis.post("/fhir/Slot", a_slot(schedule=f"Schedule/{row.pk}"))
    assert slot.status_code == 201, slot.content
    Slot.model_validate(slot.json())
    assert slot.json()["status"] == "free"
    assert slot["Location"] == f"/fhir/Slot/{ExternalSlot.objects.get().pk}"
    again = pasis.post("/fhir/Slot", a_slot(schedule=f"Schedule/{row.pk}"))
    assert again.status_code == 200
    assert again.json()["meta"]["versionId"] == "1"
    busy = pasis.put(f"/fhir/Slot?identifier={PASIS}|T-1", a_slot(status="busy-unavailable"))
    assert busy.status_code == 200
    assert (busy.json()["status"], busy.json()["meta"]["versionId"]) == ("busy-unavailable", "2")
    assert pasis.get(slot["Location"]).json()["status"] == "busy-unavailable"
    found = pasis.get(f"/fhir/Slot?schedule={row.pk}&status=busy-unavailable")
    assert found.json()["total"] == 1
    Bundle.model_validate(found.json())
    assert pasis.get("/fhir/Schedule").json()["total"] == 1
    assert pasis.search("Slot", f"{PASIS}|T-1").json()["total"] == 1


def test_a_bundle_is_written_all_or_nothing(pasis, lindangen):
    bad = a_slot("T-2", schedule="S-unknown")
    answer = pasis.post("/fhir", a_scheduling_bundle(a_schedule(unit_hsa=lindangen.hsa_id), a_slot(), bad))
    assert answer.status_code == 422, answer.content
    assert (
        answer.json()["issue"][0]["expression"] == ["Bundle.entry[2].resource"] or "entry[2]" in answer.content.decode()
    )
    assert not ExternalSchedule.objects.exists()
    assert not ExternalSlot.objects.exists()
    mixed = a_scheduling_bundle(a_schedule(unit_hsa=lindangen.hsa_id))
    mixed["entry"].append({"resource": an_appointment(unit_hsa=lindangen.hsa_id), "request": {"method": "POST"}})
    assert pasis.post("/fhir", mixed).status_code == 400
    assert not ExternalSchedule.objects.exists()


def test_another_units_schedule_is_forbidden_and_nothing_is_written(pasis, karnan):
    answer = pasis.post("/fhir/Schedule", a_schedule(unit_hsa=karnan.hsa_id))
    assert answer.status_code == 403
    assert codes(answer) == ["forbidden"]
    assert not ExternalSchedule.objects.exists()


def test_publishing_needs_its_scope(lindangen, personas):
    appointments_only = booking_system("pasis-2", [lindangen], APPOINTMENT_SCOPES)
    answer = appointments_only.post("/fhir/Schedule", a_schedule(unit_hsa=lindangen.hsa_id))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer["WWW-Authenticate"]
    bundle = appointments_only.post("/fhir", a_scheduling_bundle(a_schedule(unit_hsa=lindangen.hsa_id)))
    assert bundle.status_code == 403
    assert appointments_only.get("/fhir/Schedule").status_code == 403
    assert not ExternalSchedule.objects.exists()


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"status": "open"}, 422),
        ({"status": None}, 400),
        ({"end": "an hour before the start"}, 422),
        ({"schedule": {"display": "no reference"}}, 422),
        ({"identifier": None}, 422),
        ({"start": "not a time"}, 400),
    ],
)
def test_a_bad_slot_is_refused_in_words_and_nothing_is_written(pasis, published, change, status):
    sent = {**a_slot("T-9"), **change}
    sent = {k: v for k, v in sent.items() if v is not None}
    if sent.get("end") == "an hour before the start":
        sent["end"] = (dt.datetime.fromisoformat(sent["start"]) - dt.timedelta(hours=1)).isoformat()
    answer = pasis.post("/fhir/Slot", sent)
    assert answer.status_code == status, answer.content
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert ExternalSlot.objects.count() == 1


def test_another_source_systems_slots_are_not_found(published, lindangen):
    other = Integration("pmo", [*SLOT_SCOPES], units=[lindangen])
    assert other.get(f"/fhir/Slot/{published.pk}").status_code == 404
    assert other.get(f"/fhir/Slot?schedule={published.schedule_id}").json()["total"] == 0
    answer = other.post(BOOK, parameters(booking_of(published)))
    assert answer.status_code == 422
    assert codes(answer) == ["not-found"]


# --- $book, $cancel, and an Appointment naming a slot ------------------------------------------------


def test_book_takes_the_slot_for_the_resident_and_the_slot_reads_busy(pasis, published, personas):
    answer = pasis.post(BOOK, parameters(booking_of(published)))
    assert answer.status_code == 201, answer.content
    body = answer.json()
    Appointment.model_validate(body)
    assert body["slot"] == [{"reference": f"Slot/{published.pk}"}]
    assert body["start"] == body["start"] and body["status"] == "booked"
    row = ExternalAppointment.objects.get()
    assert (row.patient, row.slot, row.booked_via, row.unit) == (
        personas.tolvan,
        published,
        "source",
        published.schedule.unit,
    )
    assert (row.starts_at, row.ends_at) == (published.starts_at, published.ends_at)
    entry = AuditEntry.objects.get(action="booking.external.import")
    assert (entry.actor_kind, entry.patient_id, entry.object_id) == ("system", str(personas.tolvan.pk), str(row.pk))
    assert pasis.get(f"/fhir/Slot/{published.pk}").json()["status"] == "busy"
    # A second $book of the same slot (for anyone) is a conflict; nothing more is written.
    again = pasis.post(BOOK, booking_of(published, number=personas.other_patient.personnummer))
    assert again.status_code == 409, again.content
    assert codes(again) == ["conflict"]
    assert ExternalAppointment.objects.count() == 1


def test_book_refuses_an_unknown_slot_an_unknown_patient_and_a_slot_held_by_a_resident(pasis, published, personas):
    unknown_slot = {**booking_of(published), "slot": [{"reference": f"Slot/{uuid.uuid4()}"}]}
    assert codes(pasis.post(BOOK, parameters(unknown_slot))) == ["not-found"]
    stranger = booking_of(published)
    stranger["participant"] = [{"actor": {"reference": f"Patient/{uuid.uuid4()}"}, "status": "accepted"}]
    answer = pasis.post(BOOK, parameters(stranger))
    assert answer.status_code == 422
    assert "unknown patient" in answer.content.decode()
    assert pasis.post(BOOK, {"resourceType": "Parameters", "parameter": []}).status_code == 400
    assert pasis.post(BOOK, {"resourceType": "Patient"}).status_code == 400
    slot_hold(
        reader=personas.other_patient,
        subject=personas.other_patient,
        unit=published.schedule.unit,
        slot_id=published.pk,
    )
    held = pasis.post(BOOK, parameters(booking_of(published)))
    assert held.status_code == 409
    assert "confirming" in held.content.decode()
    assert pasis.get(f"/fhir/Slot/{published.pk}").json()["status"] == "busy"
    assert not ExternalAppointment.objects.exists()


def test_a_hold_runs_out_by_itself_and_then_the_source_may_book(pasis, published, personas):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        slot_hold(
            reader=personas.other_patient,
            subject=personas.other_patient,
            unit=published.schedule.unit,
            slot_id=published.pk,
        )
        assert pasis.post(BOOK, parameters(booking_of(published))).status_code == 409
        traveller.shift(dt.timedelta(minutes=5, seconds=1))
        assert pasis.get(f"/fhir/Slot/{published.pk}").json()["status"] == "free"
        assert pasis.post(BOOK, parameters(booking_of(published))).status_code == 201


def test_book_refuses_another_units_appointment_for_the_slot(published, lindangen, karnan):
    both = booking_system("pasis-lindangen", [lindangen, karnan], SLOT_SCOPES)
    elsewhere = booking_of(published)
    elsewhere["participant"].append(
        {
            "actor": {"type": "Location", "identifier": {"system": HSA_SYSTEM, "value": karnan.hsa_id}},
            "status": "accepted",
        }
    )
    answer = both.post(BOOK, parameters(elsewhere))
    assert answer.status_code == 422
    assert "another care unit" in answer.content.decode()
    only_karnan = booking_system("pasis-lindangen", [karnan], SLOT_SCOPES)
    assert only_karnan.post(BOOK, parameters(booking_of(published))).status_code == 403
    assert not ExternalAppointment.objects.exists()


def test_book_needs_the_appointment_write_scope(published, lindangen):
    readers = booking_system("pasis-lindangen", [lindangen], ["system/Slot.read", "system/Appointment.read"])
    answer = readers.post(BOOK, parameters(booking_of(published)))
    assert answer.status_code == 403
    assert not ExternalAppointment.objects.exists()
    assert readers.get(BOOK).status_code == 405


def test_cancel_frees_the_slot_with_the_reason_and_twice_is_once(pasis, published):
    booked = pasis.post(BOOK, parameters(booking_of(published))).json()
    reason = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "Patienten ringde"}]}
    answer = pasis.post(f"/fhir/Appointment/{booked['id']}/$cancel", reason)
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["cancelationReason"] == {"text": "Patienten ringde"}
    assert pasis.get(f"/fhir/Slot/{published.pk}").json()["status"] == "free"
    logged = AuditEntry.objects.filter(action="booking.external.import", detail="Appointment cancelled").get()
    assert (logged.actor_kind, logged.object_id) == ("system", booked["id"])
    again = pasis.post(f"/fhir/Appointment/{booked['id']}/$cancel", reason)
    assert (again.status_code, again.json()["meta"]["versionId"]) == (200, answer.json()["meta"]["versionId"])
    # The slot is free: it can be booked again.
    assert pasis.post(BOOK, parameters(booking_of(published))).status_code == 201


def test_cancel_refuses_what_is_not_the_clients(pasis, published, lindangen):
    booked = pasis.post(BOOK, parameters(booking_of(published))).json()
    other = Integration("pmo", [*SLOT_SCOPES], units=[lindangen])
    assert other.post(f"/fhir/Appointment/{booked['id']}/$cancel", {"resourceType": "Parameters"}).status_code == 404
    assert pasis.post(f"/fhir/Appointment/{uuid.uuid4()}/$cancel", {"resourceType": "Parameters"}).status_code == 404
    assert pasis.post("/fhir/Appointment/not-an-id/$cancel", {"resourceType": "Parameters"}).status_code == 404
    assert pasis.post(f"/fhir/Appointment/{booked['id']}/$cancel", {"resourceType": "Patient"}).status_code == 400
    readers = booking_system("pasis-lindangen", [lindangen], ["system/Appointment.read"])
    assert readers.post(f"/fhir/Appointment/{booked['id']}/$cancel", {"resourceType": "Parameters"}).status_code == 403
    assert ExternalAppointment.objects.get().status == "booked"


def test_a_plain_appointment_naming_the_slot_books_it_once(pasis, published, lindangen):
    sent = an_appointment(
        unit_hsa=lindangen.hsa_id,
        start=published.starts_at,
        minutes=15,
        slot=[{"identifier": {"system": PASIS, "value": "T-1"}}],
    )
    answer = pasis.post("/fhir/Appointment", sent)
    assert answer.status_code == 201, answer.content
    assert answer.json()["slot"] == [{"reference": f"Slot/{published.pk}"}]
    assert pasis.post("/fhir/Appointment", sent).status_code == 200  # the same appointment again
    second = an_appointment("A-2", unit_hsa=lindangen.hsa_id, start=published.starts_at, minutes=15, slot=sent["slot"])
    assert pasis.post("/fhir/Appointment", second).status_code == 409
    wrong_time = an_appointment("A-3", unit_hsa=lindangen.hsa_id, minutes=15, slot=sent["slot"])
    assert pasis.post("/fhir/Appointment", wrong_time).status_code in (409, 422)
    # A booked slot is not moved or withdrawn under its appointment.
    moved = a_slot(start=published.starts_at + dt.timedelta(hours=1))
    refused = pasis.put(f"/fhir/Slot?identifier={PASIS}|T-1", moved)
    assert refused.status_code == 422
    assert "cancel or move its appointment" in refused.content.decode()
    # Cancelled by an update, the slot is free again.
    assert pasis.post("/fhir/Appointment", {**sent, "status": "cancelled"}).status_code == 200
    assert pasis.get(f"/fhir/Slot/{published.pk}").json()["status"] == "free"


def test_the_capability_statement_lists_schedules_slots_and_the_operations(client):
    statement = client.get("/fhir/metadata").json()
    kinds = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"Schedule", "Slot"} <= set(kinds)
    operations = {o["name"] for o in kinds["Appointment"]["operation"]}
    assert operations == {"book", "cancel"}


def test_the_openapi_document_lists_the_new_paths():
    paths = openapi_description()["paths"]
    assert {"/fhir/Appointment/$book", "/fhir/Appointment/{id}/$cancel"} <= set(paths)
    assert {"/fhir/Schedule", "/fhir/Slot", "/fhir/Slot/{id}", "/fhir/Schedule/_search"} <= set(paths)


def test_a_residents_booking_and_cancellation_are_read_back_by_the_source(pasis, published, personas):
    from django.test import Client
    from django.urls import reverse

    from tests.helpers import login_as
    from vardkontakt.identity.models import User

    since = timezone.now() - dt.timedelta(seconds=1)
    tolvan = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    confirm = reverse("booking:external_book", args=[published.schedule.unit_id, published.pk])
    assert tolvan.get(confirm).status_code == 200
    assert pasis.get(f"/fhir/Slot/{published.pk}").json()["status"] == "busy"  # held
    assert tolvan.post(confirm).status_code == 302
    row = ExternalAppointment.objects.get()
    query = urlencode({"patient": personas.tolvan.pk, "_lastUpdated": f"gt{since.isoformat()}"})
    found = pasis.get(f"/fhir/Appointment?{query}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(row.pk)]
    assert found["entry"][0]["resource"]["slot"] == [{"reference": f"Slot/{published.pk}"}]
    tolvan.post(reverse("booking:external_cancel", args=[row.pk]))
    feed = pasis.get("/fhir/Appointment/_history?_since=0").json()
    Bundle.model_validate(feed)
    kinds = [entry["extension"][1]["valueCode"] for entry in feed["entry"]]
    assert kinds == ["booked", "cancelled"]
    assert {entry["resource"]["id"] for entry in feed["entry"]} == {str(row.pk)}
    assert feed["entry"][1]["resource"]["status"] == "cancelled"
    assert pasis.get(f"/fhir/Slot/{published.pk}").json()["status"] == "free"


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Parameters", "parameter": 5},
        {"resourceType": "Parameters", "parameter": [{"name": "appointment", "resource": "x"}]},
        {"resourceType": "Appointment", "slot": "Slot/x"},
        {"resourceType": "Appointment", "slot": [{"reference": "Slot/not-a-uuid"}]},
    ],
)
def test_a_malformed_book_is_refused_with_an_operation_outcome(pasis, published, body):
    answer = pasis.post(BOOK, body)
    assert answer.status_code in (400, 422), answer.content
    assert answer.json()["resourceType"] == "OperationOutcome"
    booked = pasis.post(BOOK, parameters(booking_of(published))).json()
    odd = {"resourceType": "Parameters", "parameter": 5}
    assert pasis.post(f"/fhir/Appointment/{booked['id']}/$cancel", odd).status_code == 200
