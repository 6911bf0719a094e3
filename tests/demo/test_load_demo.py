from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access.policy import age_on
from vardkontakt.booking.models import VisitType
from vardkontakt.cases.models import Case
from vardkontakt.demo.demo_data import named_people
from vardkontakt.fees.models import FeeKind, FeeSchedule
from vardkontakt.fees.selectors import fee_quote
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.identity.numbers import normalise_hsa_id, normalise_personnummer
from vardkontakt.organisation.models import (
    Administration,
    CareUnit,
    Listing,
    Membership,
    MembershipRole,
    RegionRole,
    UnitKind,
)

pytestmark = pytest.mark.django_db


def counts() -> list[int]:
    models = [Administration, CareUnit, Patient, Staff, Listing, Membership, RegionRole]
    return [model._default_manager.count() for model in models]


def test_it_builds_the_demo_region_and_a_second_run_changes_nothing(demo_region):
    first = counts()
    call_command("load_demo", verbosity=0)
    assert counts() == first
    administrations, units, patients, staff = first[:4]
    assert administrations == 5
    assert 10 <= units <= 14
    assert 45 <= patients <= 55
    assert 25 <= staff <= 35


def test_the_administrations_are_the_seeds(demo_region):
    assert set(Administration.objects.values_list("name", flat=True)) == {
        "Skånevård Sund",
        "Skånevård Kryh",
        "Skånes universitetssjukvård",
        "Habilitering och hjälpmedel",
        "Privata vårdgivare",
    }


def test_every_identity_number_and_hsa_id_is_valid(demo_region):
    for number in Patient.objects.values_list("personnummer", flat=True):
        assert normalise_personnummer(number) == number
    for hsa_id in [*Staff.objects.values_list("hsa_id", flat=True), *CareUnit.objects.values_list("hsa_id", flat=True)]:
        assert normalise_hsa_id(hsa_id) == hsa_id


AGES = {"Liam": 9, "Saga": 14, "Elsa": 7, "Noah": 6, "Anna": 41, "Gunnel": 86}


def ages_today() -> dict[str, int]:
    now = timezone.now()
    return {
        patient.given_name: age_on(patient.birth_date, now)
        for patient in Patient.objects.filter(given_name__in=AGES, family_name__in=FAMILIES)
    }


FAMILIES = ["Föräldersson", "Blockesson", "Skyddad", "Omsorgsdotter"]


def test_tolvan_and_the_family_are_there_with_the_right_ages(personas):
    assert personas.tolvan.full_name == "Tolvan Tolvansson"
    assert ages_today() == AGES


def test_units_have_varied_kinds_contact_information_and_administrators(demo_region):
    units = list(CareUnit.objects.all())
    assert len({unit.kind for unit in units}) >= 6
    assert all(unit.has_contact_information for unit in units)
    for unit in units:
        assert unit.memberships.filter(role=MembershipRole.UNIT_ADMIN).exists()


def test_staff_have_several_professions_and_region_roles_exist(demo_region):
    assert Staff.objects.values("profession").distinct().count() >= 5
    assert set(RegionRole.objects.values_list("role", flat=True)) == {"region_admin", "archivist", "support"}
    assert all(a.coordinators.exists() for a in Administration.objects.all())


