"""Guardianships from the population register, blocking by a unit head, and the unit's log review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access import policy
from vardkontakt.access.models import AuditEntry, Guardianship
from vardkontakt.demo.demo_data import born, personnummer
from vardkontakt.identity.models import Patient, Staff, User

pytestmark = pytest.mark.django_db

GUARDIAN = personnummer(dt.date(1980, 2, 2), 411)
# Six years old on whatever day the suite runs: well inside the guardians' age limit of 13.
CHILD = personnummer(born(timezone.localdate(), years=6, birthday_days_ago=100), 422)
OTHER_GUARDIAN = personnummer(dt.date(1982, 3, 3), 433)


def staff_client(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


def write_csv(tmp_path, rows: list[str]):
    path = tmp_path / "navet.csv"
    path.write_text("guardian,child\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_import_creates_relations_and_a_second_run_changes_nothing(db, tmp_path):
    path = write_csv(tmp_path, [f"{GUARDIAN},{CHILD}", f"{OTHER_GUARDIAN},{CHILD}"])
    call_command("import_guardianships", str(path))
    call_command("import_guardianships", str(path))
    assert Guardianship.objects.filter(child__personnummer=CHILD, ended_at__isnull=True).count() == 2
    guardian = Patient.objects.get(personnummer=GUARDIAN)
    child = Patient.objects.get(personnummer=CHILD)
    assert policy.representation(guardian, child) is not None


def test_a_relation_missing_from_a_later_extract_is_ended(db, tmp_path):
    call_command("import_guardianships", str(write_csv(tmp_path, [f"{GUARDIAN},{CHILD}", f"{OTHER_GUARDIAN},{CHILD}"])))
    call_command("import_guardianships", str(write_csv(tmp_path, [f"{GUARDIAN},{CHILD}"])))
    ended = Guardianship.objects.get(guardian__personnummer=OTHER_GUARDIAN)
    assert ended.ended_at is not None
    assert policy.representation(ended.guardian, ended.child) is None


def test_one_bad_row_imports_nothing_and_names_the_line(db, tmp_path):
    path = write_csv(tmp_path, [f"{GUARDIAN},{CHILD}", "19121212-1213,201212121212", f"{CHILD},{CHILD}"])
    with pytest.raises(CommandError) as caught:
        call_command("import_guardianships", str(path))
    assert "line 3" in str(caught.value)
    assert "line 4" in str(caught.value)
    assert not Guardianship.objects.exists()


def test_a_file_without_the_right_header_is_refused(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="guardian,child"):
        call_command("import_guardianships", str(path))


def test_a_unit_head_blocks_and_unblocks_a_guardian(personas):
    relation = Guardianship.objects.get(guardian=personas.guardian, child=personas.child_9)
    unit_head = Staff.objects.get(memberships__unit__listings__patient=personas.child_9, memberships__role="unit_admin")
    client = staff_client(unit_head)
    page = client.post("/staff/guardians/", {"personnummer": personas.child_9.personnummer}).text
    assert "Anna Föräldersson" in page and "Erik Föräldersson" in page
    response = client.post(
        f"/staff/guardians/{relation.id}/block/", {f"{relation.id.hex}-reason": "Beslut efter orosanmälan."}
    )
    assert response.status_code == 302
    assert policy.representation(personas.guardian, personas.child_9) is None
    assert AuditEntry.objects.filter(action="guardian.block", patient_id=str(personas.child_9.pk)).exists()
    client.post(f"/staff/guardians/{relation.id}/unblock/")
    assert policy.representation(personas.guardian, personas.child_9) is not None


def test_a_block_needs_a_reason(personas):
    relation = Guardianship.objects.get(guardian=personas.guardian, child=personas.child_9)
    unit_head = Staff.objects.get(memberships__unit__listings__patient=personas.child_9, memberships__role="unit_admin")
    response = staff_client(unit_head).post(
        f"/staff/guardians/{relation.id}/block/", {f"{relation.id.hex}-reason": "x"}
    )
    assert response.status_code == 400
    relation.refresh_from_db()
    assert relation.blocked_at is None


def test_other_staff_cannot_find_or_block_the_guardian(personas):
    relation = Guardianship.objects.get(guardian=personas.guardian, child=personas.child_9)
    for outsider in (personas.unit_admin, personas.staff_x):  # head of another unit; plain staff
        client = staff_client(outsider)
        response = client.post(f"/staff/guardians/{relation.id}/block/", {f"{relation.id.hex}-reason": "x" * 20})
        assert response.status_code in (403, 404)
        if response.status_code != 403:
            page = client.post("/staff/guardians/", {"personnummer": personas.child_9.personnummer}).text
            assert "Anna Föräldersson" not in page
    relation.refresh_from_db()
    assert relation.blocked_at is None


def test_the_unit_head_reviews_the_log_filtered_by_patient_staff_and_period(personas):
    from vardkontakt.access.selectors import record_for_reader

    unit = personas.unit_admin.memberships.get().unit
    record_for_reader(reader=personas.tolvan, subject=personas.tolvan)
    client = staff_client(personas.unit_admin)
    page = client.get(f"/staff/units/{unit.id}/log/").text
    assert "Läste journalen" in page
    filtered = client.post(
        f"/staff/units/{unit.id}/log/",
        {"patient": personas.tolvan.personnummer, "start": "2000-01-01", "end": "2100-01-01"},
    ).text
    assert "Läste journalen" in filtered
    by_staff = client.post(f"/staff/units/{unit.id}/log/", {"staff": personas.archivist.hsa_id}).text
    assert "Läste journalen" not in by_staff
    bad = client.post(f"/staff/units/{unit.id}/log/", {"start": "2026-02-01", "end": "2026-01-01"})
    assert "Slutdatumet ligger före startdatumet" in bad.text
    # The review itself is logged.
    assert AuditEntry.objects.filter(action="audit_log.review", actor_id=str(personas.unit_admin.pk)).exists()


def test_log_review_is_for_the_units_own_administrators(personas):
    unit = personas.unit_admin.memberships.get().unit
    assert staff_client(personas.staff_x).get(f"/staff/units/{unit.id}/log/").status_code == 403  # member, not admin
    assert staff_client(personas.nurse).get(f"/staff/units/{unit.id}/log/").status_code == 404  # not a member
    patient = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    assert patient.get(f"/staff/units/{unit.id}/log/").status_code == 403


def test_the_patient_sees_who_read_their_record(personas):
    from vardkontakt.access.selectors import record_for_reader

    record_for_reader(reader=personas.adult_proxy, subject=personas.principal)
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.principal))
    page = client.get("/record/access-log/").text
    assert "Maria Omsorgsdotter" in page
    other = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan)).get("/record/access-log/").text
    assert "Maria Omsorgsdotter" not in other


def test_personnummer_never_appear_in_urls_of_the_staff_searches(personas):
    """Searches by personnummer are POSTed; a query string with one searches nothing; after a block
    the page comes back to the child by an opaque id."""
    relation = Guardianship.objects.get(guardian=personas.guardian, child=personas.child_9)
    unit_head = Staff.objects.get(memberships__unit__listings__patient=personas.child_9, memberships__role="unit_admin")
    head = staff_client(unit_head)
    number = personas.child_9.personnummer
    assert "Anna Föräldersson" not in head.get("/staff/guardians/", {"personnummer": number}).text
    response = head.post(
        f"/staff/guardians/{relation.id}/block/", {f"{relation.id.hex}-reason": "Beslut efter orosanmälan."}
    )
    assert response.status_code == 302
    assert number not in response["Location"] and response["Location"].endswith(f"?child={personas.child_9.pk}")
    assert "Anna Föräldersson" in head.get(response["Location"]).text
    archivist = staff_client(personas.archivist)
    assert "Sofia Förseglad" not in archivist.get("/staff/seals/", {"personnummer": personas.sealed.personnummer}).text
    assert "Sofia Förseglad" in archivist.post("/staff/seals/", {"personnummer": personas.sealed.personnummer}).text
    unit = personas.unit_admin.memberships.get().unit
    form = staff_client(personas.unit_admin).get(f"/staff/units/{unit.id}/log/").text
    for page in (form, head.get("/staff/guardians/").text, archivist.get("/staff/seals/").text):
        assert '<form method="post"' in page and 'method="get"' not in page
