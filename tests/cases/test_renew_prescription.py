"""Renewing a prescription: the form lists the renewable medicines of the person the resident acts
for (as the record would show them), checks what comes back against that list, and keeps the
choice with the case for the unit and the patient."""

from __future__ import annotations

import datetime as dt
import html
import importlib
import itertools
import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry, Proxy
from vardkontakt.access.services import record_seal
from vardkontakt.cases.defaults import DEFAULT_QUESTIONS, ServiceKind
from vardkontakt.cases.models import Case, Service
from vardkontakt.cases.questions import validate_questions
from vardkontakt.cases.services import service_activate
from vardkontakt.identity.models import Patient, User
from vardkontakt.organisation.models import CareUnit, UnitKind
from vardkontakt.records.models import Medicine, RecordPreferences

pytestmark = pytest.mark.django_db
_ids = itertools.count()

LABEL = "Vilka läkemedel vill du förnya?"


def sv(message: str) -> str:
    """A message as the Swedish interface shows it (English until the catalogue has it)."""
    with translation.override("sv"):
        return gettext(message)


NOTHING_GIVEN = "Tick a medicine in the list or write which medicines you want renewed."
NOTHING_TYPED = "Write which medicines you want renewed."
FOREIGN = "Choose only medicines from the list."
NONE_RENEWABLE = "There are no medicines in the record that can be renewed here, so there is no list to choose from."
CLOSED = "Medicines from the record cannot be listed here."


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def client_for(patient: Patient, acting_for: Patient | None = None) -> Client:
    client = login_as(Client(), User.objects.get_or_create_for_patient(patient))
    if acting_for is not None:
        assert client.post("/acting-for/", {"subject": str(acting_for.pk)}).status_code == 302
    return client


def medicine(patient: Patient, name: str, *, unit: CareUnit | None = None, **fields) -> Medicine:
    values = {
        "strength": "10 mg",
        "dosage": "1 tablett dagligen",
        "prescriber": "Doktor Exempel",
        "dispensed_on": dt.date(2026, 9, 1),
        "renewable": True,
        "current": True,
        "received_at": timezone.now() - dt.timedelta(days=60),
    }
    unit = unit or CareUnit.objects.filter(kind=UnitKind.PRIMARY_CARE).order_by("name").first()
    assert unit is not None
    return Medicine.objects.create(
        patient=patient,
        unit=unit,
        source_system="pharmacy",
        source_id=f"m{next(_ids)}",
        name=name,
        **{**values, **fields},
    )


@pytest.fixture
def renew(unit_x, personas) -> Service:
    return service_activate(unit=unit_x, kind=ServiceKind.RENEW_PRESCRIPTION, by=personas.unit_admin)


def write_url(service: Service) -> str:
    return f"/cases/new/{service.unit_id}/{service.id}/"


def post(client: Client, service: Service, step: str, *, picked=(), typed: str = "", key: str = "k1"):
    data = {"medicines": [str(pk) for pk in picked], "medicines_text": typed, "idempotency_key": key, "step": step}
    return client.post(write_url(service), data)


