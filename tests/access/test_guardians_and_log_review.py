"""Guardianships from the population register, blocking by a unit head, and the unit's log review."""

from __future__ import annotations

import datetime as dt
import uuid

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
from vardkontakt.organisation.models import Membership

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
    looked_up = AuditEntry.objects.get(action="guardianship.read")
    assert (looked_up.actor_id, looked_up.patient_id) == (str(unit_head.pk), str(personas.child_9.pk))
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


def test_the_unit_head_reviews_the_log_filtered_by_patient_staff_and_period(personas, tolvans_case):
    from vardkontakt.cases.selectors import case_for_staff

    unit = personas.unit_admin.memberships.get().unit
    case_for_staff(staff=personas.staff_x, case_id=str(tolvans_case.pk))  # staff X opens Tolvan's case here
    client = staff_client(personas.unit_admin)
    page = client.get(f"/staff/units/{unit.id}/log/").text
    assert personas.staff_x.full_name in page
    today = timezone.localdate()
    filtered = client.post(
        f"/staff/units/{unit.id}/log/",
        {
            "patient": personas.tolvan.personnummer,
            "start": (today - dt.timedelta(days=1)).isoformat(),
            "end": (today + dt.timedelta(days=1)).isoformat(),
        },
    ).text
    assert personas.staff_x.full_name in filtered
    by_staff = client.post(f"/staff/units/{unit.id}/log/", {"staff": personas.archivist.hsa_id}).text
    assert personas.staff_x.full_name not in by_staff
    bad = client.post(
        f"/staff/units/{unit.id}/log/", {"start": today.isoformat(), "end": (today - dt.timedelta(days=1)).isoformat()}
    )
    assert "Slutdatumet ligger före startdatumet" in bad.text
    # The review itself is logged.
    assert AuditEntry.objects.filter(action="audit_log.review", actor_id=str(personas.unit_admin.pk)).exists()


def test_the_log_review_shows_only_what_happened_in_the_unit(personas, tolvans_case):
    """Inner secrecy (PDL 4 kap.): Tolvan is listed at Lindängen, but another unit's reading of her
    data and her own actions are not Lindängen's to review; Lindängen's own reading is."""
    from vardkontakt.access.audit import Actor, audit
    from vardkontakt.access.selectors import record_for_reader
    from vardkontakt.access.services import proxy_invite
    from vardkontakt.cases.selectors import case_for_staff

    lindangen = personas.unit_admin.memberships.get().unit
    elsewhere = personas.nurse_elsewhere.memberships.get().unit
    assert elsewhere != lindangen
    case_for_staff(staff=personas.staff_x, case_id=str(tolvans_case.pk))  # in Lindängen
    audit(actor=Actor.of_staff(personas.nurse_elsewhere), action="case.read", patient=personas.tolvan, unit=elsewhere)
    record_for_reader(reader=personas.tolvan, subject=personas.tolvan)  # her own reading
    proxy_invite(
        principal=personas.tolvan,
        agent_personnummer=personas.guardian.personnummer,
        scope_record=True,
        scope_cases=False,
        scope_bookings=False,
        expires_on=None,
        idempotency_key=uuid.uuid4().hex,
    )

    response = staff_client(personas.unit_admin).get(f"/staff/units/{lindangen.id}/log/")
    shown = {(entry.actor_id, entry.action) for entry in response.context["entries"]}
    assert (str(personas.staff_x.pk), "case.read") in shown
    assert (str(personas.tolvan.pk), "case.create") in shown  # her case at Lindängen is Lindängen's
    assert personas.nurse_elsewhere.full_name not in response.text
    assert {action for actor, action in shown if actor == str(personas.tolvan.pk)} == {"case.create"}
    # Her own reading and her proxy invitation are logged, about her, and stay out of the review.
    own = set(AuditEntry.objects.filter(actor_id=str(personas.tolvan.pk)).values_list("action", flat=True))
    assert {"record.read", "proxy.invite"} <= own
    # The other unit's head sees the other unit's reading, and nothing of Lindängen's.
    other_head = elsewhere.memberships.get(role="unit_admin").staff
    other_page = staff_client(other_head).get(f"/staff/units/{elsewhere.id}/log/").text
    assert personas.nurse_elsewhere.full_name in other_page
    assert personas.staff_x.full_name not in other_page


def test_blocking_a_guardian_shows_in_the_blocking_units_log(personas):
    relation = Guardianship.objects.get(guardian=personas.guardian, child=personas.child_9)
    head = next(m.staff for m in Membership.objects.filter(role="unit_admin", unit__listings__patient=personas.child_9))
    unit = policy.blocking_unit(head, relation)
    assert unit is not None
    client = staff_client(head)
    client.post(f"/staff/guardians/{relation.id}/block/", {f"{relation.id.hex}-reason": "Skyddsbedömning pågår."})
    entry = AuditEntry.objects.get(action="guardian.block", object_id=str(relation.pk))
    assert entry.unit_id == str(unit.pk)


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
