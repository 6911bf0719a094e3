"""Issue 16 item 25: what a unit writes (a service's name, its terms, its questions) has an English
version the unit may fill in; where it has not, an English page shows the Swedish text marked
lang="sv", so that a screen reader reads it as Swedish."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.cases.test_service_admin import form_data
from tests.helpers import login_as
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db


def resident(personas, language: str) -> Client:
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_unit_writes_english_and_english_readers_see_it(personas, advice):
    admin = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    url = f"/staff/units/{advice.unit_id}/services/{advice.id}/"
    english = {
        "name_en": "Ask the nurse",
        "terms_en": "Answer within two working days.",
        "q-0-label_en": "What is it about?",
        "q-0-help_en": "Say since when.",
    }
    assert admin.post(url, form_data("Fråga sjuksköterskan", **english)).status_code == 302
    advice.refresh_from_db()
    assert (advice.name_en, advice.terms_en) == ("Ask the nurse", "Answer within two working days.")
    assert advice.questions[0]["label_en"] == "What is it about?"
    assert "label_en" not in advice.questions[1]  # left empty: nothing stored
    write = f"/cases/new/{advice.unit_id}/{advice.id}/"
    page = resident(personas, "en").get(write).text
    assert "<h1>Ask the nurse</h1>" in page
    assert "Answer within two working days." in page
    assert "What is it about?" in page and "Say since when." in page
    # The second question has no English: shown in Swedish, marked so.
    assert '<span lang="sv">Hur vill du bli kontaktad?</span>' in page
    assert ">Ask the nurse</a>" in resident(personas, "en").get(f"/cases/new/{advice.unit_id}/").text
    # Swedish readers see the Swedish wording, unmarked.
    swedish = resident(personas, "sv").get(write).text
    assert "<h1>Fråga sjuksköterskan</h1>" in swedish and "Vad gäller det?" in swedish
    assert 'lang="sv">' not in swedish.split("<main", 1)[1]


def test_without_english_the_swedish_name_is_marked_swedish(personas, advice):
    page = resident(personas, "en").get(f"/cases/new/{advice.unit_id}/{advice.id}/").text
    assert f'<h1><span lang="sv">{advice.name}</span></h1>' in page
    assert f"<title>{advice.name} –" in page  # a title holds no mark-up: the text alone


def test_a_missing_answer_names_the_question_in_plain_text(personas, advice):
    page = resident(personas, "en").post(
        f"/cases/new/{advice.unit_id}/{advice.id}/", {"idempotency_key": "k", "step": "review"}
    )
    label = advice.questions[0]["label"]
    assert f"Answer the question “{label}”." in page.text
    assert "&lt;span" not in page.text
