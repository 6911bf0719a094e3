"""Issue 16 §1: "Kontakta mig" — the resident says yes to a call and which number; the unit sees it.

The number is filled in from the person's settings and may be changed; the staff's case page shows
the number kept with the case (a read of contact details, logged), and whom it reaches.
"""

from __future__ import annotations

import importlib
import re
import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.cases.defaults import DEFAULT_QUESTIONS, ServiceKind
from vardkontakt.cases.models import Case, Service
from vardkontakt.cases.questions import validate_questions
from vardkontakt.cases.services import case_create, service_activate
from vardkontakt.identity.models import Patient, Staff, User

pytestmark = pytest.mark.django_db

TOLVANS_MOBILE = "+46701234567"
WHAT = "Jag vill prata med en sjuksköterska om mina blodtrycksvärden."


@pytest.fixture
def contact_me(unit_x, personas) -> Service:
    return service_activate(unit=unit_x, kind=ServiceKind.CONTACT_ME, by=personas.unit_admin)


def client_of(person: Patient | Staff) -> Client:
    if isinstance(person, Patient):
        return login_as(Client(), User.objects.get_or_create_for_patient(person))
    return login_as(Client(), User.objects.get_or_create_for_staff(person))


def write_url(service: Service) -> str:
    return f"/cases/new/{service.unit_id}/{service.id}/"


def send(client: Client, service: Service, **answers: str):
    """Fill in, review and send, as the pages do; the last response."""
    data = {"what": WHAT, "idempotency_key": uuid.uuid4().hex, **answers}
    review = client.post(write_url(service), {**data, "step": "review"})
    if "Kontrollera ditt ärende" not in review.text:
        return review
    return client.post(write_url(service), {**data, "step": "send"})


def call_back_row(page: str) -> str:
    found = re.search(r"Ring upp på</dt><dd[^>]*>(.*?)</dd>", page, re.S)
    return found.group(1) if found else ""


def test_the_form_offers_the_saved_mobile_and_the_unit_sees_the_number_kept(contact_me, personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile=TOLVANS_MOBILE)
    tolvan = client_of(personas.tolvan)
    form = tolvan.get(write_url(contact_me)).text
    assert "Går det bra att vi ringer dig?" in form
    assert 'type="tel" value="070-123 45 67"' in form
    review = tolvan.post(
        write_url(contact_me),
        {
            "what": WHAT,
            "phone_ok": "yes",
            "phone_ok_number": "070-123 45 67",
            "idempotency_key": "k1",
            "step": "review",
        },
    )
    assert "Ja, på 070-123 45 67" in review.text
    sent = tolvan.post(
        write_url(contact_me),
        {"what": WHAT, "phone_ok": "yes", "phone_ok_number": "070-123 45 67", "idempotency_key": "k1", "step": "send"},
    )
    assert sent.status_code == 302
    case = Case.objects.get()
    answer = next(a for a in case.answers if a["key"] == "phone_ok")
    assert answer["value"] == {"answer": "yes", "number": TOLVANS_MOBILE, "shown_as": "070-123 45 67"}

    page = client_of(personas.staff_x).get(f"/staff/cases/{case.id}/").text
    assert '<a href="tel:+46701234567">070-123 45 67</a>' in call_back_row(page)
    read = AuditEntry.objects.get(action="case.call_number.read")
    assert (read.actor_id, read.patient_id, read.object_id) == (
        str(personas.staff_x.pk),
        str(personas.tolvan.pk),
        str(case.pk),
    )
    assert read.detail == "given with the case"
    # It is in the resident's own list of who has read what.
    assert "Såg telefonnumret att ringa i ett ärende" in tolvan.get("/record/access-log/").text


def test_a_number_typed_instead_is_the_one_the_unit_calls(contact_me, personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile=TOLVANS_MOBILE)
    assert (
        send(client_of(personas.tolvan), contact_me, phone_ok="yes", phone_ok_number="040-623 10 00").status_code == 302
    )
    case = Case.objects.get()
    row = call_back_row(client_of(personas.staff_x).get(f"/staff/cases/{case.id}/").text)
    assert '<a href="tel:+46406231000">040-623 10 00</a>' in row
    assert "070-123 45 67" not in row


def test_a_yes_without_a_number_is_explained_and_nothing_is_sent(contact_me, personas):
    response = send(client_of(personas.tolvan), contact_me, phone_ok="yes", phone_ok_number="")
    assert response.status_code == 200
    assert "Skriv numret som vi ska ringa." in response.text
    assert "nhsuk-error-summary" in response.text
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("typed", "error"),
    [("12", "Det här telefonnumret finns inte."), ("ring mig", "Skriv ett telefonnummer, till exempel 070-123 45 67.")],
)
def test_a_number_that_cannot_be_called_is_refused(contact_me, personas, typed, error):
    response = send(client_of(personas.tolvan), contact_me, phone_ok="yes", phone_ok_number=typed)
    assert response.status_code == 200
    assert error in response.text
    assert not Case.objects.exists()


