"""Importing units and staff from the HSA catalogue (issue 15 §3; docs/hsa-import.md)."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation

from bench.hsa_extract import extract_rows, person_hsa_id, to_csv, unit_hsa_id
from tests.regions.helpers import client_of as client_in
from vardkontakt.access import policy
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.middleware import AUTHENTICATED_AT
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import CareUnit, Membership, Region, RegionRole, RegionRoleKind
from vardkontakt.regions import catalogue
from vardkontakt.regions.models import CatalogueImport

pytestmark = pytest.mark.django_db


def client_of(staff: Staff) -> Client:
    return client_in(staff, language="en")


ADMINISTRATION = "Skånevård Sund"


def small_extract(persons: int = 5, units: int = 2, **kwargs) -> str:
    return to_csv(
        extract_rows(persons, units=units, administration=ADMINISTRATION, today=timezone.localdate(), **kwargs)
    )


def upload(client: Client, region: Region, content: str, name: str = "hsa.csv"):
    file = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return client.post(f"/staff/regions/{region.id}/catalogue/", {"extract": file})


def apply_text(region: Region, content: str) -> dict[str, int]:
    stored = catalogue.upload(region=region, by=None, content=content, file_name="hsa.csv")
    return catalogue.apply(stored, by=None)


def test_a_preview_shows_what_would_change_and_applying_does_it_once(personas, region):
    admin = client_of(personas.region_admin)
    content = small_extract()
    response = upload(admin, region, content)
    assert response.status_code == 302
    preview = admin.get(response["Location"])
    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert (len(plan.units_added), len(plan.persons_added)) == (2, 5)
    assert "Importerad mottagning 0" in preview.content.decode()
    assert not CareUnit.objects.filter(hsa_id=unit_hsa_id(0)).exists()  # a preview changes nothing
    applied = admin.post(response["Location"])
    assert applied.status_code == 302
    unit = CareUnit.objects.get(hsa_id=unit_hsa_id(0))
    assert not unit.live  # taken live through onboarding
    assert Staff.objects.filter(hsa_id__startswith="SE2321000255-P9").count() == 5
    assert Membership.objects.filter(staff__hsa_id=person_hsa_id(0)).count() == 2  # every tenth: two units
    assert policy.is_member(Staff.objects.get(hsa_id=person_hsa_id(2)), unit)
    # Person 1 starts next month: known, but no access yet.
    starts_later = Staff.objects.get(hsa_id=person_hsa_id(1))
    assert not policy.is_member(starts_later, CareUnit.objects.get(hsa_id=unit_hsa_id(1)))
    entry = AuditEntry.objects.get(action="catalogue.import")
    assert "units_added 2" in entry.detail and "persons_added 5" in entry.detail
    # The same extract again: the preview shows nothing to change and applying it changes nothing.
    again = upload(admin, region, content)
    assert admin.get(again["Location"]).context["plan"].changes is False
    done = admin.post(again["Location"], follow=True)
    assert "nothing was changed" in done.content.decode()
    assert AuditEntry.objects.filter(action="catalogue.import").count() == 1
    assert CatalogueImport.objects.filter(applied_at__isnull=False).count() == 1
    # A double submit of the first (applied) preview changes nothing either.
    assert admin.post(response["Location"]).status_code == 302
    assert AuditEntry.objects.filter(action="catalogue.import").count() == 1


def test_json_is_read_as_csv_is(personas, region):
    document = {
        "units": [
            {
                "hsa_id": unit_hsa_id(7),
                "name": "JSON-mottagningen",
                "kind": "physiotherapy",
                "administration": ADMINISTRATION,
            }
        ],
        "persons": [
            {
                "hsa_id": person_hsa_id(70),
                "given_name": "Jo",
                "family_name": "Son",
                "profession": "nurse",
                "places": [{"unit_hsa_id": unit_hsa_id(7), "starts_on": None, "ends_on": None}],
            }
        ],
    }
    changed = apply_text(region, json.dumps(document))
    assert changed["units_added"] == 1 and changed["persons_added"] == 1
    assert Membership.objects.get(staff__hsa_id=person_hsa_id(70)).unit.name == "JSON-mottagningen"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("record,hsa_id\nunit,SE2321000255-E1\n", "columns missing"),
        (small_extract().replace("primary_care", "witchcraft"), "witchcraft is not a kind of unit"),
        (small_extract().replace("SE2321000255-P9000002", "P9000002"), "line"),
        (small_extract().replace(",nurse,", ",wizard,"), "wizard is not a profession"),
        (small_extract().replace(ADMINISTRATION, "Okänd förvaltning"), "no administration named"),
        ('{"units": 3}', "must be lists"),
        ("", "The submitted file is empty"),
    ],
    ids=["columns", "kind", "HSA-id", "profession", "administration", "JSON shape", "empty"],
)
def test_a_bad_extract_is_refused_whole_with_where_the_problem_is(personas, region, content, words):
    admin = client_of(personas.region_admin)
    before = (Staff.objects.count(), CareUnit.objects.count(), Membership.objects.count())
    response = upload(admin, region, content)
    if response.status_code == 302:  # read fine, refused when compared with the region
        response = admin.post(response["Location"])
    assert response.status_code == 400
    assert words in response.content.decode()
    assert (Staff.objects.count(), CareUnit.objects.count(), Membership.objects.count()) == before
    assert not AuditEntry.objects.filter(action="catalogue.import").exists()


def test_the_swedish_page_answers_in_swedish(personas, region):
    admin = client_of(personas.region_admin)
    admin.cookies["vk_language"] = "sv"
    response = upload(admin, region, small_extract().replace(",nurse,", ",wizard,"))
    assert response.status_code == 400
    assert "wizard är inget yrke" in response.content.decode()


def test_a_later_extract_changes_names_and_ends_a_place_it_no_longer_lists(personas, region):
    apply_text(region, small_extract())
    person = Staff.objects.get(hsa_id=person_hsa_id(0))
    second = small_extract().replace("Person0,", "Persson0,")
    rows = [line for line in second.splitlines() if not (person_hsa_id(0) in line and unit_hsa_id(1) in line)]
    stored = catalogue.upload(region=region, by=None, content="\n".join(rows) + "\n", file_name="b.csv")
    with translation.override("en"):
        plan = catalogue.preview(stored)
    assert [(staff.hsa_id, what) for staff, what in plan.persons_changed] == [
        (person_hsa_id(0), ["given_name", "left a unit"])
    ]
    catalogue.apply(stored, by=None)
    person.refresh_from_db()
    assert person.given_name == "Persson0"
    assert policy.is_member(person, CareUnit.objects.get(hsa_id=unit_hsa_id(0)))
    assert not policy.is_member(person, CareUnit.objects.get(hsa_id=unit_hsa_id(1)))


def test_a_person_whose_places_have_ended_is_counted_as_ended(personas, region):
    apply_text(region, small_extract())
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    lines = small_extract().splitlines()
    lines = [line + yesterday if person_hsa_id(2) in line else line for line in lines]
    stored = catalogue.upload(region=region, by=None, content="\n".join(lines) + "\n", file_name="c.csv")
    assert [s.hsa_id for s in catalogue.preview(stored).persons_ended] == [person_hsa_id(2)]
    catalogue.apply(stored, by=None)
    assert not policy.is_member(Staff.objects.get(hsa_id=person_hsa_id(2)), CareUnit.objects.get(hsa_id=unit_hsa_id(0)))


def test_the_nightly_job_ends_the_access_of_persons_missing_from_the_latest_extract(personas, region):
    today = timezone.localdate()
    apply_text(region, small_extract(persons=4))
    gone = Staff.objects.get(hsa_id=person_hsa_id(3))
    RegionRole.objects.create(region=region, staff=gone, role=RegionRoleKind.SUPPORT)
    apply_text(region, small_extract(persons=3))  # person 3 is no longer in the catalogue
    still_working = client_of(gone)  # logged in, and so kept in the user cache
    assert still_working.get("/staff/").status_code == 200
    at_night = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(2, 0)))
    with time_machine.travel(at_night, tick=False):
        assert catalogue.end_access_of_departed() == 1
        assert catalogue.end_access_of_departed() == 0  # once a night
        gone.refresh_from_db()
        assert gone.access_ended_at is not None
        assert not policy.is_support(gone)
        assert not Membership.objects.filter(staff=gone, ends_on__isnull=True).exists()
    assert AuditEntry.objects.filter(action="catalogue.access_end", detail=gone.hsa_id).count() == 1
    assert still_working.get("/staff/").status_code == 302  # the open session ended with the access
    # Those still listed, and staff never in an extract (added by hand), keep their access.
    assert Staff.objects.get(hsa_id=person_hsa_id(2)).access_ended_at is None
    personas.staff_x.refresh_from_db()
    assert personas.staff_x.access_ended_at is None


def test_the_job_waits_for_the_night_to_begin(personas, region):
    apply_text(region, small_extract(persons=2))
    apply_text(region, small_extract(persons=1))
    just_after_midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0, 30)))
    with time_machine.travel(just_after_midnight, tick=False):
        assert catalogue.end_access_of_departed() == 0


def test_the_command_previews_and_applies(personas, region, tmp_path):
    path = tmp_path / "hsa.csv"
    path.write_text(small_extract(), encoding="utf-8")
    out = io.StringIO()
    call_command("hsa_import", region.name, str(path), "--dry-run", stdout=out)
    assert "persons added: 5" in out.getvalue() and "Dry run" in out.getvalue()
    assert not Staff.objects.filter(hsa_id=person_hsa_id(0)).exists()
    call_command("hsa_import", region.name, str(path), stdout=io.StringIO())
    assert Staff.objects.filter(hsa_id=person_hsa_id(0)).exists()
    again = io.StringIO()
    call_command("hsa_import", region.name, str(path), stdout=again)
    assert "nothing was changed" in again.getvalue()
    path.write_text(small_extract().replace("primary_care", "witchcraft"), encoding="utf-8")
    with pytest.raises(CommandError, match="witchcraft"):
        call_command("hsa_import", region.name, str(path), stdout=io.StringIO())


def test_only_the_regions_administrators_import_and_only_after_a_fresh_login(personas, region):
    for who in (personas.unit_admin, personas.coordinator, personas.support):
        assert client_of(who).get(f"/staff/regions/{region.id}/catalogue/").status_code == 404
    admin = client_of(personas.region_admin)
    stored = catalogue.upload(region=region, by=None, content=small_extract(), file_name="x.csv")
    other = Region.objects.create(name="Region Annan")
    assert admin.get(f"/staff/regions/{other.id}/catalogue/{stored.id}/").status_code == 404
    session = admin.session
    session[AUTHENTICATED_AT] = int(time.time()) - 3600
    session.save()
    assert admin.post(f"/staff/regions/{region.id}/catalogue/{stored.id}/").status_code == 401
    assert not Staff.objects.filter(hsa_id=person_hsa_id(0)).exists()


def test_an_extract_of_ten_thousand_persons_is_applied_right_and_once(personas, region):
    """Correctness at full size; its time and memory are measured by bench/hsa_import.py."""
    content = small_extract(persons=10_000, units=40)
    changed = apply_text(region, content)
    assert changed["persons_added"] == 10_000 and changed["units_added"] == 40
    assert Staff.objects.filter(hsa_id__startswith="SE2321000255-P9").count() == 10_000
    assert Membership.objects.filter(staff__hsa_id__startswith="SE2321000255-P9").count() == 11_000
    stored = catalogue.upload(region=region, by=None, content=content, file_name="again.csv")
    assert catalogue.preview(stored).changes is False
    assert catalogue.apply(stored, by=None) == {}