def test_loading_again_is_seen_by_the_logged_in_at_their_next_request(demo_region):
    """A person logged in while the demo is loaded again is not shown their row as it was. The
    load's direct updates (a profession, a protected identity) send no signal of their own; the
    same rows' saves earlier in its transaction do, and their forgetting again at the commit
    covers the updates too (identity/user_cache.py)."""
    from vardkontakt.identity import user_cache
    from vardkontakt.identity.models import Profession

    region_admin = RegionRole.objects.get(role="region_admin").staff
    admin_user = User.objects.get_or_create_for_staff(region_admin)
    protected = Patient.objects.get(given_name="Noah", family_name="Skyddad")
    protected_user = User.objects.get_or_create_for_patient(protected)
    # Changed since the demo was loaded (as a catalogue import or a support case might), then cached.
    Staff.objects.filter(pk=region_admin.pk).update(profession=Profession.NURSE)
    Patient.objects.filter(pk=protected.pk).update(protected_identity=False)
    user_cache.user_forget([admin_user.pk, protected_user.pk])

    def seen() -> tuple[str, bool]:
        """The profession and the protection as the next request of each would see them."""
        admin, child = user_cache.user_for_session(admin_user.pk), user_cache.user_for_session(protected_user.pk)
        assert admin is not None and admin.staff is not None and child is not None and child.patient is not None
        return admin.staff.profession, child.patient.protected_identity

    assert seen() == (Profession.NURSE, False)  # the changed rows, cached
    call_command("load_demo", "--no-activity", verbosity=0)
    assert seen() == (Profession.ADMINISTRATOR, True)


def test_the_named_people_have_their_ages_on_every_day_of_eight_years():
    """The pure part of the rule, day by day (leap days and year ends included); the loads below
    check that the database follows it when the demo is loaded again."""
    start = dt.date(2026, 1, 1)
    for offset in range(8 * 366):
        today = start + dt.timedelta(days=offset)
        noon = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
        ages = {}
        for person in named_people(today):
            if person.given_name in AGES:
                number = person.personnummer
                born_on = dt.date(int(number[:4]), int(number[4:6]), int(number[6:8]))
                ages[person.given_name] = age_on(born_on, noon)
        assert ages == AGES, today


# Each load takes seconds: a day later, a year later across a leap day, and far ahead.
@pytest.mark.parametrize("days_ahead", [1, 366, 1000], ids=lambda days: f"loaded-again-{days}-days-later")
def test_the_demo_keeps_its_ages_when_loaded_again_on_a_later_day(db, days_ahead):
    """The family is built relative to the day of loading, so the 13-year rule stays testable
    every year; loading again later moves the personas' birth dates instead of adding twins."""
    call_command("load_demo", verbosity=0)
    first = counts()
    later = timezone.now() + dt.timedelta(days=days_ahead)
    with time_machine.travel(later, tick=False):
        call_command("load_demo", verbosity=0)
        assert ages_today() == AGES
        assert counts() == first
        liam = Patient.objects.get(given_name="Liam", family_name="Föräldersson")
        assert liam.user is None or liam.user.login_key == f"patient:{liam.personnummer}"


@pytest.mark.parametrize("day", ["2028-02-29", "2031-01-01"])
def test_the_ages_hold_on_leap_days_and_year_ends(db, day):
    moment = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        call_command("load_demo", "--no-activity", verbosity=0)
        assert ages_today() == AGES


def test_the_demo_cases_are_created_once(demo_region):
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)
    assert Case.objects.count() == 2
    assert Case.objects.filter(created_by__given_name="Maria", patient__given_name="Gunnel").exists()
    from vardkontakt.records.models import LabResult, RecordNote

    assert RecordNote.objects.filter(patient__personnummer="191212121212").count() == 3
    assert LabResult.objects.filter(analysis="P-Glukos").count() == 3


# --- only ever in a demo installation ----------------------------------------------------------


def test_it_refuses_a_database_that_is_not_a_demo_installation(db):
    from django.core.management.base import CommandError

    from vardkontakt.demo.models import DemoInstallation
    from vardkontakt.organisation.models import Region

    Region.objects.create(name="Region Verklig")
    with pytest.raises(CommandError, match="not a demo installation"):
        call_command("load_demo", "--no-activity", verbosity=0)
    assert not DemoInstallation.objects.exists()
    assert not Patient.objects.exists() and not CareUnit.objects.exists()


def test_it_refuses_to_run_outside_the_demo_configuration(db, settings):
    from django.core.management.base import CommandError

    settings.DEMO = False
    with pytest.raises(CommandError, match="VK_DEMO=true"):
        call_command("load_demo", "--no-activity", verbosity=0)
    assert not Patient.objects.exists()