def test_the_patient_picks_two_and_the_unit_and_the_patient_see_them(renew, personas):
    tolvan = personas.tolvan
    levaxin = medicine(tolvan, "Levaxin", strength="50 mikrog", dosage="1 tablett på morgonen")
    enalapril = medicine(tolvan, "Enalapril", prescriber="Doktor Blom")
    medicine(tolvan, "Alvedon", strength="500 mg", dosage="vid behov")
    client = client_for(tolvan)

    form = page_text(client.get(write_url(renew)))
    assert LABEL in form and sv("Other medicines, not in the list") in form
    for name in ("Levaxin 50 mikrog – 1 tablett på morgonen", "Enalapril 10 mg", "Alvedon 500 mg – vid behov"):
        assert name in form
    assert "Doktor Blom" in form and "2026-09-01" in form  # what tells two alike apart

    review = page_text(post(client, renew, "review", picked=[levaxin.pk, enalapril.pk], typed="Omeprazol 20 mg"))
    assert "Kontrollera ditt ärende" in review
    assert "Levaxin 50 mikrog" in review and "Enalapril 10 mg" in review and "Omeprazol 20 mg" in review
    assert "Alvedon" not in review
    assert not Case.objects.exists()

    sent = post(client, renew, "send", picked=[levaxin.pk, enalapril.pk], typed="Omeprazol 20 mg")
    assert sent.status_code == 302
    case = Case.objects.get()
    answer = next(a for a in case.answers if a["key"] == "medicines")
    assert (answer["label"], answer["kind"]) == (LABEL, "medicines")
    assert [p["id"] for p in answer["value"]["picked"]] == [str(levaxin.pk), str(enalapril.pk)]
    assert answer["value"]["picked"][0]["text"].startswith("Levaxin 50 mikrog – 1 tablett på morgonen")
    assert answer["value"]["typed"] == "Omeprazol 20 mg"
    # Every question has its answer, in order, as for every other service.
    assert [a["key"] for a in case.answers] == [q["key"] for q in renew.questions]

    staff = login_as(Client(), User.objects.get_or_create_for_staff(personas.staff_x))
    for page in (page_text(staff.get(f"/staff/cases/{case.id}/")), page_text(client.get(f"/cases/{case.id}/"))):
        assert LABEL in page
        assert "Levaxin 50 mikrog – 1 tablett på morgonen" in page and "Enalapril 10 mg" in page
        assert f"{sv('Not in the list:')} Omeprazol 20 mg" in page
        assert "Alvedon" not in page

    # Listing the medicines read the record, through its door: logged as a read of the medicines.
    reads = AuditEntry.objects.filter(action="record.read", patient_id=str(tolvan.pk), detail="medicines")
    assert reads.exists() and set(reads.values_list("outcome", flat=True)) == {"allowed"}


def test_a_crafted_id_of_another_patients_medicine_is_refused(renew, personas):
    own = medicine(personas.tolvan, "Levaxin")
    foreign = medicine(personas.other_patient, "Hemligmedel", renewable=True)
    client = client_for(personas.tolvan)
    for step in ("review", "send"):
        response = post(client, renew, step, picked=[own.pk, foreign.pk])
        assert response.status_code == 200
        text = page_text(response)
        assert "nhsuk-error-summary" in text and sv(FOREIGN) in text
        assert "Hemligmedel" not in text and str(foreign.pk) not in text
    assert post(client, renew, "send", picked=[uuid.uuid4()]).status_code == 200
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "withheld",
    ["not renewable", "not current", "maternity care", "harm assessment", "hidden as recent"],
)
def test_only_renewable_current_published_medicines_are_offered(renew, personas, withheld):
    tolvan = personas.tolvan
    offered = medicine(tolvan, "Levaxin")
    if withheld == "not renewable":
        kept_back = medicine(tolvan, "Kortison", renewable=False)
    elif withheld == "not current":
        kept_back = medicine(tolvan, "Kortison", current=False)
    elif withheld == "maternity care":
        kept_back = medicine(tolvan, "Kortison", unit=CareUnit.objects.filter(kind=UnitKind.MATERNITY_CARE).first())
    elif withheld == "harm assessment":
        unit = CareUnit.objects.exclude(pk=offered.unit_id).filter(kind=UnitKind.PRIMARY_CARE).first()
        assert unit is not None
        CareUnit.objects.filter(pk=unit.pk).update(needs_harm_assessment=True)
        kept_back = medicine(tolvan, "Kortison", unit=unit)
    else:
        RecordPreferences.objects.create(patient=tolvan, hide_recent=True)
        kept_back = medicine(tolvan, "Kortison", dispensed_on=timezone.localdate() - dt.timedelta(days=2))
    client = client_for(tolvan)
    form = page_text(client.get(write_url(renew)))
    assert "Levaxin" in form
    assert "Kortison" not in form
    response = post(client, renew, "send", picked=[offered.pk, kept_back.pk])
    assert response.status_code == 200 and sv(FOREIGN) in page_text(response)
    assert not Case.objects.exists()


