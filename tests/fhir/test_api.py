"""The FHIR API over HTTP: client credentials, scopes per resource type, create/update/read/search,
transaction Bundles, refusals as OperationOutcome, and never a 500 whatever is sent."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.observation import Observation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fhir.test_import import LINDANGEN, bundle, everything, note, observation, unit_ext
from vardkontakt.access.models import AuditEntry
from vardkontakt.fhir.auth import all_scopes, client_create
from vardkontakt.fhir.importer import HSA_SYSTEM, PERSONNUMMER_SYSTEM
from vardkontakt.notifications.models import Notification, NotificationKind
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import LabResult, Practitioner, RecordNote, RecordPreferences

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"
EVERYTHING_WRITE = [s for s in all_scopes() if s.endswith(".write")]
EVERYTHING_READ = [s.replace(".write", ".read") for s in EVERYTHING_WRITE]


def get_token(client: Client, client_id: str, secret: str, scope: str = "") -> Any:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    return client.post(reverse("fhir:token"), data, HTTP_AUTHORIZATION=f"Basic {basic}")


class Integration:
    """A source system with a token, speaking FHIR JSON."""

    def __init__(
        self, client_id: str, scopes: list[str], source: str | None = None, units: list[CareUnit] | None = None
    ) -> None:
        self.http = Client()
        _, secret = client_create(
            client_id=client_id,
            name=client_id,
            source_system=source or client_id,
            scopes=scopes,
            units=CareUnit.objects.all() if units is None else units,
        )
        answer = get_token(self.http, client_id, secret)
        assert answer.status_code == 200, answer.content
        self.token = answer.json()["access_token"]

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str) -> Any:
        return self.http.get(path, headers=self._auth())

    def post(self, path: str, body: Any, content_type: str = FHIR) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.http.post(path, data, content_type=content_type, headers=self._auth())

    def search(self, resource_type: str, identifier: str) -> Any:
        """FHIR's POST [type]/_search: the identifier goes in the form body, never in the URL."""
        return self.http.post(
            reverse("fhir:search", args=[resource_type]),
            urlencode({"identifier": identifier}),
            content_type="application/x-www-form-urlencoded",
            headers=self._auth(),
        )

    def put(self, path: str, body: Any) -> Any:
        return self.http.put(path, json.dumps(body), content_type=FHIR, headers=self._auth())


@pytest.fixture
def journal(personas) -> Integration:
    return Integration("pmo", [*EVERYTHING_WRITE, *EVERYTHING_READ])


def issues(response: Any) -> list[str]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return [expression for issue in body["issue"] for expression in issue.get("expression", [])]


# --- tokens ---------------------------------------------------------------------------------


def test_the_token_endpoint_speaks_client_credentials(personas):
    _, secret = client_create(client_id="lab", name="Lab", source_system="lab", scopes=["system/Observation.write"])
    http = Client()
    assert get_token(http, "lab", "wrong").status_code == 401
    assert get_token(http, "lab", "wrong").json()["error"] == "invalid_client"
    assert get_token(http, "nobody", secret).json()["error"] == "invalid_client"
    refused = get_token(http, "lab", secret, scope="system/DocumentReference.write")
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")
    wrong_grant = http.post(
        reverse("fhir:token"), {"grant_type": "password", "client_id": "lab", "client_secret": secret}
    )
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    in_body = http.post(
        reverse("fhir:token"), {"grant_type": "client_credentials", "client_id": "lab", "client_secret": secret}
    )
    granted = in_body.json()
    assert (in_body.status_code, granted["token_type"], granted["scope"]) == (200, "Bearer", "system/Observation.write")
    assert in_body["Cache-Control"].startswith("no-store") or "no-store" in in_body["Cache-Control"]
    assert http.get(reverse("fhir:token")).status_code == 405


def test_without_a_valid_token_nothing_is_read_or_written(journal, personas):
    anonymous = Client()
    response = anonymous.post(reverse("fhir:base"), json.dumps(everything()), content_type=FHIR)
    assert response.status_code == 401 and "invalid_token" in response["WWW-Authenticate"]
    assert response.json()["issue"][0]["code"] == "login"
    forged = anonymous.post(
        reverse("fhir:base"), json.dumps(everything()), content_type=FHIR, HTTP_AUTHORIZATION="Bearer forged"
    )
    assert forged.status_code == 401
    assert RecordNote.objects.count() == 0


