"""Personal settings: staff (first login goes there) and residents; bad input saves nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import login_as
from vardkontakt.identity.models import Patient, Staff, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def tolvan(personas) -> tuple[Client, Patient]:
    return login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan)), personas.tolvan


@pytest.fixture
def nurse(personas) -> tuple[Client, Staff]:
    return login_as(Client(), User.objects.get_or_create_for_staff(personas.nurse)), personas.nurse


def test_a_resident_saves_contact_details_and_sees_them(tolvan):
    client, patient = tolvan
    response = client.post(
        "/settings/",
        {"mobile": "070-123 45 67", "email": "Tolvan@Example.se", "notify_by_sms": "on", "notify_by_email": "on"},
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.mobile, patient.email) == ("+46701234567", "tolvan@example.se")
    assert patient.notify_by_sms and patient.notify_by_email
    page = client.get("/settings/").text
    assert "+46701234567" in page
    assert "checked" in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"mobile": "12", "email": ""}, "mobile"),
        ({"mobile": "08-123 456 78", "email": ""}, "mobile"),
        ({"mobile": "", "email": "not-an-address"}, "email"),
        ({"mobile": "", "email": "", "notify_by_sms": "on"}, "mobile"),
        ({"mobile": "", "email": "", "notify_by_email": "on"}, "email"),
    ],
)
def test_bad_input_is_explained_and_saves_nothing(tolvan, data, field):
    client, patient = tolvan
    before = Patient.objects.filter(pk=patient.pk).values().get()
    response = client.post("/settings/", {**data})
    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert f'href="#id_{field}"' in response.text
    assert Patient.objects.filter(pk=patient.pk).values().get() == before


def test_resident_settings_errors_are_translated(tolvan):
    client, _ = tolvan
    swedish = client.post("/settings/", {"mobile": "12"}).text
    client.cookies["vk_language"] = "en"
    english = client.post("/settings/", {"mobile": "12"}).text
    assert "Det här telefonnumret finns inte" in swedish
    assert "This phone number does not exist" in english


def test_a_staff_member_saves_notification_choices_and_signature(nurse):
    client, staff = nurse
    assert staff.settings_confirmed_at is None
    response = client.post(
        "/staff/settings/",
        {
            "email": "bengt@vardkontakt.example",
            "mobile": "0701234567",
            "notify_assigned_by_email": "on",
            "notify_assigned_by_sms": "on",
            "signature": "Med vänlig hälsning\nBengt, sjuksköterska",
        },
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.notify_assigned_by_email and staff.notify_assigned_by_sms
    assert staff.signature == "Med vänlig hälsning\nBengt, sjuksköterska"
    assert staff.settings_confirmed_at is not None
    assert "Med vänlig hälsning" in client.get("/staff/settings/").text


def test_staff_sms_without_a_mobile_is_refused(nurse):
    client, staff = nurse
    response = client.post("/staff/settings/", {"notify_assigned_by_sms": "on", "signature": "x"})
    assert response.status_code == 200
    staff.refresh_from_db()
    assert not staff.notify_assigned_by_sms
    assert staff.signature == ""
    assert staff.settings_confirmed_at is None


def test_a_signature_longer_than_500_characters_is_refused(nurse):
    client, staff = nurse
    response = client.post("/staff/settings/", {"signature": "x" * 501})
    assert response.status_code == 200
    staff.refresh_from_db()
    assert staff.signature == ""


def test_a_resident_chooses_english_letters_and_a_bad_choice_changes_nothing(tolvan):
    client, patient = tolvan
    page = client.get("/settings/").text
    assert 'name="letter_language" type="radio" value="sv" checked' in page
    assert client.post("/settings/", {"letter_language": "en"}).status_code == 302
    patient.refresh_from_db()
    assert patient.letter_language == "en"
    response = client.post("/settings/", {"letter_language": "de"})
    assert response.status_code == 200 and 'href="#id_letter_language_0"' in response.text
    patient.refresh_from_db()
    assert patient.letter_language == "en"
    # Saving the other settings without the choice keeps it.
    assert client.post("/settings/", {"mobile": "070-123 45 67"}).status_code == 302
    patient.refresh_from_db()
    assert patient.letter_language == "en"
