"""Cases through the pages, as residents and staff use them."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.cases.models import Case, CaseMessage, CaseStatus
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import User
from vardkontakt.operations.support import footer_support_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def tolvan(personas) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))


@pytest.fixture
def staff_x(personas) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(personas.staff_x))


def write_url(service) -> str:
    return f"/cases/new/{service.unit_id}/{service.id}/"


def test_write_review_send_and_see_the_deadline(tolvan, advice, personas):
    assert "Vårdcentralen Lindängen" in tolvan.get("/cases/new/").text
    assert "Rådgivning" in tolvan.get(f"/cases/new/{advice.unit_id}/").text
    form = tolvan.get(write_url(advice)).text
    assert "Beskriv ditt ärende" in form and "ring 112" in form
    key = uuid.uuid4().hex
    review = tolvan.post(
        write_url(advice), {"what": "Ont i halsen sedan en vecka.", "idempotency_key": key, "step": "review"}
    )
    assert "Kontrollera ditt ärende" in review.text and "Ont i halsen" in review.text
    assert not Case.objects.exists()
    with time_machine.travel(dt.datetime(2026, 11, 24, 9, tzinfo=STOCKHOLM), tick=False):
        sent = tolvan.post(
            write_url(advice), {"what": "Ont i halsen sedan en vecka.", "idempotency_key": key, "step": "send"}
        )
        again = tolvan.post(
            write_url(advice), {"what": "Ont i halsen sedan en vecka.", "idempotency_key": key, "step": "send"}
        )
    assert sent.status_code == again.status_code == 302
    case = Case.objects.get()
    assert sent["Location"] == f"/cases/{case.id}/"
    receipt = tolvan.get(sent["Location"]).text
    assert "Du får svar senast torsdag 26 november" in receipt
    assert "Rådgivning" in tolvan.get("/cases/").text


def test_my_cases_costs_the_same_for_one_case_or_twenty(tolvan, advice, personas, django_assert_max_num_queries):
    from vardkontakt.cases.services import case_create

    for n in range(20):
        case_create(actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key=f"m{n}")
    with django_assert_max_num_queries(11):  # constant: 10 here with 20 cases (6 reads, 4 to log the read)
        assert tolvan.get("/cases/").status_code == 200


def test_staff_opening_a_case_is_kept_and_shown(staff_x, tolvans_case, personas):
    staff_x.get(f"/staff/cases/{tolvans_case.id}/")
    page = staff_x.get(f"/staff/cases/{tolvans_case.id}/").text
    assert "Öppnat av" in page
    assert page.count(personas.staff_x.full_name) >= 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_who_opened_a_case_is_looked_up_among_its_patients_entries_not_the_whole_log(staff_x, tolvans_case):
    from vardkontakt.cases.selectors import openings_of

    staff_x.get(f"/staff/cases/{tolvans_case.id}/")
    with CaptureQueriesContext(connection) as read:
        assert [opening.actor_id for opening in openings_of(tolvans_case)]
    (statement,) = [q["sql"] for q in read.captured_queries if "access_auditentry" in q["sql"]]
    with connection.cursor() as cursor:
        # A small table is read whole by choice; with that out of the question, which index?
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}")
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "access_audi_patient" in plan, plan


def test_a_missing_required_answer_is_explained_and_nothing_is_sent(tolvan, advice):
    response = tolvan.post(write_url(advice), {"what": "", "idempotency_key": "k", "step": "send"})
    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert not Case.objects.exists()


def test_change_goes_back_to_the_filled_in_form(tolvan, advice):
    response = tolvan.post(write_url(advice), {"what": "Min text", "idempotency_key": "k", "step": "edit"})
    assert "Min text" in response.text and "Fortsätt" in response.text


def test_crafted_unit_and_service_ids_are_404(tolvan, advice, personas):
    other_unit = personas.nurse.memberships.get().unit
    assert tolvan.get(f"/cases/new/{other_unit.id}/{advice.id}/").status_code == 404
    assert tolvan.get(f"/cases/new/{advice.unit_id}/{uuid.uuid4()}/").status_code == 404
    assert tolvan.get(f"/cases/new/{uuid.uuid4()}/").status_code == 404
    advice.active = False
    advice.save(update_fields=["active"])
    assert tolvan.get(write_url(advice)).status_code == 404


def test_a_proxy_without_the_messages_scope_cannot_write(personas, advice):
    from vardkontakt.access.models import Proxy

    Proxy.objects.filter(agent=personas.adult_proxy, status="active").update(scope_cases=False)
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.adult_proxy))
    client.post("/acting-for/", {"subject": str(personas.principal.pk)})
    assert client.get("/cases/").status_code == 404
    assert client.post(write_url(advice), {"what": "x", "idempotency_key": "p", "step": "send"}).status_code == 404


def test_the_inbox_lists_counts_and_overdue(staff_x, tolvans_case, personas, advice, django_assert_max_num_queries):
    from vardkontakt.cases.services import case_create

    for n in range(15):  # many cases must not mean many queries
        case_create(actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key=f"n{n}")
    unit = tolvans_case.unit
    footer_support_hours()  # cached for every page, one query every few minutes (operations.support)
    with django_assert_max_num_queries(20):  # constant: 19 here with 16 cases (13 reads, 6 to log them)
        page = staff_x.get(f"/staff/units/{unit.id}/inbox/?list=unassigned").text
    assert "Tolvan Tolvansson" in page and "Ej tilldelade (16)" in page
    with time_machine.travel(tolvans_case.deadline_passes_at + dt.timedelta(minutes=1), tick=False):
        login_as(staff_x, personas.staff_x.user)  # days later: a new login
        overdue = staff_x.get(f"/staff/units/{unit.id}/inbox/?list=overdue").text
    assert "Försenade (16)" in overdue and "vk-overdue" in overdue
    assert "Tolvan" not in staff_x.get(f"/staff/units/{unit.id}/inbox/?list=closed").text


def test_the_inbox_figures_stop_counting_past_the_limit(staff_x, tolvans_case, personas, advice, monkeypatch):
    """A unit with 100,000 open cases is not counted on every staff page: past the limit a figure
    says "999+" (here the limit is 3), while the list itself still shows every case up to its 200."""
    from vardkontakt.cases import inbox_counts
    from vardkontakt.cases.services import case_create

    monkeypatch.setattr(inbox_counts, "COUNT_LIMIT", 3)
    for n in range(4):
        case_create(actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key=f"c{n}")
    unit = tolvans_case.unit
    page = staff_x.get(f"/staff/units/{unit.id}/inbox/?list=unassigned").text
    assert "Ej tilldelade (3+)" in page and "Avslutade (0)" in page
    assert page.count('<tr class="nhsuk-table__row') == 5  # all five listed
    assert "Inkorg: 3+ ej tilldelade" in page  # the header's figure
    assert "3+ ej tilldelade" in staff_x.get("/staff/").text
    monkeypatch.setattr(inbox_counts, "COUNT_LIMIT", 5)
    assert "Ej tilldelade (5)" in staff_x.get(f"/staff/units/{unit.id}/inbox/?list=unassigned").text


def test_the_inbox_filters_by_service_and_profession(staff_x, tolvans_case, advice):
    unit = tolvans_case.unit
    assert "Tolvan" in staff_x.get(f"/staff/units/{unit.id}/inbox/?service={advice.id}").text
    assert "Tolvan" not in staff_x.get(f"/staff/units/{unit.id}/inbox/?profession=psychologist").text
    advice.professions = ["psychologist"]
    advice.save(update_fields=["professions"])
    assert "Tolvan" in staff_x.get(f"/staff/units/{unit.id}/inbox/?profession=psychologist").text


def test_staff_answer_and_the_patient_reads_it_without_internal_notes(staff_x, tolvan, tolvans_case, personas):
    url = f"/staff/cases/{tolvans_case.id}/"
    assert staff_x.post(url + "note/", {"body": "Kolla labbvärden", "version": 1}).status_code == 302
    assert staff_x.post(url + "ask/", {"body": "Har du feber?", "version": 2}).status_code == 302
    patient_view = tolvan.get(f"/cases/{tolvans_case.id}/").text
    assert "Har du feber?" in patient_view and "Kolla labbvärden" not in patient_view
    assert tolvan.post(f"/cases/{tolvans_case.id}/answer/", {"body": "Nej."}).status_code == 302
    assert staff_x.post(url + "will_call/", {"version": 4}).status_code == 302
    assert "Mottagningen ringer dig. Du behöver inte ringa dem." in tolvan.get(f"/cases/{tolvans_case.id}/").text
    assert staff_x.post(url + "close/", {"outcome": "answered", "version": 5}).status_code == 302
    tolvans_case.refresh_from_db()
    assert tolvans_case.status == CaseStatus.CLOSED


def test_the_patients_answer_is_logged_with_the_case_it_answers(staff_x, advice, personas):
    """A guardian answers for the child: the answer is logged once, for Liam, and nothing else (the
    service is the door, as for the resident's booking changes; the case's page, where she is
    sent next, logs its read). Refused, nothing changes and only the page shown again is a read."""
    from vardkontakt.cases.services import case_create

    case = case_create(
        actor=personas.guardian, subject=personas.child_9, service=advice, answers=[], idempotency_key="l"
    )
    assert staff_x.post(f"/staff/cases/{case.id}/ask/", {"body": "Har han feber?", "version": 1}).status_code == 302
    anna = login_as(Client(), User.objects.get_or_create_for_patient(personas.guardian))
    start = AuditEntry.objects.count()
    assert anna.post(f"/cases/{case.id}/answer/", {"body": "Nej."}).status_code == 302
    trail = AuditEntry.objects.order_by("sequence")[start:]
    anna_for_liam = (str(personas.guardian.pk), str(personas.child_9.pk), str(personas.child_9.pk))
    assert [(e.actor_id, e.on_behalf_of_id, e.patient_id, e.action) for e in trail] == [
        (*anna_for_liam, "case.patient_message"),
    ]
    start = AuditEntry.objects.count()
    assert anna.post(f"/cases/{case.id}/answer/", {"body": "Igen."}).status_code == 400  # not asked again
    trail = AuditEntry.objects.order_by("sequence")[start:]
    assert [(e.actor_id, e.on_behalf_of_id, e.patient_id, e.action) for e in trail] == [(*anna_for_liam, "case.read")]
    assert case.messages.filter(body="Igen.").count() == 0


def test_the_inbox_is_in_the_log_of_each_patient_it_shows(staff_x, tolvans_case, personas):
    unit = tolvans_case.unit
    staff_x.get(f"/staff/units/{unit.id}/inbox/?list=closed")  # Tolvan's case is open: not shown
    tolvan = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    assert personas.staff_x.full_name not in tolvan.get("/record/access-log/").text
    staff_x.get(f"/staff/units/{unit.id}/inbox/")
    log = tolvan.get("/record/access-log/").text
    assert personas.staff_x.full_name in log and "Såg ärendet i mottagningens inkorg" in log


def test_a_conflicting_reply_keeps_the_typed_text(staff_x, tolvans_case, personas):
    other = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    other.post(f"/staff/cases/{tolvans_case.id}/reply/", {"body": "Första", "version": 1})
    response = staff_x.post(f"/staff/cases/{tolvans_case.id}/reply/", {"body": "Min långa text", "version": 1})
    assert response.status_code == 409
    assert "Någon annan ändrade ärendet" in response.text
    assert "Min långa text" in response.text
    assert CaseMessage.objects.filter(case=tolvans_case, kind="reply").count() == 1


def test_an_unknown_action_or_colleague_is_404(staff_x, tolvans_case, personas):
    url = f"/staff/cases/{tolvans_case.id}/"
    assert staff_x.post(url + "delete/", {"version": 1}).status_code == 404
    assert staff_x.post(url + "assign/", {"to": str(uuid.uuid4()), "version": 1}).status_code == 404


def test_the_unit_admin_activates_services(personas):
    client = login_as(Client(), User.objects.get_or_create_for_staff(personas.unit_admin))
    unit = personas.unit_admin.memberships.get().unit
    assert "Förnya recept" in client.get(f"/staff/units/{unit.id}/services/").text
    assert client.post(f"/staff/units/{unit.id}/services/activate/", {"kind": "renew_prescription"}).status_code == 302
    assert unit.services.filter(kind="renew_prescription", active=True).exists()
    assert client.post(f"/staff/units/{unit.id}/services/activate/", {"kind": "nonsense"}).status_code == 404


def test_cases_sharing_a_deadline_are_listed_in_the_order_they_came(staff_x, tolvans_case, personas, advice):
    """Many cases share a deadline (the end of a working day): they are listed oldest first, and in
    the same order at every reading, whatever order the database happens to hold them in."""
    from vardkontakt.cases.services import case_create

    for n in range(6):
        case_create(actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key=f"t{n}")
    cases = list(Case.objects.exclude(pk=tolvans_case.pk))
    deadline = tolvans_case.deadline_passes_at
    first = tolvans_case.received_at
    # Received in an order unrelated to their ids or to when the rows were written.
    shuffled = sorted(cases, key=lambda case: str(case.pk)[::-1])
    for minutes, case in enumerate(shuffled, start=1):
        Case.objects.filter(pk=case.pk).update(
            deadline_passes_at=deadline, received_at=first + dt.timedelta(minutes=minutes)
        )
    url = f"/staff/units/{tolvans_case.unit_id}/inbox/?list=unassigned"

    def listed_order() -> list[Case]:
        page = staff_x.get(url).text
        listed = [case for case in [tolvans_case, *shuffled] if f"/staff/cases/{case.pk}/" in page]
        return sorted(listed, key=lambda case: page.index(f"/staff/cases/{case.pk}/"))

    assert listed_order() == [tolvans_case, *shuffled]
    assert listed_order() == [tolvans_case, *shuffled]  # and again