def test_a_guardian_acting_for_liam_sees_liams_medicines_and_sends_for_him(renew, personas):
    anna, liam = personas.guardian, personas.child_9
    kavepenin = medicine(liam, "Kåvepenin", strength="250 mg")
    annas = medicine(anna, "Sertralin")
    client = client_for(anna, acting_for=liam)
    form = page_text(client.get(write_url(renew)))
    assert "Kåvepenin 250 mg" in form and "Sertralin" not in form
    # Anna's own medicine is not Liam's: refused while she acts for him.
    assert sv(FOREIGN) in page_text(post(client, renew, "send", picked=[annas.pk]))
    assert post(client, renew, "send", picked=[kavepenin.pk], key="liam").status_code == 302
    case = Case.objects.get()
    assert (case.patient_id, case.created_by_id) == (liam.pk, anna.pk)
    assert case.answers[0]["value"]["picked"][0]["id"] == str(kavepenin.pk)
    read = AuditEntry.objects.filter(action="record.read", detail="medicines").latest("sequence")
    assert (read.patient_id, read.actor_id, read.outcome) == (str(liam.pk), str(anna.pk), "allowed")

    own = page_text(client_for(anna).get(write_url(renew)))
    assert "Sertralin" in own and "Kåvepenin" not in own


def test_a_proxy_with_the_record_scope_sees_the_principals_medicines(renew, personas):
    medicine(personas.principal, "Waran", strength="2,5 mg")
    form = page_text(client_for(personas.adult_proxy, acting_for=personas.principal).get(write_url(renew)))
    assert "Waran 2,5 mg" in form


def test_nothing_picked_and_nothing_typed_is_explained_and_nothing_stored(renew, personas):
    medicine(personas.tolvan, "Levaxin")
    client = client_for(personas.tolvan)
    for step in ("review", "send"):
        response = post(client, renew, step, typed="   ")
        assert response.status_code == 200
        text = page_text(response)
        assert "nhsuk-error-summary" in text and sv(NOTHING_GIVEN) in text
        assert 'href="#id_medicines_0"' in text  # the summary leads to the first box of the list
    assert not Case.objects.exists()


def test_with_nothing_renewable_the_text_box_alone_does_the_job(renew, personas):
    medicine(personas.tolvan, "Kortison", renewable=False)
    client = client_for(personas.tolvan)
    form = page_text(client.get(write_url(renew)))
    assert sv(NONE_RENEWABLE) in form and "Kortison" not in form
    assert 'type="checkbox" value=' not in form.split("id_medicines_text")[0].split("<form")[-1]
    empty = page_text(post(client, renew, "send"))
    assert sv(NOTHING_TYPED) in empty and 'href="#id_medicines_text"' in empty
    assert not Case.objects.exists()
    assert post(client, renew, "send", typed="Alvedon 500 mg").status_code == 302
    answer = Case.objects.get().answers[0]
    assert answer["value"] == {"picked": [], "typed": "Alvedon 500 mg"}
    assert "Alvedon 500 mg" in page_text(client.get(f"/cases/{Case.objects.get().id}/"))


@pytest.mark.parametrize("who", ["teenager herself", "proxy without the record scope", "sealed record"])
def test_a_closed_record_gives_no_list_and_says_so_without_saying_why(renew, personas, who):
    if who == "teenager herself":
        subject, client = personas.child_14, client_for(personas.child_14)
    elif who == "proxy without the record scope":
        Proxy.objects.filter(agent=personas.adult_proxy, status="active").update(scope_record=False)
        subject, client = personas.principal, client_for(personas.adult_proxy, acting_for=personas.principal)
    else:
        subject, client = personas.tolvan, client_for(personas.tolvan)
        record_seal(patient=personas.tolvan)
    secret = medicine(subject, "Hemligmedel")
    form = page_text(client.get(write_url(renew)))
    assert sv(CLOSED) in form
    assert "Hemligmedel" not in form
    for hint in ("förseglad", "sealed", "18 år", "age of 18", sv(NONE_RENEWABLE)):
        assert hint not in form
    # A crafted id does not get through the closed door either.
    assert sv(FOREIGN) in page_text(post(client, renew, "send", picked=[secret.pk]))
    assert not Case.objects.exists()
    assert post(client, renew, "send", typed="Hemligmedel 10 mg", key="typed").status_code == 302
    assert Case.objects.get().answers[0]["value"] == {"picked": [], "typed": "Hemligmedel 10 mg"}
    # Nobody asked to read the record, so no refused read is written to its log.
    assert not AuditEntry.objects.filter(action="record.read", patient_id=str(subject.pk)).exists()


