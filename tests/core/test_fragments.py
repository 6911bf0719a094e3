"""The parts of every page the same for all readers of a language and kind, rendered once per
process (core/templatetags/core_fragments.py, base.html): what each kind of reader sees, the other
language when switched, and nothing personal kept."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.utils import translation

from tests.helpers import login_as
from vardkontakt.core.templatetags import core_fragments
from vardkontakt.identity.models import User
from vardkontakt.organisation.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def afresh() -> Iterator[None]:
    core_fragments.forget_all()
    yield
    core_fragments.forget_all()


def kept_text() -> str:
    return "".join(core_fragments._kept.values())


def test_a_fragment_is_rendered_once_per_language_and_per_value_of_its_arguments():
    renders: list[str] = []

    def counted() -> str:
        renders.append("once")
        return str(len(renders))

    page = Template(
        '{% load i18n core_fragments %}{% once_per_language "t" kind %}'
        '{% translate "Log in" %} {{ counted }}{% endonce_per_language %}'
    )
    with translation.override("sv"):
        first = page.render(Context({"counted": counted, "kind": "patient"}))
        again = page.render(Context({"counted": counted, "kind": "patient"}))
    with translation.override("en"):
        english = page.render(Context({"counted": counted, "kind": "patient"}))
    with translation.override("sv"):
        staff = page.render(Context({"counted": counted, "kind": "staff"}))
    assert first == again == "Logga in 1"
    assert english == "Log in 2"
    assert staff == "Logga in 3"
    assert len(renders) == 3


def test_a_fragment_cannot_hold_a_block():
    with pytest.raises(TemplateSyntaxError, match="block"):
        Template(
            '{% load core_fragments %}{% once_per_language "t" %}{% block b %}{% endblock %}{% endonce_per_language %}'
        )


def header(body: str) -> str:
    """The page from its start to the end of the header's account list (names, forms and the
    language switch come after the kept part)."""
    return body[: body.index("</header>")]


def test_anonymous_patient_and_staff_each_get_their_own_header_in_any_order(personas):
    patient = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    staff = login_as(Client(), User.objects.get_or_create_for_staff(personas.nurse))
    anonymous = Client()
    for _ in range(2):  # the second round is answered from the kept fragments
        for_staff = html.unescape(staff.get("/staff/").text)
        for_patient = html.unescape(patient.get("/patient/").text)
        for_anonymous = html.unescape(anonymous.get("/").text)

        assert '<span class="nhsuk-header__service-name">Vårdkontakt för vårdpersonal</span>' in for_staff
        assert 'rel="manifest"' not in for_staff  # the staff side is no installable app
        assert 'class="nhsuk-header__service-logo" href="/home/"' in for_staff  # home sends each to their side
        assert personas.nurse.full_name in header(for_staff)
        assert personas.tolvan.full_name not in for_staff

        assert '<span class="nhsuk-header__service-name">Vårdkontakt</span>' in for_patient
        assert 'rel="manifest"' in for_patient
        assert 'class="nhsuk-header__service-logo" href="/home/"' in for_patient
        assert personas.tolvan.full_name in header(for_patient)
        assert personas.nurse.full_name not in for_patient

        assert 'class="nhsuk-header__service-logo" href="/"' in for_anonymous
        assert 'rel="manifest"' in for_anonymous
        assert "Logga in" in header(for_anonymous) and "Logga ut" not in header(for_anonymous)
    # What is kept names nobody and holds no token or path of anyone's.
    kept = kept_text()
    assert kept and "csrfmiddlewaretoken" not in kept and 'name="next"' not in kept
    assert personas.tolvan.full_name not in kept and personas.nurse.full_name not in kept


def test_the_kept_header_and_footer_follow_the_language_switch(personas):
    patient = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    swedish = html.unescape(patient.get("/patient/").text)
    assert "Hoppa till huvudinnehållet" in swedish and "Tillgänglighetsredogörelse" in swedish
    patient.post("/i18n/setlang/", {"language": "en", "next": "/patient/"})
    english = html.unescape(patient.get("/patient/").text)
    assert '<html lang="en">' in english
    assert "Skip to main content" in english and "Accessibility statement" in english
    assert "Hoppa till huvudinnehållet" not in english
    assert 'value="sv" lang="sv">På svenska</button>' in english  # the switch itself stays live
    patient.post("/i18n/setlang/", {"language": "sv", "next": "/patient/"})
    assert "Hoppa till huvudinnehållet" in html.unescape(patient.get("/patient/").text)


def test_the_footer_shows_new_support_hours_at_once(personas):
    """The hours are an argument of the footer's fragment: new hours, a new fragment."""
    client = Client()
    assert "vardagar 06–22" in html.unescape(client.get("/").text)
    region = Region.objects.get()
    region.support_opens, region.support_closes = dt.time(7, 30), dt.time(20, 0)
    region.save()
    body = html.unescape(client.get("/").text)
    assert "vardagar 07:30–20" in body and "vardagar 06–22" not in body
