"""One installation, two regions with their own rules: every rule is read from the patient's or
the unit's own region, never from "the first region" (ARCHITECTURE.md invariant 10).

Region Norr (invented) lets guardians act until 16 and residents read their own record from 16,
and publishes notes written from 2020; the demo's Region Skåne keeps the seed's 13, 18 and 2014.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from vardkontakt.access import policy
from vardkontakt.access.models import Guardianship
from vardkontakt.demo.demo_data import born, personnummer
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import Administration, CareUnit, Listing, Region, UnitKind
from vardkontakt.organisation.selectors import region_of_patient
from vardkontakt.records.models import RecordNote
from vardkontakt.records.publishing import published_notes, rules_of

pytestmark = pytest.mark.django_db
_serials = itertools.count(500)


@pytest.fixture
def norr(personas) -> CareUnit:
    region = Region.objects.create(name="Region Norr", guardian_access_until_age=16, own_record_from_age=16)
    rules = rules_of(region)
    rules.notes_from = dt.date(2020, 1, 1)
    rules.save(update_fields=["notes_from"])
    administration = Administration.objects.create(region=region, name="Primärvård Norr")
    return CareUnit.objects.create(
        administration=administration,
        hsa_id="SE2321000255-N0001",
        name="Hälsocentralen Norrby",
        kind=UnitKind.PRIMARY_CARE,
        street_address="Storgatan 1",
        postal_code="90100",
        city="Norrby",
        phone="090-100 00 00",
        opening_hours="Vardagar 8–17",
    )


def resident(years: int, *, listed_at: CareUnit | None, given: str) -> Patient:
    number = personnummer(born(timezone.localdate(), years=years, birthday_days_ago=30), next(_serials))
    patient = Patient.objects.create(personnummer=number, given_name=given, family_name="Regionsson")
    if listed_at is not None:
        Listing.objects.create(patient=patient, unit=listed_at, since=timezone.localdate())
    return patient


def skane_unit() -> CareUnit:
    return CareUnit.objects.filter(administration__region__name="Region Skåne", kind=UnitKind.PRIMARY_CARE)[0]


def test_a_resident_belongs_to_the_region_of_the_unit_they_are_listed_at(norr, personas):
    assert region_of_patient(resident(30, listed_at=norr, given="Nora")) == norr.administration.region
    assert region_of_patient(personas.tolvan) == Region.objects.get(name="Region Skåne")
    # Listed nowhere, on an installation of two regions: no region, so the law's defaults apply.
    assert region_of_patient(resident(30, listed_at=None, given="Ingen")) is None


def test_a_guardian_acts_for_a_14_year_old_in_norr_but_not_in_skane(norr, personas):
    guardian = resident(45, listed_at=norr, given="Greta")
    in_norr = resident(14, listed_at=norr, given="Nils")
    in_skane = resident(14, listed_at=skane_unit(), given="Siri")
    for child in (in_norr, in_skane):
        Guardianship.objects.create(guardian=guardian, child=child, imported_at=timezone.now())
    assert policy.representation(guardian, in_norr) is not None
    assert policy.representation(guardian, in_skane) is None
    assert [r.subject for r in policy.representations(guardian)] == [guardian, in_norr]
    assert policy.children_past_guardian_access(guardian) == 1  # Siri, by Skåne's 13


def test_a_16_year_old_reads_their_own_record_in_norr_but_not_in_skane(norr, personas):
    in_norr = resident(16, listed_at=norr, given="Nea")
    in_skane = resident(16, listed_at=skane_unit(), given="Sam")
    assert policy.can_read_record(in_norr, in_norr)
    assert not policy.can_read_record(in_skane, in_skane)
    unlisted = resident(16, listed_at=None, given="Ulla")
    assert not policy.can_read_record(unlisted, unlisted)  # the seed's 18


def test_each_note_follows_the_publishing_date_of_its_own_units_region(norr, personas):
    patient = resident(40, listed_at=norr, given="Nils")
    written = dt.date(2016, 5, 10)  # after Skåne's 2014-09-01, before Norr's 2020-01-01
    for unit, source_id in [(norr, "norr-1"), (skane_unit(), "skane-1")]:
        RecordNote.objects.create(
            patient=patient,
            unit=unit,
            source_system="test",
            source_id=source_id,
            author_name="Doktor Exempel",
            author_profession="doctor",
            written_on=written,
            template="Besöksanteckning",
            signed=True,
            text="Kontroll.",
            received_at=timezone.now() - dt.timedelta(days=30),
        )
    published = published_notes(patient)
    assert [note.source_id for note in published.notes] == ["skane-1"]
    assert published.withheld is True  # and the page says that something is not shown


def test_one_region_alone_keeps_its_rules_for_residents_listed_nowhere(personas):
    region = Region.objects.get()
    region.guardian_access_until_age = 15
    region.save(update_fields=["guardian_access_until_age"])
    unlisted = resident(14, listed_at=None, given="Ellen")
    assert policy.age_rules(unlisted).guardian_access_until == 15