def test_other_services_do_not_read_the_record(advice, personas):
    medicine(personas.tolvan, "Levaxin")
    client = client_for(personas.tolvan)
    assert client.get(write_url(advice)).status_code == 200
    assert not AuditEntry.objects.filter(action="record.read").exists()


def test_the_seed_form_asks_with_the_medicines_kind():
    question = DEFAULT_QUESTIONS[ServiceKind.RENEW_PRESCRIPTION][0]
    assert (question["key"], question["kind"], question["required"]) == ("medicines", "medicines", True)
    validate_questions(DEFAULT_QUESTIONS[ServiceKind.RENEW_PRESCRIPTION])
    clash = [question, {"key": "medicines_text", "kind": "short_text", "label": "Annat"}]
    with pytest.raises(ValidationError):
        validate_questions(clash)


def test_the_migration_turns_the_seeds_text_question_into_the_medicines_kind(renew, personas):
    migration = importlib.import_module("vardkontakt.cases.migrations.0003_renew_prescription_medicines_question")
    old = [{**q, "kind": "long_text"} if q["key"] == "medicines" else q for q in renew.questions]
    renumbered = [{**q, "key": f"q{n}"} for n, q in enumerate(old, start=1)]  # saved by a unit admin
    other_unit = CareUnit.objects.exclude(pk=renew.unit_id).filter(kind=UnitKind.PRIMARY_CARE).first()
    assert other_unit is not None
    Service.objects.filter(pk=renew.pk).update(questions=old)
    adapted = Service.objects.create(
        unit=other_unit, kind=ServiceKind.RENEW_PRESCRIPTION, name="Receptförnyelse", questions=renumbered, terms="T"
    )
    migration.forwards(apps, None)
    renew.refresh_from_db()
    adapted.refresh_from_db()
    assert [q["kind"] for q in renew.questions] == ["medicines", "short_text"]
    assert [q["kind"] for q in adapted.questions] == ["medicines", "short_text"]
    migration.backwards(apps, None)
    renew.refresh_from_db()
    assert [q["kind"] for q in renew.questions] == ["long_text", "short_text"]


def test_a_unit_admin_keeps_the_medicines_question_when_adapting_the_form(renew, personas):
    admin = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    url = f"/staff/units/{renew.unit_id}/services/{renew.id}/"
    assert admin.get(url).status_code == 200
    data = {
        "name": "Förnya recept",
        "terms": "Svar inom två arbetsdagar.",
        "active": "on",
        "q-TOTAL_FORMS": "2",
        "q-INITIAL_FORMS": "2",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "30",
        "q-0-label": "Vilka recept gäller det?",
        "q-0-kind": "medicines",
        "q-0-required": "on",
        "q-1-label": "Vilket apotek?",
        "q-1-kind": "short_text",
    }
    assert admin.post(url, data).status_code == 302
    renew.refresh_from_db()
    assert [(q["key"], q["kind"]) for q in renew.questions] == [("q1", "medicines"), ("q2", "short_text")]
    # The renumbered question still lists the patient's medicines, and still needs an answer.
    levaxin = medicine(personas.tolvan, "Levaxin")
    client = client_for(personas.tolvan)
    assert "Levaxin 10 mg" in page_text(client.get(write_url(renew)))
    assert sv(NOTHING_GIVEN) in page_text(client.post(write_url(renew), {"idempotency_key": "a", "step": "send"}))
    assert (
        client.post(write_url(renew), {"q1": [levaxin.pk], "idempotency_key": "b", "step": "send"}).status_code == 302
    )
    assert Case.objects.get().answers[0]["value"]["picked"][0]["id"] == str(levaxin.pk)