def test_a_token_expires_after_an_hour(journal, personas):
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)):
        assert journal.post(reverse("fhir:base"), everything()).status_code == 401


def test_a_deactivated_client_loses_its_tokens(journal, personas):
    from django.core.management import call_command

    call_command("integration_client", "pmo", "--deactivate")
    assert journal.post(reverse("fhir:base"), everything()).status_code == 401


def test_a_client_without_the_scope_is_refused_and_nothing_is_stored(personas):
    lab = Integration("lab", ["system/Observation.write"])
    refused = lab.post(reverse("fhir:base"), everything())
    assert refused.status_code == 403
    assert "insufficient_scope" in refused["WWW-Authenticate"]
    assert "DocumentReference" in refused.json()["issue"][0]["diagnostics"]
    assert LabResult.objects.count() == RecordNote.objects.count() == 0
    assert lab.post(reverse("fhir:base"), bundle(observation())).status_code == 200
    assert lab.get(reverse("fhir:instance", args=["Observation", LabResult.objects.get().pk])).status_code == 403


# --- writing --------------------------------------------------------------------------------


def test_a_transaction_bundle_answers_entry_by_entry_and_a_repeat_changes_nothing(journal, personas):
    first = journal.post(reverse("fhir:base"), everything())
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created"] * 5
    again = journal.post(reverse("fhir:base"), everything()).json()
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK"] * 5
    assert RecordNote.objects.count() == LabResult.objects.count() == 1
    read = journal.get(body["entry"][0]["response"]["location"])
    assert read.status_code == 200 and read.json()["resourceType"] == "DocumentReference"
    entry = AuditEntry.objects.filter(action="fhir.import").first()
    assert entry is not None and entry.actor_id == "pmo"


def test_a_bad_bundle_is_refused_with_an_operation_outcome_and_nothing_stored(journal, personas):
    bad = bundle(note("good"), observation(status="nonsense"))
    refused = journal.post(reverse("fhir:base"), bad)
    assert refused.status_code == 422
    assert issues(refused) == ["Bundle.entry[1].resource.status"]
    assert RecordNote.objects.count() == 0
    structural = journal.post(reverse("fhir:base"), bundle(observation(valueQuantity={"value": "many"})))
    assert structural.status_code == 400
    assert journal.post(reverse("fhir:base"), "{not json").status_code == 400
    assert journal.post(reverse("fhir:base"), everything(), content_type="text/plain").status_code == 415
    assert journal.post(reverse("fhir:base"), [1, 2]).status_code == 400


def test_the_same_resource_twice_in_one_bundle_is_refused(journal, personas):
    refused = journal.post(reverse("fhir:base"), bundle(observation("o1"), observation("o1")))
    assert refused.status_code == 422 and refused.json()["issue"][0]["code"] == "duplicate"


def test_create_then_read_then_conditional_update(journal, personas):
    created = journal.post(reverse("fhir:type", args=["Observation"]), observation("o7"))
    assert created.status_code == 201, created.content
    location = created["Location"]
    read = journal.get(location).json()
    Observation.model_validate(read)  # what we hand back is valid FHIR
    assert read["valueQuantity"]["value"] == 7.2 and read["subject"]["identifier"]["value"] == "191212121212"
    assert journal.post(reverse("fhir:type", args=["Observation"]), observation("o7")).status_code == 200
    url = reverse("fhir:type", args=["Observation"]) + "?identifier=urn:flexlab|o7"
    updated = journal.put(url, observation("o7", valueQuantity={"value": 5.1, "unit": "mmol/L"}))
    assert updated.status_code == 200 and updated.json()["valueQuantity"]["value"] == 5.1
    assert LabResult.objects.count() == 1
    mismatch = journal.put(url, observation("o8"))
    assert mismatch.status_code == 422 and LabResult.objects.count() == 1
    assert journal.put(reverse("fhir:type", args=["Observation"]), observation("o9")).status_code == 400
    found = journal.search("Observation", "urn:flexlab|o7").json()
    assert (found["type"], found["total"]) == ("searchset", 1)


