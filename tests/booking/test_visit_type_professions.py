"""Issue 16 §4: a visit type states the professions that may hold it, and the weekly schedule keeps
to it — at Kärnan a nurse held "Läkarbesök" and a receptionist held nurse visits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from tests.booking.helpers import (
    block_form,
    clock_at,
    setup_url,
    staff_client,
    sv,
    text_of,
    weekly_block,
)
from vardkontakt.booking.models import ScheduleTemplate, Slot, VisitType
from vardkontakt.booking.schedule import slots_generate
from vardkontakt.booking.staff_services import schedule_template_create, visit_type_update
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)  # a Wednesday, before the Christmas days off


clock = clock_at(NOW)


@pytest.fixture
def doctor_visit(unit) -> VisitType:
    return VisitType.objects.create(unit=unit, name="Läkarbesök", duration_minutes=20, professions=["doctor"])


def admin_client(personas) -> Client:
    return staff_client(personas.unit_admin)


def block(practitioner: Staff, visit: VisitType, **changes: str) -> dict[str, str]:
    """A Monday block in Rum 5."""
    return block_form(practitioner, visit, **{"weekday": "0", "place": "Rum 5", **changes})


def refusal(practitioner: Staff, visit: VisitType, professions: str) -> str:
    return sv("%(name)s (%(profession)s) may not hold “%(visit)s”. Professions that may: %(professions)s.") % {
        "name": practitioner.full_name,
        "profession": sv(practitioner.get_profession_display()),
        "visit": visit.name,
        "professions": professions,
    }


def test_the_weekly_block_form_refuses_a_profession_the_visit_type_does_not_name(personas, unit, doctor_visit):
    response = admin_client(personas).post(setup_url(unit, "blocks/new/"), block(personas.staff_x, doctor_visit))
    assert response.status_code == 400
    assert refusal(personas.staff_x, doctor_visit, sv("doctor")) in text_of(response)
    assert not ScheduleTemplate.objects.exists()
    # The doctor may.
    assert (
        admin_client(personas)
        .post(setup_url(unit, "blocks/new/"), block(personas.unit_admin, doctor_visit))
        .status_code
        == 302
    )
    assert ScheduleTemplate.objects.get().practitioner == personas.unit_admin


def test_the_service_refuses_it_too(personas, unit, doctor_visit):
    with pytest.raises(ValidationError) as refused:
        schedule_template_create(
            unit=unit,
            by=personas.unit_admin,
            practitioner=personas.staff_x,
            visit_type=doctor_visit,
            weekday=0,
            start_time=dt.time(9),
            end_time=dt.time(11),
            place="Rum 5",
            channel="online",
            held_back="",
        )
    assert "practitioner" in refused.value.message_dict
    assert not ScheduleTemplate.objects.exists()


def test_a_visit_type_names_one_or_more_professions(personas, unit):
    admin = admin_client(personas)
    url = setup_url(unit, "visit-types/new/")
    form = {"name": "Hälsosamtal", "duration_minutes": "30", "cancellation_deadline_hours": "24", "active": "on"}
    none = admin.post(url, form)
    assert none.status_code == 400
    assert sv("Choose at least one profession that may hold the visit.") in text_of(none)
    made_up = admin.post(url, {**form, "professions": ["wizard"]})
    assert made_up.status_code == 400
    assert not VisitType.objects.filter(unit=unit).exists()
    assert admin.post(url, {**form, "professions": ["nurse", "district_nurse"]}).status_code == 302
    assert VisitType.objects.get(unit=unit).professions == ["nurse", "district_nurse"]
    page = text_of(admin.get(setup_url(unit)))
    held_by = sv("%(first)s or %(last)s") % {"first": sv("nurse"), "last": sv("district nurse")}
    assert held_by[0].upper() + held_by[1:] in page


def test_a_profession_still_holding_blocks_cannot_be_taken_off_the_visit_type(personas, unit):
    visit = VisitType.objects.create(
        unit=unit, name="Mottagningsbesök", duration_minutes=20, professions=["doctor", "district_nurse"]
    )
    weekly_block(unit, personas.staff_x, visit, weekday=2, start=dt.time(13), end=dt.time(15), place="Rum 2")
    with translation.override("sv"), pytest.raises(ValidationError) as refused:
        visit_type_update(
            visit_type=visit,
            by=personas.unit_admin,
            name=visit.name,
            duration_minutes=20,
            professions=["doctor"],
            bookable_online=False,
            rebookable_online=False,
            cancellation_deadline_hours=24,
            active=True,
        )
    message = refused.value.message_dict["professions"][0]
    assert personas.staff_x.full_name in message and "onsdag 13:00–15:00" in message
    visit.refresh_from_db()
    assert visit.professions == ["doctor", "district_nurse"]


def test_a_block_whose_practitioner_no_longer_fits_makes_no_times_and_is_marked(personas, unit, doctor_visit):
    weekly_block(unit, personas.unit_admin, doctor_visit, weekday=0, end=dt.time(10), place="Rum 5")
    Staff.objects.filter(pk=personas.unit_admin.pk).update(profession=Profession.NURSE)  # a changed profession
    assert slots_generate(unit, today=NOW.date()).created == 0
    assert not Slot.objects.exists()
    page = text_of(admin_client(personas).get(setup_url(unit)))
    assert sv("May not hold this visit type: no new times") in page


def test_the_demo_gives_each_visit_type_to_a_profession_that_may_hold_it(demo_region):
    call_command("load_demo", verbosity=0)
    blocks = list(ScheduleTemplate.objects.select_related("unit", "practitioner", "visit_type"))
    assert blocks
    assert [(b.unit.name, b.visit_type.name, b.practitioner.profession) for b in blocks if not b.fits] == []
    karnan = {b.visit_type.name: b.practitioner.profession for b in blocks if b.unit.name == "Vårdcentralen Kärnan"}
    assert karnan == {"Läkarbesök": Profession.DOCTOR, "Hälsosamtal med sjuksköterska": Profession.NURSE}
    assert not Slot.objects.filter(visit_type__name="Läkarbesök").exclude(practitioner__profession="doctor").exists()


def test_loading_the_demo_again_takes_out_a_block_given_to_the_wrong_profession(demo_region):
    call_command("load_demo", verbosity=0)
    karnan = CareUnit.objects.get(name="Vårdcentralen Kärnan")
    doctor_visit = VisitType.objects.get(unit=karnan, name="Läkarbesök")
    receptionist = Staff.objects.filter(memberships__unit=karnan, profession=Profession.RECEPTIONIST).first()
    assert receptionist is not None
    # As an earlier demo left it: someone who is not a doctor holding doctor visits, with free times.
    wrong = weekly_block(karnan, receptionist, doctor_visit, weekday=5, end=dt.time(10), place="Rum 5")
    start = dt.datetime(2026, 12, 5, 9, tzinfo=STOCKHOLM)
    Slot.objects.create(
        unit=karnan,
        practitioner=receptionist,
        visit_type=doctor_visit,
        template=wrong,
        place="Rum 5",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=20),
    )
    call_command("load_demo", verbosity=0)
    assert not ScheduleTemplate.objects.filter(pk=wrong.pk).exists()
    assert not Slot.objects.filter(practitioner=receptionist).exists()
