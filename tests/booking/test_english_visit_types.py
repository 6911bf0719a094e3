"""Issue 16 item 25 for the appointment book: a visit type's name has an English version the unit may
write in its booking set-up. English readers see it on every booking page and in the .ics file;
where the unit wrote none they see the Swedish name, marked lang="sv" on the page (plain in the
.ics, which has no mark-up). Swedish readers always see the Swedish name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client

from tests.booking.helpers import clock_at, online_visit, setup_url, staff_client, weekly_block  # noqa: F401 (fixture: visit)
from tests.helpers import login_as
from vardkontakt.booking.models import Booking, BookingSettings, Slot, VisitType
from vardkontakt.booking.schedule import slots_generate
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import User
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)  # a Wednesday

clock = clock_at(NOW)


@pytest.fixture
def unit(personas) -> CareUnit:
    unit = personas.staff_x.memberships.get().unit
    BookingSettings.objects.create(unit=unit)
    return unit


@pytest.fixture
def slot(unit, visit, personas) -> Slot:
    weekly_block(unit, personas.staff_x, visit, weekday=3, end=dt.time(10))
    slots_generate(unit, today=NOW.date())
    return Slot.objects.filter(unit=unit).order_by("starts_at")[0]


def resident(personas, language: str) -> Client:
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def visit_form(**changes: str) -> dict[str, str | list[str]]:
    return {
        "name": "Hälsosamtal",
        "duration_minutes": "30",
        "professions": ["nurse", "district_nurse"],
        "bookable_online": "on",
        "rebookable_online": "on",
        "cancellation_deadline_hours": "24",
        "active": "on",
        **changes,
    }


def pages_of_a_booking(client: Client, unit: CareUnit, visit: VisitType, slot: Slot) -> dict[str, str]:
    """Every booking page that names the visit, in the client's language, booking the slot on the way."""
    pages = {
        "types": client.get(f"/bookings/book/{unit.pk}/").text,
        "times": client.get(f"/bookings/book/{unit.pk}/{visit.pk}/").text,
        "confirm": client.get(f"/bookings/book/{unit.pk}/slot/{slot.pk}/").text,
    }
    answer = client.post(f"/bookings/book/{unit.pk}/slot/{slot.pk}/", {"submission_key": "k1"})
    assert answer.status_code == 302
    booking = Booking.objects.get()
    pages["detail"] = client.get(f"/bookings/{booking.pk}/").text
    pages["mine"] = client.get("/bookings/").text
    pages["cancel"] = client.get(f"/bookings/{booking.pk}/cancel/").text
    pages["ics"] = client.get(f"/bookings/{booking.pk}/calendar.ics").content.decode().replace("\r\n ", "")
    return pages


def test_the_unit_writes_the_english_name_in_its_set_up(personas, unit, visit):
    admin = staff_client(personas.unit_admin)
    edit = setup_url(unit, f"visit-types/{visit.pk}/")
    assert 'name="name_en"' in admin.get(edit).text
    assert admin.post(edit, visit_form(name_en="  Health   check ")).status_code == 302
    visit.refresh_from_db()
    assert visit.name_en == "Health check"
    assert admin.post(setup_url(unit, "visit-types/new/"), visit_form(name="Vaccination", name_en="Vaccination"))
    assert VisitType.objects.get(unit=unit, name="Vaccination").name_en == "Vaccination"


def test_a_too_long_english_name_is_refused_in_words_and_nothing_is_saved(personas, unit, visit):
    admin = staff_client(personas.unit_admin)
    edit = setup_url(unit, f"visit-types/{visit.pk}/")
    refused = admin.post(edit, visit_form(name="Nytt namn", name_en="x" * 121))
    assert refused.status_code == 400
    assert "som mest 120 tecken" in refused.text  # Django's message, in Swedish (the first language)
    visit.refresh_from_db()
    assert (visit.name, visit.name_en) == ("Hälsosamtal", "")
    new = admin.post(setup_url(unit, "visit-types/new/"), visit_form(name="Vaccination", name_en="x" * 121))
    assert new.status_code == 400 and not VisitType.objects.filter(name="Vaccination").exists()


def test_english_readers_see_the_units_english_name_everywhere(personas, unit, visit, slot):
    VisitType.objects.filter(pk=visit.pk).update(name_en="Health check")
    pages = pages_of_a_booking(resident(personas, "en"), unit, visit, slot)
    for name, page in pages.items():
        if name == "ics":
            continue
        assert "Health check" in page, name
        assert "Hälsosamtal" not in page.split("<main", 1)[1], name
    assert "<h1>Health check</h1>" in pages["times"] and "<h1>Health check</h1>" in pages["detail"]
    assert "<title>Health check –" in pages["times"]
    assert "SUMMARY:Health check at Vårdcentralen Lindängen" in pages["ics"]
    assert "Hälsosamtal" not in pages["ics"]


def test_without_english_the_swedish_name_is_marked_swedish(personas, unit, visit, slot):
    pages = pages_of_a_booking(resident(personas, "en"), unit, visit, slot)
    marked = '<span lang="sv">Hälsosamtal</span>'
    for name in ("types", "times", "confirm", "detail", "mine", "cancel"):
        assert marked in pages[name], name
    assert f"<h1>{marked}</h1>" in pages["detail"]
    assert "<title>Hälsosamtal –" in pages["times"]  # a title holds no mark-up
    # The calendar file is plain text: the Swedish name in an English sentence, no mark-up.
    assert "SUMMARY:Hälsosamtal at Vårdcentralen Lindängen" in pages["ics"]
    assert "<span" not in pages["ics"]


def test_swedish_readers_always_see_the_swedish_name(personas, unit, visit, slot):
    VisitType.objects.filter(pk=visit.pk).update(name_en="Health check")
    pages = pages_of_a_booking(resident(personas, "sv"), unit, visit, slot)
    for name, page in pages.items():
        assert "Hälsosamtal" in page, name
        assert "Health check" not in page, name
        assert 'lang="sv">' not in page.split("<main", 1)[-1], name
    assert "SUMMARY:Hälsosamtal på Vårdcentralen Lindängen" in pages["ics"]


def test_the_name_inside_a_sentence_is_marked_not_escaped(personas, unit, visit, slot):
    """The at-limit and not-movable notices quote the visit type in a translated sentence."""
    VisitType.objects.filter(pk=visit.pk).update(rebookable_online=False, cancellation_deadline_hours=0)
    pages = pages_of_a_booking(resident(personas, "en"), unit, visit, slot)
    assert 'does not let patients move “<span lang="sv">Hälsosamtal</span>” online' in pages["detail"]
    at_limit = resident(personas, "en").get(f"/bookings/book/{unit.pk}/{visit.pk}/").text
    assert 'coming appointment of “<span lang="sv">Hälsosamtal</span>” booked online' in at_limit
    assert "&lt;span" not in pages["detail"] + at_limit