def test_a_source_reads_only_what_it_sent(journal, personas):
    created = journal.post(reverse("fhir:type", args=["Observation"]), observation("o1"))
    other_lab = Integration("other-lab", EVERYTHING_READ)
    assert other_lab.get(created["Location"]).status_code == 404
    search = other_lab.search("Observation", "urn:flexlab|o1").json()
    assert search["total"] == 0
    assert other_lab.get(reverse("fhir:instance", args=["Observation", "not-a-uuid"])).status_code == 404
    assert other_lab.get(reverse("fhir:instance", args=["Basic", "x"])).status_code == 404


def test_entered_in_error_takes_the_row_back_out(journal, personas):
    journal.post(reverse("fhir:type", args=["Observation"]), observation("o1"))
    url = reverse("fhir:type", args=["Observation"]) + "?identifier=urn:flexlab|o1"
    assert journal.put(url, observation("o1", status="entered-in-error")).status_code == 204
    assert LabResult.objects.count() == 0


def test_patients_practitioners_and_organizations(journal, personas):
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": PERSONNUMMER_SYSTEM, "value": "19121212-1212"}],
        "name": [{"family": personas.tolvan.family_name, "given": [personas.tolvan.given_name]}],
    }
    answer = journal.post(reverse("fhir:type", args=["Patient"]), resource)
    assert answer.status_code == 200 and answer.json()["name"][0]["family"] == personas.tolvan.family_name
    protected = journal.get(reverse("fhir:instance", args=["Patient", personas.protected_child.pk])).json()
    assert "name" not in protected and protected["meta"]["security"][0]["code"] == "R"

    doctor = {
        "resourceType": "Practitioner",
        "identifier": [{"system": HSA_SYSTEM, "value": "SE2321000255-P0001"}],
        "name": [{"given": ["Astrid"], "family": "Läkarsson"}],
        "qualification": [{"code": {"text": "doctor"}}],
    }
    authored = note("n-auth", author=[{"reference": "urn:uuid:doc"}], context={})
    data = bundle(doctor, authored)
    data["entry"][0]["fullUrl"] = "urn:uuid:doc"
    assert journal.post(reverse("fhir:base"), data).status_code == 200
    stored = RecordNote.objects.get(source_id="urn:pmo:note|n-auth")
    assert (stored.author_name, stored.author_profession) == ("Astrid Läkarsson", "doctor")
    assert Practitioner.objects.filter(hsa_id="SE2321000255-P0001").exists()
    by_identifier = note("n-2", author=[{"identifier": {"system": HSA_SYSTEM, "value": "SE2321000255-P0001"}}])
    assert journal.post(reverse("fhir:base"), bundle(by_identifier)).status_code == 200
    unknown = note("n-3", author=[{"identifier": {"system": HSA_SYSTEM, "value": "SE2321000255-P9999"}}])
    assert issues(journal.post(reverse("fhir:base"), bundle(unknown))) == [
        "Bundle.entry[0].resource.author[0].identifier"
    ]

    known = {"resourceType": "Organization", "identifier": [{"system": HSA_SYSTEM, "value": LINDANGEN}], "name": "x"}
    assert journal.post(reverse("fhir:type", args=["Organization"]), known).json()["name"] == "Vårdcentralen Lindängen"
    unknown_unit = {**known, "identifier": [{"system": HSA_SYSTEM, "value": "SE2321000255-NOPE"}]}
    assert journal.post(reverse("fhir:type", args=["Organization"]), unknown_unit).status_code == 422
    assert CareUnit.objects.filter(hsa_id="SE2321000255-NOPE").count() == 0


def test_references_to_bundle_entries_and_to_stored_resources(journal, personas):
    person = {"resourceType": "Patient", "identifier": [{"system": PERSONNUMMER_SYSTEM, "value": "191212121212"}]}
    data = bundle(person, observation("o1", subject={"reference": "urn:uuid:p1"}))
    data["entry"][0]["fullUrl"] = "urn:uuid:p1"
    assert journal.post(reverse("fhir:base"), data).status_code == 200
    stored = observation("o2", subject={"reference": f"Patient/{personas.tolvan.pk}"})
    assert journal.post(reverse("fhir:base"), bundle(stored)).status_code == 200
    assert LabResult.objects.filter(patient=personas.tolvan).count() == 2
    wrong_kind = bundle(note("n1"), observation("o3", subject={"reference": "urn:uuid:n"}))
    wrong_kind["entry"][0]["fullUrl"] = "urn:uuid:n"
    assert journal.post(reverse("fhir:base"), wrong_kind).status_code == 422


