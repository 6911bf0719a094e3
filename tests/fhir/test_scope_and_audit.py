"""What a source system may write and what its imports leave in the audit log (issue 14, §3 and §8):
one entry per patient touched with the source system as actor, tombstones for entries taken out,
clients tied to their care units, names only from the population register, searches by POST."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from tests.fhir.test_api import EVERYTHING_READ, EVERYTHING_WRITE, Integration
from tests.fhir.test_import import LINDANGEN, bundle, note, observation, subject, unit_ext
from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.demo import demo_data
from vardkontakt.fhir.importer import PERSONNUMMER_SYSTEM
from vardkontakt.fhir.models import IntegrationClient
from vardkontakt.identity.models import Patient, User
from vardkontakt.identity.services import patient_get_or_register
from vardkontakt.organisation.models import CareUnit, Listing
from vardkontakt.records.models import LabResult, RecordNote, RemovedEntry

pytestmark = pytest.mark.django_db
OTHER_UNIT = demo_data.unit_hsa_id("E1002")
NEWCOMER = "199001012393"  # a valid personnummer (Luhn) the demo does not hold


@pytest.fixture
def lindangen_lab(personas) -> Integration:
    """A lab system registered for Lindängen only."""
    lindangen = CareUnit.objects.get(hsa_id=LINDANGEN)
    return Integration("flexlab", [*EVERYTHING_WRITE, *EVERYTHING_READ], units=[lindangen])


def imports() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action__in=["fhir.import", "fhir.remove"]).order_by("sequence"))


def patient_resource(number: str, family: str = "Bytt", given: str = "Namn") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": PERSONNUMMER_SYSTEM, "value": number}],
        "name": [{"family": family, "given": [given]}],
    }


# --- §3: the audit log of an import ---------------------------------------------------------


def test_an_import_leaves_one_entry_per_patient_with_the_source_system_as_actor(lindangen_lab, personas):
    other = personas.other_patient
    sent = bundle(
        observation("o1"), note("n1"), observation("o2", subject=subject(other.personnummer.replace("-", "")))
    )
    assert lindangen_lab.post(reverse("fhir:base"), sent).status_code == 200
    entries = imports()
    assert {e.patient_id for e in entries} == {str(personas.tolvan.pk), str(other.pk)}
    assert len(entries) == 2  # per patient, not per Bundle and not per resource
    assert {(e.actor_kind, e.actor_id, e.outcome) for e in entries} == {("system", "flexlab", "allowed")}
    assert all("flexlab" in e.actor_label for e in entries)
    tolvans = next(e for e in entries if e.patient_id == str(personas.tolvan.pk))
    assert "Observation created: 1" in tolvans.detail and "DocumentReference created: 1" in tolvans.detail
    assert tolvans.unit_id == str(CareUnit.objects.get(hsa_id=LINDANGEN).pk)
    others = next(e for e in entries if e.patient_id == str(other.pk))
    # One row written for that patient: the entry names it.
    assert (others.object_type, others.object_id) == ("LabResult", str(LabResult.objects.get(patient=other).pk))


def test_a_resent_bundle_is_logged_again_as_updates(lindangen_lab, personas):
    lindangen_lab.post(reverse("fhir:base"), bundle(observation("o1")))
    lindangen_lab.post(reverse("fhir:base"), bundle(observation("o1")))
    assert [e.detail for e in imports()] == ["Observation created: 1", "Observation updated: 1"]


def test_the_command_line_import_names_the_source_system(personas, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(observation("o1"))), encoding="utf-8")
    call_command("import_fhir_bundle", str(path), "--source", "pmo")
    (entry,) = imports()
    assert (entry.actor_id, entry.patient_id) == ("pmo", str(personas.tolvan.pk))


def test_entered_in_error_leaves_a_tombstone_and_an_entry_and_the_record_no_longer_shows_it(lindangen_lab, personas):
    lindangen_lab.post(reverse("fhir:base"), bundle(note("n1")))
    written = RecordNote.objects.get()
    page = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    assert "Mår bra." in page.get("/record/notes/").text

    removal = lindangen_lab.post(reverse("fhir:base"), bundle(note("n1", status="entered-in-error")))
    assert removal.json()["entry"][0]["response"]["status"] == "204 No Content"
    assert not RecordNote.objects.exists()
    tombstone = RemovedEntry.objects.get()
    assert (tombstone.patient, tombstone.kind, tombstone.entry_id) == (personas.tolvan, "RecordNote", written.pk)
    assert (tombstone.source_system, tombstone.source_id, tombstone.reason) == (
        "flexlab",
        "urn:pmo:note|n1",
        "entered-in-error",
    )
    assert "flexlab" in tombstone.removed_by
    # The tombstone keeps that the entry existed, not what it said.
    assert "Mår bra." not in str([getattr(tombstone, f.attname) for f in RemovedEntry._meta.concrete_fields])
    (entry,) = AuditEntry.objects.filter(action="fhir.remove")
    assert (entry.patient_id, entry.object_type, entry.object_id) == (
        str(personas.tolvan.pk),
        "RemovedEntry",
        str(tombstone.pk),
    )
    assert entry.actor_id == "flexlab" and "entered-in-error" in entry.detail
    assert "Mår bra." not in page.get("/record/notes/").text


def test_taking_out_an_entry_never_held_leaves_no_tombstone(lindangen_lab, personas):
    url = reverse("fhir:type", args=["Observation"]) + "?identifier=urn:flexlab|never"
    assert lindangen_lab.put(url, observation("never", status="entered-in-error")).status_code == 204
    assert not RemovedEntry.objects.exists()
    (entry,) = imports()
    assert entry.patient_id == str(personas.tolvan.pk) and "not held" in entry.detail


# --- §8: clients tied to their units ----------------------------------------------------------


def test_a_client_writes_only_for_its_own_units(lindangen_lab, personas):
    mixed = bundle(observation("o1"), observation("o2", extension=unit_ext(OTHER_UNIT)))
    refused = lindangen_lab.post(reverse("fhir:base"), mixed)
    assert refused.status_code == 403
    body = refused.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "forbidden"
    assert OTHER_UNIT in body["issue"][0]["diagnostics"]
    assert not LabResult.objects.exists() and not imports()  # nothing of the Bundle is written
    single = lindangen_lab.post(
        reverse("fhir:type", args=["Observation"]), observation("o3", extension=unit_ext(OTHER_UNIT))
    )
    assert single.status_code == 403 and not LabResult.objects.exists()
    organization = {
        "resourceType": "Organization",
        "identifier": [{"system": "urn:oid:1.2.752.29.4.19", "value": OTHER_UNIT}],
    }
    assert lindangen_lab.post(reverse("fhir:base"), bundle(organization)).status_code == 403
    assert lindangen_lab.post(reverse("fhir:base"), bundle(observation("o1"))).status_code == 200


def test_a_client_registered_for_no_unit_writes_no_record_data(personas):
    bare = Integration("bare", EVERYTHING_WRITE, units=[])
    assert bare.post(reverse("fhir:base"), bundle(observation("o1"))).status_code == 403
    assert not LabResult.objects.exists()


def test_a_client_never_renames_a_resident(lindangen_lab, personas):
    tolvan = personas.tolvan
    names = (tolvan.given_name, tolvan.family_name)
    number = tolvan.personnummer.replace("-", "")
    answer = lindangen_lab.post(reverse("fhir:type", args=["Patient"]), patient_resource(number))
    assert answer.status_code == 200
    assert answer.json()["name"][0]["family"] == tolvan.family_name
    assert (
        lindangen_lab.post(reverse("fhir:base"), bundle(patient_resource(number), observation("o1"))).status_code == 200
    )
    tolvan.refresh_from_db()
    assert (tolvan.given_name, tolvan.family_name) == names


def test_a_new_resident_is_registered_with_data_of_the_clients_own_units_only(lindangen_lab, personas):
    elsewhere = bundle(observation("o1", subject=subject(NEWCOMER), extension=unit_ext(OTHER_UNIT)))
    assert lindangen_lab.post(reverse("fhir:base"), elsewhere).status_code == 403
    alone = lindangen_lab.post(reverse("fhir:type", args=["Patient"]), patient_resource(NEWCOMER))
    assert alone.status_code == 422 and alone.json()["issue"][0]["code"] == "business-rule"
    in_bundle_alone = lindangen_lab.post(reverse("fhir:base"), bundle(patient_resource(NEWCOMER)))
    assert in_bundle_alone.status_code == 422
    retraction_only = bundle(observation("o1", subject=subject(NEWCOMER), status="entered-in-error"))
    assert lindangen_lab.post(reverse("fhir:base"), retraction_only).status_code == 422
    assert not Patient.objects.filter(personnummer=NEWCOMER).exists()

    own = bundle(patient_resource(NEWCOMER), observation("o1", subject=subject(NEWCOMER)))
    assert lindangen_lab.post(reverse("fhir:base"), own).status_code == 200
    newcomer = Patient.objects.get(personnummer=NEWCOMER)
    assert (newcomer.given_name, newcomer.family_name) == ("", "")  # the name comes with their e-ID
    (entry,) = imports()
    assert entry.patient_id == str(newcomer.pk) and "registered" in entry.detail


def test_a_client_cannot_look_up_residents_its_units_have_nothing_to_do_with(lindangen_lab, personas):
    """Neither whether another unit's resident exists nor their name: by id, by search or by sending
    a Patient alone, they look the same as someone the platform does not hold."""
    elsewhere_only, _ = patient_get_or_register(
        personnummer="199602182389", given_name="Elsa", family_name="Annanstans"
    )
    Listing.objects.create(patient=elsewhere_only, unit=CareUnit.objects.get(hsa_id=OTHER_UNIT), since=date(2020, 1, 1))
    number = f"{PERSONNUMMER_SYSTEM}|199602182389"
    assert lindangen_lab.search("Patient", number).json()["total"] == 0
    assert lindangen_lab.get(reverse("fhir:instance", args=["Patient", elsewhere_only.pk])).status_code == 404
    alone = lindangen_lab.post(reverse("fhir:type", args=["Patient"]), patient_resource("199602182389"))
    stranger = lindangen_lab.post(reverse("fhir:type", args=["Patient"]), patient_resource(NEWCOMER))
    assert alone.status_code == stranger.status_code == 422
    assert alone.json()["issue"][0]["diagnostics"] == stranger.json()["issue"][0]["diagnostics"]
    assert "Annanstans" not in alone.content.decode()
    assert not AuditEntry.objects.filter(action="fhir.read", patient_id=str(elsewhere_only.pk)).exists()

    other_units_system = Integration("other-pmo", EVERYTHING_READ, units=[CareUnit.objects.get(hsa_id=OTHER_UNIT)])
    assert other_units_system.search("Patient", number).json()["total"] == 1  # listed there

    # Once Lindängen sends data for them, its system has to do with them.
    sent = bundle(patient_resource("199602182389"), observation("o1", subject=subject("199602182389")))
    assert lindangen_lab.post(reverse("fhir:base"), sent).status_code == 200
    found = lindangen_lab.search("Patient", number).json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["name"][0]["family"] == "Annanstans"
    assert lindangen_lab.get(reverse("fhir:instance", args=["Patient", elsewhere_only.pk])).status_code == 200


def test_the_integration_client_command_registers_units(personas, capsys):
    call_command(
        "integration_client",
        "lab2",
        "--name",
        "Lab",
        "--source",
        "lab2",
        "--scope",
        "system/Observation.write",
        "--unit",
        LINDANGEN.lower(),
    )
    assert [u.hsa_id for u in IntegrationClient.objects.get(client_id="lab2").units.all()] == [LINDANGEN]
    with pytest.raises(CommandError, match="No care unit"):
        call_command(
            "integration_client",
            "lab3",
            "--name",
            "Lab",
            "--source",
            "lab3",
            "--scope",
            "system/Observation.write",
            "--unit",
            "SE000-NOPE",
        )


# --- §8: personnummer never in URLs -----------------------------------------------------------


def test_searches_go_by_post_and_never_carry_a_personnummer_in_the_url(lindangen_lab, personas):
    number = personas.tolvan.personnummer.replace("-", "")
    url = reverse("fhir:type", args=["Patient"]) + f"?identifier={PERSONNUMMER_SYSTEM}|{number}"
    refused = lindangen_lab.get(url)
    assert refused.status_code == 405 and refused.json()["resourceType"] == "OperationOutcome"
    assert "_search" in refused.json()["issue"][0]["diagnostics"]
    assert lindangen_lab.put(url, patient_resource(number)).status_code == 400
    found = lindangen_lab.search("Patient", f"{PERSONNUMMER_SYSTEM}|{number}").json()
    assert (found["type"], found["total"]) == ("searchset", 1)
    assert found["entry"][0]["resource"]["id"] == str(personas.tolvan.pk)
    in_url = lindangen_lab.http.post(
        reverse("fhir:search", args=["Patient"]) + f"?identifier={PERSONNUMMER_SYSTEM}|{number}",
        "",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {lindangen_lab.token}"},
    )
    assert in_url.status_code == 400
    json_body = lindangen_lab.post(reverse("fhir:search", args=["Patient"]), {"identifier": "x|y"})
    assert json_body.status_code == 415
    assert lindangen_lab.get(reverse("fhir:search", args=["Patient"])).status_code == 405
    assert AuditEntry.objects.filter(action="fhir.read", patient_id=str(personas.tolvan.pk)).count() == 1


def test_search_needs_the_read_scope(personas):
    writer = Integration("writer", EVERYTHING_WRITE)
    assert writer.search("Observation", "urn:flexlab|o1").status_code == 403


def test_the_capability_statement_says_how_to_search_and_what_each_scope_allows(personas):
    statement = Client().get(reverse("fhir:metadata")).json()
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert "_search" in by_type["Patient"]["searchParam"][0]["documentation"]
    assert by_type["Patient"]["conditionalUpdate"] is False
    assert "never changes a name" in by_type["Patient"]["documentation"]
    assert "registered for" in by_type["Observation"]["documentation"]
