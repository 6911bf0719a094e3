"""The booking systems publish appointments: create, update, cancel by business identifier, all
or nothing, refused with an OperationOutcome; and each refusal: wrong scope, wrong unit, unknown
patient, bad shape, an identifier held for another patient, a cancelled appointment brought back."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle

from tests.fhir.appointment_helpers import PASIS, a_bundle, an_appointment, booking_system
from tests.fhir.test_api import Integration
from vardkontakt.access.audit import Actor
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.external_models import ExternalAppointment, ExternalStatus
from vardkontakt.identity.models import Patient
from vardkontakt.identity.numbers import normalise_personnummer

pytestmark = pytest.mark.django_db
APPOINTMENTS = "/fhir/Appointment"
SOURCE = Actor("system", "pasis", "Källsystem PASiS (pasis)")


@pytest.fixture
def lindangen(personas):
    return personas.unit_admin.memberships.get().unit


@pytest.fixture
def karnan(personas):
    return personas.nurse.memberships.get().unit


@pytest.fixture
def pasis(lindangen) -> Integration:
    return booking_system("pasis-lindangen", [lindangen])


def put(system: Integration, appointment: dict) -> Any:
    key = f"{appointment['identifier'][0]['system']}|{appointment['identifier'][0]['value']}"
    return system.http.put(
        f"{APPOINTMENTS}?identifier={key}",
        json.dumps(appointment),
        content_type="application/fhir+json",
        headers={"Authorization": f"Bearer {system.token}"},
    )


def test_a_booking_system_creates_an_appointment_and_reads_it_back_as_valid_fhir(pasis, lindangen, personas):
    answer = pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id))
    assert answer.status_code == 201, answer.content
    body = answer.json()
    Appointment.model_validate(body)
    row = ExternalAppointment.objects.get()
    assert (row.patient, row.unit, row.status) == (personas.tolvan, lindangen, "booked")
    assert (row.source_system, row.source_name, row.service_type) == (
        "pasis-lindangen",
        "pasis-lindangen",
        "Röntgen, lungor",
    )
    assert row.practitioner_role == "Röntgensjuksköterska"
    assert answer["Location"] == f"/fhir/Appointment/{row.pk}"
    read = pasis.get(answer["Location"])
    assert read.status_code == 200
    assert read.json()["identifier"] == [{"system": PASIS, "value": "A-1"}]
    assert read.json()["meta"]["versionId"] == "1"


def test_sending_it_again_changes_nothing_and_an_update_moves_it(pasis, lindangen):
    sent = an_appointment(unit_hsa=lindangen.hsa_id)
    assert pasis.post(APPOINTMENTS, sent).status_code == 201
    again = pasis.post(APPOINTMENTS, sent)
    assert again.status_code == 200
    assert again.json()["meta"]["versionId"] == "1"
    later = dt.datetime.fromisoformat(sent["start"]) + dt.timedelta(days=1)
    moved = put(pasis, an_appointment(unit_hsa=lindangen.hsa_id, start=later))
    assert moved.status_code == 200, moved.content
    assert moved.json()["meta"]["versionId"] == "2"
    row = ExternalAppointment.objects.get()
    assert row.starts_at == later
    assert ExternalAppointment.objects.count() == 1


def test_a_cancellation_is_an_update_and_cancelling_twice_changes_nothing(pasis, lindangen):
    start = (timezone.now() + dt.timedelta(days=10)).replace(microsecond=0)  # one time for all three sends
    pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id, start=start))
    first = put(pasis, an_appointment(unit_hsa=lindangen.hsa_id, status="cancelled", start=start))
    assert first.status_code == 200
    second = put(pasis, an_appointment(unit_hsa=lindangen.hsa_id, status="cancelled", start=start))
    assert second.status_code == 200
    assert second.json()["meta"]["versionId"] == first.json()["meta"]["versionId"] == "2"
    assert ExternalAppointment.objects.get().status == ExternalStatus.CANCELLED


def test_a_cancelled_appointment_is_not_brought_back(pasis, lindangen):
    pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id, status="cancelled"))
    answer = put(pasis, an_appointment(unit_hsa=lindangen.hsa_id, status="booked"))
    assert answer.status_code == 422
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "business-rule"
    assert "new identifier" in outcome["issue"][0]["diagnostics"]
    assert ExternalAppointment.objects.get().status == ExternalStatus.CANCELLED


def test_an_identifier_held_for_another_patient_is_a_conflict(pasis, lindangen, personas):
    pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id))
    other = personas.other_patient.personnummer.replace("-", "")
    answer = put(pasis, an_appointment(unit_hsa=lindangen.hsa_id, number=other))
    assert answer.status_code == 409
    assert answer.json()["issue"][0]["code"] == "conflict"
    assert ExternalAppointment.objects.get().patient == personas.tolvan


def test_a_unit_the_client_is_not_registered_for_is_forbidden_and_nothing_is_written(pasis, karnan):
    answer = pasis.post(APPOINTMENTS, an_appointment(unit_hsa=karnan.hsa_id))
    assert answer.status_code == 403
    assert answer.json()["issue"][0]["code"] == "forbidden"
    assert not ExternalAppointment.objects.exists()


def test_another_source_with_the_same_identifier_is_another_appointment(pasis, lindangen, personas):
    pmo = booking_system("pmo-lindangen", [lindangen])
    pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id))
    assert pmo.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id)).status_code == 201
    assert ExternalAppointment.objects.count() == 2
    # Neither reads the other's.
    theirs = ExternalAppointment.objects.get(source_system="pmo-lindangen")
    assert pasis.get(f"{APPOINTMENTS}/{theirs.pk}").status_code == 404


def test_without_the_write_scope_nothing_is_written(lindangen):
    reader = booking_system("pasis-reader", [lindangen], scopes=["system/Appointment.read"])
    answer = reader.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id))
    assert answer.status_code == 403
    assert "system/Appointment.write" in answer["WWW-Authenticate"]
    assert not ExternalAppointment.objects.exists()
    writer = booking_system("pasis-writer", [lindangen], scopes=["system/Appointment.write"])
    assert writer.get(f"{APPOINTMENTS}?patient=Patient/{ExternalAppointment().pk}").status_code == 403
    assert writer.get(reverse("fhir:appointment_history")).status_code == 403


def test_a_record_system_token_opens_no_appointments(lindangen):
    lab = Integration("lab-only", ["system/Observation.write"], units=[lindangen])
    assert lab.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id)).status_code == 403


def test_an_unknown_patient_id_is_not_found_and_a_bad_personnummer_is_refused(pasis, lindangen, personas):
    sent = an_appointment(unit_hsa=lindangen.hsa_id)
    sent["participant"][0]["actor"] = {"reference": "Patient/8b0f0c43-7e1e-4a4b-9a51-1c7e0f1f2a3b"}
    answer = pasis.post(APPOINTMENTS, sent)
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["code"] == "not-found"
    bad = an_appointment(unit_hsa=lindangen.hsa_id, number="191212121213")
    assert pasis.post(APPOINTMENTS, bad).status_code == 422
    # A resident the client's units have nothing to do with is not found by id either.
    stranger = personas.sealed
    sent["participant"][0]["actor"] = {"reference": f"Patient/{stranger.pk}"}
    if not stranger.listings.filter(unit=lindangen).exists():
        assert pasis.post(APPOINTMENTS, sent).status_code == 422
    assert not ExternalAppointment.objects.exists()


def test_a_resident_not_yet_held_is_registered_with_the_appointment_and_not_when_it_is_refused(pasis, lindangen):
    new_number = "201001012382"  # a valid test personnummer nobody in the demo holds
    refused = an_appointment(unit_hsa=lindangen.hsa_id, number=new_number, status="nonsense")
    assert pasis.post(APPOINTMENTS, refused).status_code == 422
    assert not Patient.objects.filter(personnummer=normalise_personnummer(new_number)).exists()
    assert pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id, number=new_number)).status_code == 201
    assert Patient.objects.filter(personnummer=normalise_personnummer(new_number)).exists()


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        (lambda a: a.update(status="nonsense"), 422, "Appointment.status"),
        (lambda a: a.pop("identifier"), 422, "Appointment.identifier"),
        (lambda a: a.update(end=a["start"]), 422, "Appointment.end"),
        (lambda a: a.pop("start"), 422, "Appointment.start"),
        (lambda a: a.update(participant=[a["participant"][1]]), 422, "Appointment.participant"),
        (lambda a: a.update(participant=a["participant"][:2]), 422, "Appointment.participant"),
        (lambda a: a.update(participant="everyone"), 400, "Appointment.participant"),
        (lambda a: a.update(start="next tuesday"), 400, "Appointment.start"),
        (lambda a: a.update(resourceType="Observation"), 400, "Appointment"),
    ],
)
def test_a_bad_shape_is_refused_with_the_place_named(pasis, lindangen, change, status, where):
    sent = an_appointment(unit_hsa=lindangen.hsa_id)
    change(sent)
    answer = pasis.post(APPOINTMENTS, sent)
    assert answer.status_code == status, answer.content
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(where in " ".join(issue["expression"]) for issue in outcome["issue"]), outcome
    assert not ExternalAppointment.objects.exists()


def test_put_must_carry_the_identifier_its_url_names(pasis, lindangen):
    sent = an_appointment("A-2", unit_hsa=lindangen.hsa_id)
    answer = pasis.http.put(
        f"{APPOINTMENTS}?identifier={PASIS}|A-1",
        json.dumps(sent),
        content_type="application/fhir+json",
        headers={"Authorization": f"Bearer {pasis.token}"},
    )
    assert answer.status_code == 422
    assert not ExternalAppointment.objects.exists()


def test_a_bundle_is_all_or_nothing(pasis, lindangen, karnan):
    good = an_appointment("B-1", unit_hsa=lindangen.hsa_id)
    elsewhere = an_appointment("B-2", unit_hsa=karnan.hsa_id)
    answer = pasis.post("/fhir", a_bundle(good, elsewhere))
    assert answer.status_code == 403
    assert answer.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.participant[2].actor.identifier"]
    assert not ExternalAppointment.objects.exists()
    answer = pasis.post("/fhir", a_bundle(good, an_appointment("B-3", unit_hsa=lindangen.hsa_id)))
    assert answer.status_code == 200, answer.content
    Bundle.model_validate(answer.json())
    assert [e["response"]["status"] for e in answer.json()["entry"]] == ["201 Created", "201 Created"]
    assert ExternalAppointment.objects.count() == 2


def test_a_bundle_conflict_on_one_entry_writes_none(pasis, lindangen, personas):
    pasis.post(APPOINTMENTS, an_appointment("C-1", unit_hsa=lindangen.hsa_id))
    other = personas.other_patient.personnummer.replace("-", "")
    answer = pasis.post(
        "/fhir",
        a_bundle(
            an_appointment("C-2", unit_hsa=lindangen.hsa_id),
            an_appointment("C-1", unit_hsa=lindangen.hsa_id, number=other),
        ),
    )
    assert answer.status_code == 409
    assert answer.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource"]
    assert list(ExternalAppointment.objects.values_list("identifier", flat=True)) == [f"{PASIS}|C-1"]


def test_a_bundle_naming_one_appointment_twice_or_mixing_record_data_is_refused(pasis, lindangen):
    one = an_appointment("D-1", unit_hsa=lindangen.hsa_id)
    assert pasis.post("/fhir", a_bundle(one, one)).status_code == 422
    mixed = a_bundle(one)
    mixed["entry"].append({"resource": {"resourceType": "Observation", "status": "final"}})
    assert pasis.post("/fhir", mixed).status_code == 400
    assert not ExternalAppointment.objects.exists()


def test_each_write_is_audited_with_the_source_system_as_the_actor(pasis, lindangen, personas):
    pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id))
    entry = AuditEntry.objects.filter(action="booking.external.import").get()
    assert (entry.actor_kind, entry.patient_id, entry.unit_id) == ("system", str(personas.tolvan.pk), str(lindangen.pk))
    assert "Appointment created: 1" in entry.detail
    pasis.get(f"{APPOINTMENTS}/{ExternalAppointment.objects.get().pk}")
    assert AuditEntry.objects.filter(action="fhir.read", patient_id=str(personas.tolvan.pk)).count() == 1


def test_get_answers_by_business_identifier_in_a_post_search(pasis, lindangen):
    pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id))
    found = pasis.search("Appointment", f"{PASIS}|A-1")
    assert found.status_code == 200
    assert found.json()["total"] == 1
    assert pasis.search("Appointment", f"{PASIS}|nope").json()["total"] == 0


def test_the_unit_participant_may_be_the_unit_extension(pasis, lindangen):
    from tests.fhir.test_import import unit_ext

    sent = an_appointment(unit_hsa=lindangen.hsa_id)
    sent["participant"] = sent["participant"][:2]
    sent["extension"] = unit_ext(lindangen.hsa_id)
    assert pasis.post(APPOINTMENTS, sent).status_code == 201


def test_times_are_kept_as_instants(pasis, lindangen):
    start = dt.datetime(2030, 3, 31, 2, 30, tzinfo=dt.UTC)  # the night clocks go forward in Stockholm
    pasis.post(APPOINTMENTS, an_appointment(unit_hsa=lindangen.hsa_id, start=start))
    row = ExternalAppointment.objects.get()
    assert row.starts_at == start
    assert timezone.localtime(row.starts_at).hour == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case")
def test_the_same_new_appointment_sent_twice_at_once_is_one_appointment(personas, lindangen):
    """Two sends of one new identifier race: one creates it, the other updates it (it waited) or
    is refused as a conflict to send again; never two rows, never a server error."""
    from vardkontakt.booking.external import ExternalRefused, external_appointments_upsert
    from vardkontakt.fhir.appointments.reading import AppointmentReader

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    appointment = an_appointment(unit_hsa=lindangen.hsa_id)

    def send() -> None:
        try:
            reader = AppointmentReader(units=None, source_system="pasis")
            sent = reader.read("Appointment", appointment)
            assert sent is not None, reader.issues
            barrier.wait(timeout=30)
            (done,) = external_appointments_upsert(
                source_system="pasis", source_name="PASiS", sent=[sent], units=None, actor=SOURCE
            )
            outcomes.append("created" if done.created else "updated")
        except ExternalRefused as refused:
            outcomes.append(refused.problems[0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) in (["conflict", "created"], ["created", "updated"])
    assert ExternalAppointment.objects.count() == 1