def test_the_read_of_a_note_is_valid_fhir_and_carries_the_text(journal, personas):
    location = journal.post(reverse("fhir:type", args=["DocumentReference"]), note("n1"))["Location"]
    read = journal.get(location).json()
    DocumentReference.model_validate(read)
    assert base64.b64decode(read["content"][0]["attachment"]["data"]).decode() == "Mår bra."
    assert AuditEntry.objects.filter(action="fhir.read", patient_id=str(personas.tolvan.pk)).exists()


# --- metadata -------------------------------------------------------------------------------


def test_metadata_is_public_and_a_valid_capability_statement(client):
    response = client.get(reverse("fhir:metadata"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.rest and statement.rest[0].resource
    types = {r.type for r in statement.rest[0].resource}
    assert {"Patient", "Practitioner", "Organization", "Observation", "DocumentReference"} <= types
    assert "fhir/auth/token" in json.dumps(response.json())


# --- the new-result notice ------------------------------------------------------------------


def test_a_new_result_notifies_a_patient_who_asked_and_only_then(journal, personas):
    tolvan = personas.tolvan
    journal.post(reverse("fhir:base"), bundle(observation("o1")))
    assert not Notification.objects.filter(kind=NotificationKind.NEW_RESULT).exists()
    RecordPreferences.objects.update_or_create(patient=tolvan, defaults={"notify_new_results": True})
    journal.post(reverse("fhir:base"), bundle(observation("o2"), observation("o3")))
    assert Notification.objects.filter(recipient=tolvan, kind=NotificationKind.NEW_RESULT).count() == 1
    journal.post(reverse("fhir:base"), bundle(observation("o2")))  # an update is not news
    assert Notification.objects.filter(recipient=tolvan, kind=NotificationKind.NEW_RESULT).count() == 1


def test_no_notice_for_a_result_the_patient_cannot_see(journal, personas):
    RecordPreferences.objects.create(patient=personas.tolvan, notify_new_results=True)
    CareUnit.objects.filter(hsa_id=LINDANGEN).update(kind="child_psychiatry")
    journal.post(reverse("fhir:base"), bundle(observation("o1")))
    assert not Notification.objects.filter(kind=NotificationKind.NEW_RESULT).exists()


# --- never a 500 ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
TEMPLATES = {"Observation": observation("fz"), "DocumentReference": note("fz")}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    kind=st.sampled_from(["Observation", "DocumentReference"]),
    how=st.sampled_from(["bundle", "create", "update"]),
    path=st.lists(
        st.sampled_from(
            [
                "status",
                "subject",
                "identifier",
                "extension",
                "code",
                "content",
                "date",
                "effectiveDateTime",
                "valueQuantity",
                "author",
                "referenceRange",
            ]
        ),
        min_size=1,
        max_size=2,
    ),
    value=json_values,
)
def test_fuzzing_the_endpoints_never_gives_a_server_error(journal, kind, how, path, value):
    resource = copy.deepcopy(TEMPLATES[kind])
    for key in path:
        resource[key] = value
    if how == "bundle":
        response = journal.post(reverse("fhir:base"), bundle(resource))
    elif how == "create":
        response = journal.post(reverse("fhir:type", args=[kind]), resource)
    else:
        response = journal.put(reverse("fhir:type", args=[kind]) + "?identifier=urn:x|fz", resource)
    assert response.status_code in (200, 201, 204, 400, 422), response.content
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=json_values, kind=st.sampled_from(["", "Observation", "Patient", "Organization", "Nonsense"]))
def test_arbitrary_json_anywhere_is_refused_cleanly(journal, body, kind):
    path = reverse("fhir:base") if not kind else reverse("fhir:type", args=[kind])
    response = journal.post(path, json.dumps(body).encode())
    assert response.status_code in (400, 404, 422), response.content
    assert response.json()["resourceType"] == "OperationOutcome"