def test_it_marks_an_empty_database_and_builds_in_it_again(demo_region):
    from vardkontakt.demo.models import DemoInstallation

    assert DemoInstallation.objects.count() == 1
    call_command("load_demo", "--no-activity", verbosity=0)
    assert DemoInstallation.objects.count() == 1


def test_demo_hsa_ids_carry_no_real_organisations_number(demo_region):
    """Organisation numbers start with the legal form's group, 1 to 9: a 0 belongs to nobody."""
    numbers = {
        hsa[2:12]
        for hsa in [*CareUnit.objects.values_list("hsa_id", flat=True), *Staff.objects.values_list("hsa_id", flat=True)]
    }
    assert numbers and all(number.startswith("0") for number in numbers)
    assert "2321000255" not in numbers  # Region Skåne's


def test_the_served_demo_is_the_demo_and_never_debug(monkeypatch, demo_region):
    """make demo runs serve_demo: its web server and worker run with VK_DEMO and without DEBUG, so
    a 404 or 403 is the service's own page, never Django's debug page."""
    import subprocess

    from vardkontakt.demo.management.commands import serve_demo

    started: list[tuple[list[str], dict[str, str]]] = []

    class Finished:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            started.append((command, env))

        def poll(self) -> int:
            return 0

        def wait(self, timeout: float) -> int:
            return 0

    monkeypatch.setenv("DJANGO_DEBUG", "true")
    monkeypatch.setattr(subprocess, "Popen", Finished)
    with pytest.raises(SystemExit):
        call_command("serve_demo")
    assert len(started) == 2
    for _command, env in started:
        assert (env["VK_DEMO"], env["DJANGO_DEBUG"]) == ("true", "false")
    # The web server is uvicorn with the ASGI application: the video visits' WebSockets work in the demo.
    assert any("uvicorn" in command and "vardkontakt.asgi:application" in command for command, _env in started)
    assert serve_demo.subprocess is subprocess


def test_the_demo_region_charges_its_fee_schedule_on_the_doctors_visit(demo_region):
    """Issue 19 §1: the demo region's fees are in force from 1 January; its doctor's visit is
    charged from the schedule (200 kronor in primary care, 300 at a specialist clinic), free by age
    for a child and for someone past 85, and the missed-visit fee does not count."""
    call_command("load_demo", verbosity=0)
    today = timezone.localdate()
    assert set(FeeSchedule.objects.values_list("effective_from", flat=True)) == {dt.date(today.year, 1, 1)}
    visit = VisitType.objects.filter(name="Läkarbesök").select_related("unit").first()
    assert visit is not None and visit.fee_kind == FeeKind.DOCTOR
    primary = visit.unit
    assert primary.kind == UnitKind.PRIMARY_CARE
    specialist = CareUnit.objects.filter(kind=UnitKind.SPECIALIST_CLINIC).first()
    assert specialist is not None
    people = {p.given_name: p for p in Patient.objects.filter(given_name__in=["Anna", "Liam", "Gunnel"])}
    assert fee_quote(patient=people["Anna"], unit=primary, kind=FeeKind.DOCTOR, day=today).amount == Decimal(200)
    assert fee_quote(patient=people["Anna"], unit=specialist, kind=FeeKind.DOCTOR, day=today).amount == Decimal(300)
    for free in ("Liam", "Gunnel"):
        assert fee_quote(patient=people[free], unit=primary, kind=FeeKind.DOCTOR, day=today).age_exempt
    missed = FeeSchedule.objects.get(kind=FeeKind.MISSED_VISIT)
    assert (missed.amount, missed.counts_toward_ceiling) == (Decimal(400), False)
    anna = login_as(Client(), User.objects.get_or_create_for_patient(people["Anna"]))
    page = html.unescape(anna.get(f"/bookings/book/{primary.pk}/").content.decode())
    assert "200 kronor" in page