def test_no_to_a_call_keeps_no_number_and_shows_none(contact_me, personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile=TOLVANS_MOBILE)
    # The saved number was filled in; a half-typed one is not judged when no call is wanted.
    assert send(client_of(personas.tolvan), contact_me, phone_ok="no", phone_ok_number="07").status_code == 302
    case = Case.objects.get()
    assert next(a for a in case.answers if a["key"] == "phone_ok")["value"] == {
        "answer": "no",
        "number": "",
        "shown_as": "",
    }
    page = client_of(personas.staff_x).get(f"/staff/cases/{case.id}/").text
    assert call_back_row(page) == ""
    assert "070-123 45 67" not in page
    assert not AuditEntry.objects.filter(action="case.call_number.read").exists()


def test_a_guardian_writing_for_a_child_is_the_one_called(contact_me, personas):
    Patient.objects.filter(pk=personas.guardian.pk).update(mobile="+46709876543")
    guardian = client_of(personas.guardian)
    guardian.post("/acting-for/", {"subject": str(personas.child_9.pk)})
    assert 'value="070-987 65 43"' in guardian.get(write_url(contact_me)).text
    assert send(guardian, contact_me, phone_ok="yes", phone_ok_number="070-987 65 43").status_code == 302
    case = Case.objects.get()
    assert (case.patient, case.created_by) == (personas.child_9, personas.guardian)
    row = call_back_row(client_of(personas.staff_x).get(f"/staff/cases/{case.id}/").text)
    assert "070-987 65 43" in row
    assert f"{personas.guardian.full_name}, som skickade ärendet" in row


def test_a_yes_given_before_the_form_asked_for_a_number_shows_the_senders_saved_mobile(contact_me, personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile=TOLVANS_MOBILE)
    answers = [
        {"key": "what", "label": "Beskriv ditt ärende", "kind": "long_text", "value": WHAT},
        {"key": "phone_ok", "label": "Går det bra att vi ringer dig?", "kind": "yes_no", "value": "yes"},
    ]
    case = case_create(
        actor=personas.tolvan, subject=personas.tolvan, service=contact_me, answers=answers, idempotency_key="old"
    )
    row = call_back_row(client_of(personas.staff_x).get(f"/staff/cases/{case.id}/").text)
    assert '<a href="tel:+46701234567">070-123 45 67</a>' in row
    assert "Mobilnumret i avsändarens inställningar" in row
    assert AuditEntry.objects.get(action="case.call_number.read").detail == "the sender's saved mobile"


def test_a_yes_with_no_number_known_asks_staff_to_ask_for_one(contact_me, personas):
    answers = [{"key": "phone_ok", "label": "Går det bra att vi ringer dig?", "kind": "yes_no", "value": "yes"}]
    case = case_create(
        actor=personas.tolvan, subject=personas.tolvan, service=contact_me, answers=answers, idempotency_key="old"
    )
    row = call_back_row(client_of(personas.staff_x).get(f"/staff/cases/{case.id}/").text)
    assert "Patienten vill bli uppringd men har inte angett något nummer." in row
    assert not AuditEntry.objects.filter(action="case.call_number.read").exists()


def test_the_seed_form_asks_with_the_call_back_kind_and_no_key_may_shadow_the_number():
    question = DEFAULT_QUESTIONS[ServiceKind.CONTACT_ME][1]
    assert (question["key"], question["kind"], question["required"]) == ("phone_ok", "call_back", True)
    validate_questions(DEFAULT_QUESTIONS[ServiceKind.CONTACT_ME])
    with pytest.raises(ValidationError):
        validate_questions([question, {"key": "phone_ok_number", "kind": "short_text", "label": "Nummer"}])


def test_the_migration_turns_the_seeds_yes_no_question_into_a_call_back(contact_me, personas):
    migration = importlib.import_module("vardkontakt.cases.migrations.0005_contact_me_call_back_question")
    old = [{**q, "kind": "yes_no"} if q["key"] == "phone_ok" else q for q in contact_me.questions]
    renumbered = [{**q, "key": f"q{n}"} for n, q in enumerate(old, start=1)]  # saved by a unit admin
    own = [{"key": "q1", "kind": "yes_no", "label": "Har du feber?", "required": True}]
    Service.objects.filter(pk=contact_me.pk).update(questions=old)
    adapted = Service.objects.create(
        unit=personas.nurse.memberships.get().unit,
        kind=ServiceKind.CONTACT_ME,
        name="Bli uppringd",
        questions=renumbered,
        terms="T",
    )
    untouched = Service.objects.create(
        unit=contact_me.unit, kind=ServiceKind.ADVICE, name="Feberfrågor", questions=own, terms="T"
    )
    migration.forwards(apps, None)
    for service in (contact_me, adapted, untouched):
        service.refresh_from_db()
    assert [q["kind"] for q in contact_me.questions] == ["long_text", "call_back"]
    assert [q["kind"] for q in adapted.questions] == ["long_text", "call_back"]
    assert [q["kind"] for q in untouched.questions] == ["yes_no"]
    migration.backwards(apps, None)
    contact_me.refresh_from_db()
    assert [q["kind"] for q in contact_me.questions] == ["long_text", "yes_no"]