def test_an_imaging_report_arrives_as_a_diagnostic_report(journal, personas):
    report = {
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": "urn:ris", "value": "x1"}],
        "status": "final",
        "code": {"text": "Lungröntgen"},
        "subject": {"identifier": {"system": PERSONNUMMER_SYSTEM, "value": "191212121212"}},
        "effectiveDateTime": "2026-10-03T09:00:00+02:00",
        "extension": unit_ext(),
        "presentedForm": [
            {
                "contentType": "text/plain",
                "data": base64.b64encode("Inga tecken på lunginflammation.".encode()).decode(),
            }
        ],
    }
    created = journal.post(reverse("fhir:type", args=["DiagnosticReport"]), report)
    assert created.status_code == 201, created.content
    read = journal.get(created["Location"]).json()
    DiagnosticReport.model_validate(read)
    assert read["conclusion"] == "Inga tecken på lunginflammation."
    ident = created["Location"].rsplit("/", 1)[1]
    assert journal.get(reverse("fhir:instance", args=["Observation", ident])).status_code == 404
    stored = LabResult.objects.get(source_id="urn:ris|x1")
    assert stored.report and stored.value is None
    no_text = {**report, "presentedForm": None, "identifier": [{"system": "urn:ris", "value": "x2"}]}
    assert issues(journal.post(reverse("fhir:type", args=["DiagnosticReport"]), no_text)) == [
        "DiagnosticReport.conclusion"
    ]
    bad_status = {**report, "status": "done"}
    assert journal.post(reverse("fhir:type", args=["DiagnosticReport"]), bad_status).status_code == 422


# --- hostile input (issue 14 item 8) ------------------------------------------------------------


@pytest.mark.parametrize("depth", [200, 5_000, 200_000])
def test_deeply_nested_json_is_refused_before_parsing(journal, depth):
    body = '{"resourceType": "Bundle", "type": "transaction", "entry": ' + "[" * depth + "]" * depth + "}"
    response = journal.post(reverse("fhir:base"), body)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "nests deeper" in outcome["issue"][0]["diagnostics"]
    assert RecordNote.objects.count() == 0


def test_nesting_inside_strings_does_not_count(journal):
    text = "[" * 500 + '\\"{' * 100
    body = json.dumps(note("n-brackets", description=text))
    assert journal.post(reverse("fhir:type", kwargs={"resource_type": "DocumentReference"}), body).status_code == 201


def test_a_body_over_the_limit_is_refused_with_413(journal, settings):
    settings.FHIR_MAX_REQUEST_BYTES = 2048
    body = json.dumps(everything())
    assert len(body) > 2048
    response = journal.post(reverse("fhir:base"), body)
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def test_wrong_secrets_lock_the_client_out_even_for_the_right_one(personas):
    _, secret = client_create(client_id="lab", name="Lab", source_system="lab", scopes=["system/Observation.write"])
    http = Client(REMOTE_ADDR="203.0.113.7")
    start = dt.datetime.now(tz=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        answers = [get_token(http, "lab", f"guess-{n}").status_code for n in range(30)]
        assert answers[:4] == [401] * 4 and set(answers[4:]) == {429}
        locked = get_token(http, "lab", secret)
        assert locked.status_code == 429 and locked.json()["error"] == "invalid_client"
        assert int(locked["Retry-After"]) > 0
        traveller.shift(dt.timedelta(hours=1, seconds=1))
        assert get_token(http, "lab", secret).status_code == 200  # the lockout is over; the secret works
        # Another client from the same address is still served.
        _, other = client_create(
            client_id="pacs", name="PACS", source_system="pacs", scopes=["system/Observation.write"]
        )
        assert get_token(http, "pacs", other).status_code == 200


def test_guessing_from_one_address_locks_the_address_out(personas):
    _, secret = client_create(client_id="lab", name="Lab", source_system="lab", scopes=["system/Observation.write"])
    http = Client(REMOTE_ADDR="203.0.113.9")
    answers = [get_token(http, f"client-{n}", "guess").status_code for n in range(20)]
    assert answers[-1] == 429 and answers[:19] == [401] * 19
    assert get_token(http, "lab", secret).status_code == 429
    assert get_token(Client(REMOTE_ADDR="203.0.113.10"), "lab", secret).status_code == 200
