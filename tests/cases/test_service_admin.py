"""Unit administrators adapt their services; region administrators keep the default forms."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.cases.models import RegionServiceForm, Service
from vardkontakt.cases.services import service_activate
from vardkontakt.identity.models import User
from vardkontakt.organisation.models import Region

pytestmark = pytest.mark.django_db


def form_data(name: str, **extra: str) -> dict[str, str]:
    data = {
        "name": name,
        "terms": "Svar inom två arbetsdagar.",
        "professions": "nurse",
        "active": "on",
        "q-TOTAL_FORMS": "2",
        "q-INITIAL_FORMS": "1",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "30",
        "q-0-label": "Vad gäller det?",
        "q-0-kind": "long_text",
        "q-0-required": "on",
        "q-1-label": "Hur vill du bli kontaktad?",
        "q-1-kind": "single_choice",
        "q-1-choices": "Telefon\nBrev",
    }
    return {**data, **extra}


def test_the_unit_admin_adapts_a_service(personas, advice):
    client = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    url = f"/staff/units/{advice.unit_id}/services/{advice.id}/"
    assert "Beskriv ditt ärende" in client.get(url).text
    assert client.post(url, form_data("Fråga sjuksköterskan")).status_code == 302
    advice.refresh_from_db()
    assert advice.name == "Fråga sjuksköterskan"
    assert advice.professions == ["nurse"]
    assert [q["label"] for q in advice.questions] == ["Vad gäller det?", "Hur vill du bli kontaktad?"]
    assert advice.questions[1]["choices"] == ["Telefon", "Brev"]
    logged = AuditEntry.objects.get(action="service.update")
    assert (logged.actor_id, logged.unit_id) == (str(personas.unit_admin.pk), str(advice.unit_id))


@pytest.mark.parametrize(
    ("name", "message"),
    [("Mina frågor", "Mina"), ("e-Rådgivning", "prefixet"), ("Rådgivning på nätet", "på nätet"), ("Fråga VC", "VC")],
)
def test_a_name_against_the_rules_is_explained_and_nothing_saved(personas, advice, name, message):
    client = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    response = client.post(f"/staff/units/{advice.unit_id}/services/{advice.id}/", form_data(name))
    assert response.status_code == 400
    assert message in response.text
    advice.refresh_from_db()
    assert advice.name == "Rådgivning"


def test_a_choice_question_needs_two_choices(personas, advice):
    client = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    response = client.post(
        f"/staff/units/{advice.unit_id}/services/{advice.id}/", form_data("Rådgivning", **{"q-1-choices": "Bara ett"})
    )
    assert response.status_code == 400
    assert "minst två" in response.text


def test_only_the_units_admin_edits(personas, advice):
    for outsider in (personas.staff_x, personas.nurse):
        client = login_as(Client(), User.objects.get_or_create_for_staff(outsider))
        response = client.post(f"/staff/units/{advice.unit_id}/services/{advice.id}/", form_data("Kapat"))
        assert response.status_code in (403, 404)
    advice.refresh_from_db()
    assert advice.name == "Rådgivning"


def test_the_region_admin_sets_a_default_that_new_units_adopt(personas):
    region = Region.objects.get()
    client = login_as(Client(), User.objects.get_or_create_for_staff(personas.region_admin))
    assert client.get(f"/staff/regions/{region.id}/forms/").status_code == 200
    response = client.post(
        f"/staff/regions/{region.id}/forms/lifestyle_support/", form_data("Få stöd med levnadsvanor")
    )
    assert response.status_code == 302
    template = RegionServiceForm.objects.get(region=region, kind="lifestyle_support")
    logged = AuditEntry.objects.get(action="region_form.save")
    assert (logged.actor_id, logged.object_id) == (str(personas.region_admin.pk), str(template.pk))
    unit = personas.nurse.memberships.get().unit
    head = unit.memberships.get(role="unit_admin").staff
    service = service_activate(unit=unit, kind="lifestyle_support", by=head)
    assert (service.name, service.questions) == (template.name, template.questions)
    other = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    assert other.get(f"/staff/regions/{region.id}/forms/").status_code == 404
    assert Service.objects.filter(kind="lifestyle_support").count() == 1
