"""The footer's pages about the service (issue 16 item 23): the accessibility statement with the DOS
law's parts, personal data and cookies, about the e-services; each worded by the region's
administrators in Swedish and English, with defaults until they do."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.operations.conftest import client_of
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.middleware import AUTHENTICATED_AT
from vardkontakt.operations.models import InformationText
from vardkontakt.organisation.models import Region

pytestmark = pytest.mark.django_db

PAGES = {"/about/accessibility/": "Accessibility statement", "/about/privacy/": "How we handle your personal data"}


def editor_url(page: str) -> str:
    return f"/staff/regions/{Region.objects.get().id}/pages/{page}/"


def about_form(**changes: str) -> dict[str, str]:
    form = {
        "about_sv": "Regionens e-tjänster för vård.",
        "about_en": "The region's e-services for care.",
        "who_sv": "Region Exempel.",
        "who_en": "",
    }
    return {**form, **changes}


def test_every_page_links_to_the_three_pages_in_its_footer(personas):
    for person, path in ((None, "/"), (personas.tolvan, "/patient/"), (personas.nurse, "/staff/")):
        body = client_of(person).get(path).text
        assert 'href="/about/accessibility/">Accessibility statement</a>' in body
        assert 'href="/about/privacy/">How we handle your personal data</a>' in body
        assert 'href="/about/privacy/#part-cookies">Cookies</a>' in body
        assert 'href="/about/">About the e-services</a>' in body


def test_the_accessibility_statement_has_the_parts_the_law_asks_for(personas):
    body = client_of(None).get("/about/accessibility/").text
    for heading in (
        "How accessible is the service?",
        "Known shortcomings",
        "Tell us about a problem with accessibility",
        "Supervision",
        "How we tested the e-services",
        "About this statement",
    ):
        assert f">{heading}</h2>" in body, heading
    assert "Agency for Digital Government (DIGG)" in body
    assert 'href="https://www.digg.se/tdosanmalan"' in body
    assert 'href="tel:0771000000"' in body  # how to report: the region's support
    assert "the region has not yet reviewed it" in body


def test_the_pages_read_in_swedish_by_default():
    body = Client().get("/about/accessibility/").text
    assert "<h1>Tillgänglighetsredogörelse</h1>" in body
    assert ">Myndigheten för digital förvaltning (DIGG)" in body or "Myndigheten för digital förvaltning (DIGG)" in body
    assert "<h1>Så hanterar vi dina personuppgifter</h1>" in Client().get("/about/privacy/").text


def test_the_cookie_information_names_every_cookie_the_service_sets(personas):
    body = client_of(None).get("/about/privacy/").text
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME):
        assert f"<code>{name}</code>" in body
    assert "we do not ask for your consent" in body


def test_the_region_administrator_words_a_page_and_residents_read_it(personas):
    admin = client_of(personas.region_admin)
    form_page = admin.get(editor_url("about"))
    assert form_page.status_code == 200
    assert "With the e-services you can write to your care unit" in form_page.text  # starts from the default
    response = admin.post(editor_url("about"), about_form())
    assert response.status_code == 302
    assert admin.get(response["Location"]).text.count("The page is saved.") == 1
    english = client_of(None).get("/about/").text
    assert "The region&#x27;s e-services for care." in english
    # No English text for "who": English readers see the Swedish one, marked as Swedish.
    assert '<section lang="sv" aria-labelledby="part-who">' in english
    assert "Region Exempel." in english
    swedish = Client().get("/about/").text
    assert "Regionens e-tjänster för vård." in swedish
    entry = AuditEntry.objects.filter(action="information_page.update").get()
    assert (entry.actor_id, entry.detail) == (str(personas.region_admin.id), "about: about, who")


def test_saving_again_unchanged_writes_and_logs_nothing(personas):
    admin = client_of(personas.region_admin)
    admin.post(editor_url("about"), about_form())
    before = InformationText.objects.get(part="about").updated_at
    response = admin.post(editor_url("about"), about_form())
    assert "Nothing was changed." in admin.get(response["Location"]).text
    assert InformationText.objects.get(part="about").updated_at == before
    assert AuditEntry.objects.filter(action="information_page.update").count() == 1


def test_a_swedish_text_is_required_and_nothing_is_saved_without_it(personas):
    admin = client_of(personas.region_admin)
    response = admin.post(editor_url("about"), about_form(who_sv="  "))
    assert response.status_code == 400
    assert "Write the Swedish text of “Who runs the e-services”." in response.text
    assert not InformationText.objects.exists()


def test_a_text_longer_than_the_limit_is_refused(personas):
    response = client_of(personas.region_admin).post(editor_url("about"), about_form(about_sv="x" * 5001))
    assert response.status_code == 400
    assert not InformationText.objects.exists()


def test_the_statement_says_when_the_region_last_reviewed_it(personas):
    admin = client_of(personas.region_admin)
    texts = {f"{key}_sv": "Text." for key in ("status", "shortcomings", "report", "method")}
    texts.update({f"{key}_en": "" for key in ("status", "shortcomings", "report", "method")})
    admin.post(editor_url("accessibility"), texts)
    body = client_of(None).get("/about/accessibility/").text
    assert "The region last reviewed this statement on" in body
    assert "not yet reviewed" not in body


def test_saving_needs_a_recent_login(personas):
    admin = client_of(personas.region_admin)
    session = admin.session
    session[AUTHENTICATED_AT] = int(time.time()) - 24 * 3600
    session.save()
    assert admin.get(editor_url("about")).status_code == 200  # looking is free
    stale = admin.post(editor_url("about"), about_form())
    assert stale.status_code == 401  # the step-up page: log in again, then the form is sent on
    assert not InformationText.objects.exists()


def test_only_the_regions_administrators_edit_and_no_one_edits_an_unknown_page(personas):
    assert client_of(personas.nurse).get(editor_url("about")).status_code == 404
    assert client_of(personas.region_admin).get(editor_url("weather")).status_code == 404
    assert client_of(personas.tolvan).get(editor_url("about")).status_code == 403


def worded(personas, region: Region, text: str) -> None:
    InformationText.objects.create(
        region=region,
        page="about",
        part="about",
        text_sv=text,
        updated_by=personas.region_admin,
        updated_at=timezone.now(),
    )


def test_an_installation_of_two_regions_lets_the_reader_choose_and_never_picks_the_first(personas):
    """Nothing picks "the first region by name" (issue 15 §4): a visitor chooses, a resident reads
    their own region's wording, a made-up region is 404."""
    skane = Region.objects.get()
    norr = Region.objects.create(name="Region Norr")
    worded(personas, norr, "Norrs egna ord.")
    worded(personas, skane, "Skånes egna ord.")

    chooser = Client().get("/about/").text
    assert skane.name in chooser and norr.name in chooser
    assert "Norrs egna ord." not in chooser and "Skånes egna ord." not in chooser
    assert "Norrs egna ord." in Client().get(f"/about/?region={norr.id}").text
    assert Client().get("/about/?region=not-a-region").status_code == 404
    assert Client().get("/about/?region=00000000-0000-0000-0000-000000000000").status_code == 404
    # Tolvan is listed in Skåne: she reads Skåne's page whatever she asks for.
    tolvans = client_of(personas.tolvan).get(f"/about/?region={norr.id}").text
    assert "Skånes egna ord." in tolvans and "Norrs egna ord." not in tolvans


def test_an_installation_of_one_region_shows_its_page_at_once(personas):
    region = Region.objects.get()
    worded(personas, region, "Våra egna ord.")
    page = Client().get("/about/").text
    assert "Våra egna ord." in page and f"?region={region.id}" not in page
