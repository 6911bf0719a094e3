"""Issue 16 item 25: what a unit writes (a service's name, its terms, its questions) has an English
version the unit may fill in; where it has not, an English page shows the Swedish text marked
lang="sv", so that a screen reader reads it as Swedish."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.cases.test_service_admin import form_data
from tests.helpers import login_as
from vardkontakt.cases.models import RegionServiceForm, Service
from vardkontakt.cases.services import service_activate
from vardkontakt.identity.models import User
from vardkontakt.organisation.models import Region

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


def test_choices_have_english_wording_by_position_and_swedish_where_left_empty(personas, advice):
    admin = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    url = f"/staff/units/{advice.unit_id}/services/{advice.id}/"
    assert 'name="q-1-choices_en"' in admin.get(url).text
    # English by position: "Brev" has an empty line, so no English.
    english = {"q-1-choices": "Telefon\nBrev\nSms", "q-1-choices_en": "Phone\n\nText message"}
    answer = admin.post(url, form_data("Fråga sjuksköterskan", **english))
    assert answer.status_code == 302
    advice.refresh_from_db()
    assert advice.questions[1]["choices_en"] == ["Phone", "", "Text message"]
    assert "Phone\n\nText message" in admin.get(url).text  # the form shows it back as written
    write = f"/cases/new/{advice.unit_id}/{advice.id}/"
    page = resident(personas, "en").get(write).text
    assert 'value="Telefon"' in page and "Phone" in page and "Text message" in page
    assert '<span lang="sv">Brev</span>' in page
    swedish = resident(personas, "sv").get(write).text
    assert "Phone" not in swedish and "Text message" not in swedish and 'lang="sv">Brev' not in swedish
    assert "Telefon" in swedish and "Brev" in swedish
    # The answer keeps the Swedish choice, as the unit wrote it, whatever language the resident read.
    sent = resident(personas, "en").post(
        write, {"idempotency_key": "k", "step": "review", "q1": "Ont i halsen", "q2": "Telefon"}
    )
    assert sent.status_code == 200 and "Check your case" in sent.text
    # The check page words question and choice as the form did: English, or Swedish marked so.
    assert '<dd class="nhsuk-summary-list__value">Phone\n</dd>' in sent.text and ">Telefon<" not in sent.text
    letter = resident(personas, "en").post(
        write, {"idempotency_key": "k3", "step": "review", "q1": "Ont i halsen", "q2": "Brev"}
    )
    assert '<dd class="nhsuk-summary-list__value"><span lang="sv">Brev</span>\n</dd>' in letter.text
    assert '<span lang="sv">Hur vill du bli kontaktad?</span>' in sent.text
    checked_in_swedish = resident(personas, "sv").post(
        write, {"idempotency_key": "k2", "step": "review", "q1": "Ont i halsen", "q2": "Brev"}
    )
    assert "Brev" in checked_in_swedish.text and 'lang="sv">' not in checked_in_swedish.text.split("<main", 1)[1]


def test_choices_in_swedish_only_are_marked_swedish_on_english_pages(personas, advice):
    admin = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    url = f"/staff/units/{advice.unit_id}/services/{advice.id}/"
    assert admin.post(url, form_data("Fråga sjuksköterskan")).status_code == 302
    advice.refresh_from_db()
    assert "choices_en" not in advice.questions[1]
    page = resident(personas, "en").get(f"/cases/new/{advice.unit_id}/{advice.id}/").text
    assert '<span lang="sv">Telefon</span>' in page and '<span lang="sv">Brev</span>' in page


@pytest.mark.parametrize(
    ("choices_en", "message"),
    [
        ("x" * 2001, "som mest 2000 tecken"),
        ("Phone\nLetter\nPigeon", "Ange inte fler engelska alternativ än alternativ."),
    ],
)
def test_bad_english_choices_are_refused_in_words_and_nothing_is_saved(personas, advice, choices_en, message):
    admin = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    url = f"/staff/units/{advice.unit_id}/services/{advice.id}/"
    before = advice.questions
    refused = admin.post(url, form_data("Fråga sjuksköterskan", **{"q-1-choices_en": choices_en}))
    assert refused.status_code == 400
    assert message in refused.text
    advice.refresh_from_db()
    assert advice.questions == before and advice.name != "Fråga sjuksköterskan"


def _region_default(personas, **english: str):
    region = Region.objects.get()
    admin = login_as(Client(), User.objects.get_or_create_for_staff(personas.region_admin))
    url = f"/staff/regions/{region.id}/forms/lifestyle_support/"
    return admin, url, admin.post(url, form_data("Få stöd med levnadsvanor", **english))


def _adopted(personas) -> Service:
    unit = personas.nurse.memberships.get().unit
    head = unit.memberships.get(role="unit_admin").staff
    return service_activate(unit=unit, kind="lifestyle_support", by=head)


def test_the_region_writes_english_for_its_default_and_units_take_it(personas):
    admin, url, answer = _region_default(
        personas, name_en="Support with lifestyle", terms_en="We answer within a week.", **{"q-1-choices_en": "Phone"}
    )
    assert answer.status_code == 302
    template = RegionServiceForm.objects.get(kind="lifestyle_support")
    assert (template.name_en, template.terms_en) == ("Support with lifestyle", "We answer within a week.")
    assert 'value="Support with lifestyle"' in admin.get(url).text  # edited where the Swedish is
    service = _adopted(personas)
    assert (service.name_en, service.terms_en) == ("Support with lifestyle", "We answer within a week.")
    assert service.questions[1]["choices_en"] == ["Phone", ""]
    write = f"/cases/new/{service.unit_id}/{service.id}/"
    page = resident(personas, "en").get(write).text
    assert "<h1>Support with lifestyle</h1>" in page and "We answer within a week." in page
    assert "Phone" in page and '<span lang="sv">Brev</span>' in page
    swedish = resident(personas, "sv").get(write).text
    assert "<h1>Få stöd med levnadsvanor</h1>" in swedish and "Support with lifestyle" not in swedish


def test_a_region_default_without_english_is_shown_marked_swedish(personas):
    assert _region_default(personas)[2].status_code == 302
    service = _adopted(personas)
    page = resident(personas, "en").get(f"/cases/new/{service.unit_id}/{service.id}/").text
    assert '<h1><span lang="sv">Få stöd med levnadsvanor</span></h1>' in page
    assert '<span lang="sv">Svar inom två arbetsdagar.</span>' in page


def test_a_too_long_english_name_for_the_region_default_is_refused_and_nothing_saved(personas):
    _admin, _url, refused = _region_default(personas, name_en="x" * 61)
    assert refused.status_code == 400 and "som mest 60 tecken" in refused.text
    assert not RegionServiceForm.objects.filter(kind="lifestyle_support").exists()
