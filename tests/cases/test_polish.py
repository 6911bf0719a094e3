"""Issue 16 item 27 on the case pages: the inbox shows the patient's age and when a case came,
"Öppnat av" says once who opened a case again and again, date questions refuse dates that make no
sense, and a missing answer names its question."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.questions import build_form
from vardkontakt.cases.services import service_activate
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_x(personas) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(personas.staff_x))


def test_the_inbox_shows_the_patients_age_and_when_the_case_came(staff_x, tolvans_case, personas):
    received = timezone.localtime(tolvans_case.received_at, STOCKHOLM)
    page = staff_x.get(f"/staff/units/{tolvans_case.unit_id}/inbox/").text
    born = personas.tolvan.birth_date
    today = timezone.localdate()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert '<th scope="col" class="nhsuk-table__header">Ålder</th>' in page
    assert f'<td class="nhsuk-table__cell">{age}</td>' in page
    months = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
    assert f"inkom {received.day} {months[received.month - 1]} {received:%H:%M}" in page


def test_opened_by_says_once_who_opened_the_case_again_and_again(staff_x, tolvans_case, personas):
    url = f"/staff/cases/{tolvans_case.id}/"
    for _ in range(3):
        staff_x.get(url)
    other = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    other.get(url)
    page = staff_x.get(url).text
    opened = page.split("<h2>Öppnat av</h2>")[1].split("</ul>")[0]
    assert opened.count("<li>") == 3  # staff X now; the unit admin; staff X three times before
    assert opened.count(personas.staff_x.full_name) == 2
    assert "3 gånger, första" in opened


def test_a_date_question_refuses_a_date_on_the_wrong_side_of_today(personas, unit_x):
    results = service_activate(unit=unit_x, kind=ServiceKind.TEST_RESULTS, by=personas.unit_admin)
    rebook = service_activate(unit=unit_x, kind=ServiceKind.CANCEL_REBOOK, by=personas.unit_admin)
    with time_machine.travel(dt.datetime(2027, 3, 28, 23, 30, tzinfo=STOCKHOLM), tick=False):  # a DST night
        today = timezone.localdate()
        tomorrow, yesterday = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
        taken = build_form(results.questions, {"taken_on": tomorrow.isoformat(), "what": "Provsvar?"})
        assert not taken.is_valid()
        assert taken.errors["taken_on"] == ["Datumet för ”När togs provet eller röntgen?” kan inte ligga i framtiden."]
        assert build_form(results.questions, {"taken_on": today.isoformat(), "what": "Provsvar?"}).is_valid()
        assert f'max="{today.isoformat()}"' in str(build_form(results.questions)["taken_on"])
        moved = build_form(rebook.questions, {"booked_on": yesterday.isoformat()})
        assert "kan inte ha passerat" in moved.errors["booked_on"][0]
        assert f'min="{today.isoformat()}"' in str(build_form(rebook.questions)["booked_on"])


def test_a_missing_answer_names_its_question(personas, advice):
    form = build_form(advice.questions, {})
    assert not form.is_valid()
    label = advice.questions[0]["label"]
    assert form.errors[advice.questions[0]["key"]] == [f"Svara på frågan ”{label}”."]


def test_a_long_text_answer_counts_its_characters(personas, advice):
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    page = client.get(f"/cases/new/{advice.unit_id}/{advice.id}/").text
    assert 'data-module="nhsuk-character-count" data-maxlength="5000"' in page
    assert "Du kan skriva upp till 5000 tecken" in page
    assert 'data-i18n.characters-under-limit.other="Du har %{count} tecken kvar"' in page


def test_an_optional_field_says_so(personas):
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    page = client.get("/proxies/new/").text
    assert 'Gäller till och med <span class="nhsuk-u-font-weight-normal">(frivilligt)</span>' in page
