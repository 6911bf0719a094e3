"""Who reaches which page, and the headers every page carries."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import login_as
from vardkontakt.identity.models import User
from vardkontakt.operations.support import footer_support_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient_client(personas) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))


@pytest.fixture
def staff_client(personas) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(personas.nurse))


def test_the_start_page_is_public_and_says_how_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "/login/resident/" in response.text
    assert "/login/staff/" in response.text


@pytest.mark.parametrize("url", ["/patient/", "/settings/"])
def test_resident_pages_send_anonymous_visitors_to_the_e_id_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/resident/?next=")


@pytest.mark.parametrize("url", ["/staff/", "/staff/settings/"])
def test_staff_pages_send_anonymous_visitors_to_the_siths_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/staff/?next=")


@pytest.mark.parametrize("url", ["/staff/", "/staff/settings/"])
def test_a_resident_cannot_open_staff_pages(patient_client, url):
    assert patient_client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/patient/", "/settings/"])
def test_a_staff_member_cannot_open_resident_pages(staff_client, url):
    assert staff_client.get(url).status_code == 403


def test_home_sends_each_person_to_their_side(patient_client, staff_client, client):
    assert patient_client.get("/home/")["Location"] == "/patient/"
    assert staff_client.get("/home/")["Location"] == "/staff/"
    assert client.get("/home/")["Location"] == "/"


def test_the_patient_home_lists_my_units_with_contact_information(patient_client, django_assert_max_num_queries):
    # Session, user, units, their opening exceptions, services, web booking, notices, the cases'
    # counts, children past the guardians' age, whom one may act for, and the banner's messages:
    # one query each, however many units, cases or children. (The footer's support hours come from
    # the cache, one query every few minutes: warmed here as any earlier page would have.)
    footer_support_hours()
    with django_assert_max_num_queries(11):
        response = patient_client.get("/patient/")
    assert "Vårdcentralen Lindängen" in response.text
    assert "040-623 10 00" in response.text
    assert "Hudmottagningen Lund" in response.text
    assert "Ungdomsmottagningen" not in response.text  # not my unit


def test_the_staff_home_shows_my_name_settings_link_and_units(staff_client, personas):
    response = staff_client.get("/staff/")
    assert personas.nurse.full_name in response.text
    assert 'href="/staff/settings/"' in response.text
    unit = personas.nurse.memberships.get().unit
    assert unit.name in response.text


def test_logout_only_accepts_post(patient_client):
    assert patient_client.get("/logout/").status_code == 405
    assert patient_client.get("/patient/").status_code == 200


def test_pages_with_personal_data_are_never_cached(patient_client):
    response = patient_client.get("/patient/")
    assert response["Cache-Control"] == "no-store"


def test_security_headers(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_pages_carry_no_inline_script(client, patient_client):
    for response in (client.get("/"), patient_client.get("/patient/"), client.get("/login/")):
        assert "<script>" not in response.text
        assert "onclick=" not in response.text


def test_every_form_carries_a_csrf_token(patient_client):
    page = patient_client.get("/settings/").text
    assert page.count("<form") == page.count('name="csrfmiddlewaretoken"')


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(personas):
    client = Client(enforce_csrf_checks=True)
    login_as(client, User.objects.get_or_create_for_patient(personas.tolvan))
    response = client.post("/settings/", {"mobile": "070-123 45 67", "email": "x@example.se"})
    assert response.status_code == 403
    personas.tolvan.refresh_from_db()
    assert personas.tolvan.mobile == ""


def test_unknown_pages_answer_a_translated_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.text


def test_swedish_is_the_default_whatever_the_browser_prefers(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="sv">' in response.text
    assert response["Content-Language"] == "sv"


def test_the_switch_sets_english_and_back(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response["Location"] == "/login/"
    assert '<html lang="en">' in client.get("/login/").text
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert '<html lang="sv">' in client.get("/").text


def test_an_unknown_language_falls_back_to_swedish(client):
    client.cookies["vk_language"] = "de"
    assert '<html lang="sv">' in client.get("/").text


def test_the_staff_home_offers_each_role_its_tools(personas):
    from django.urls import reverse

    def home(staff) -> str:
        return login_as(Client(), User.objects.get_or_create_for_staff(staff)).get("/staff/").text

    assert reverse("access_staff:seals") in home(personas.archivist)
    assert reverse("access_staff:guardians") in home(personas.unit_admin)
    assert reverse("access_staff:seals") not in home(personas.staff_x)
    assert reverse("access_staff:guardians") not in home(personas.staff_x)
