from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from vardkontakt.booking.models import Booking
from vardkontakt.cases.models import Case
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.identity.numbers import normalise_hsa_id, normalise_personnummer
from vardkontakt.organisation.models import Administration, CareUnit, Listing, Membership, MembershipRole, RegionRole

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


def test_tolvan_and_the_family_are_there_with_the_right_ages(personas):
    today = timezone.localdate()

    def age(patient: Patient) -> int:
        born = patient.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    assert personas.tolvan.full_name == "Tolvan Tolvansson"
    assert age(personas.child_9) == 9
    assert age(personas.child_14) == 14
    assert age(personas.guardian) >= 18
    elderly = Patient.objects.get(given_name="Gunnel")
    assert age(elderly) >= 80


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


def test_the_children_keep_their_ages_on_any_day(db):
    """The family is built relative to today, so the 13-year rule stays testable every year."""
    import time_machine

    for day in [dt.date(2027, 1, 1), dt.date(2030, 6, 15)]:
        with time_machine.travel(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC), tick=False):
            Case.objects.all().delete()  # cases protect their patients, as medical documentation must
            Booking.objects.all().delete()  # and so do bookings
            Patient.objects.all().delete()
            call_command("load_demo", verbosity=0)
            liam = Patient.objects.get(given_name="Liam")
            assert day.year - liam.birth_date.year in (9, 10)


def test_the_demo_cases_are_created_once(demo_region):
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)
    assert Case.objects.count() == 2
    assert Case.objects.filter(created_by__given_name="Maria", patient__given_name="Gunnel").exists()
    from vardkontakt.records.models import LabResult, RecordNote

    assert RecordNote.objects.filter(patient__personnummer="191212121212").count() == 3
    assert LabResult.objects.filter(analysis="P-Glukos").count() == 3
