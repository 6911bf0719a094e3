"""Cases through the service layer: sending, deadlines, handling, conflicts, the patient's side."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Case, CaseMessage, CaseStatus, MessageKind
from vardkontakt.cases.naming import naming_problems
from vardkontakt.cases.services import (
    CaseConflict,
    case_assign,
    case_close,
    case_create,
    case_note,
    case_patient_message,
    case_reopen,
    case_reply,
    case_will_call,
    case_withdraw,
    service_activate,
)
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import User
from vardkontakt.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_sending_twice_with_the_same_key_creates_one_case(advice, personas):
    for _ in range(2):
        case_create(actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key="k1")
    assert Case.objects.filter(patient=personas.tolvan).count() == 1


def test_the_deadline_is_two_working_days_after_receipt(advice, personas):
    friday_evening = dt.datetime(2026, 12, 18, 23, 59, tzinfo=STOCKHOLM)
    with time_machine.travel(friday_evening, tick=False):
        case = case_create(
            actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key="k"
        )
    assert case.deadline_last_day == dt.date(2026, 12, 22)  # Monday, Tuesday
    assert case.deadline_passes_at == dt.datetime(2026, 12, 23, 0, 0, tzinfo=STOCKHOLM)


def test_a_units_own_target_is_used(advice, personas, unit_x):
    unit_x.answer_target_working_days = 1
    unit_x.save(update_fields=["answer_target_working_days"])
    advice.refresh_from_db()
    with time_machine.travel(dt.datetime(2026, 11, 24, 10, tzinfo=STOCKHOLM), tick=False):
        case = case_create(
            actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key="k"
        )
    assert case.deadline_last_day == dt.date(2026, 11, 25)


def test_a_guardian_sends_for_a_young_child_and_both_are_recorded(advice, personas):
    case = case_create(
        actor=personas.guardian, subject=personas.child_9, service=advice, answers=[], idempotency_key="g"
    )
    assert (case.patient, case.created_by) == (personas.child_9, personas.guardian)
    entry = AuditEntry.objects.get(action="case.create")
    assert (entry.actor_id, entry.on_behalf_of_id) == (str(personas.guardian.pk), str(personas.child_9.pk))


@pytest.mark.parametrize(
    "actor, subject", [("guardian", "child_14"), ("tolvan", "other_patient"), ("blocked_guardian", "blocked_child")]
)
def test_nobody_sends_for_someone_they_may_not_act_for(advice, personas, actor, subject):
    with pytest.raises(Http404):
        case_create(
            actor=getattr(personas, actor),
            subject=getattr(personas, subject),
            service=advice,
            answers=[],
            idempotency_key="x",
        )
    assert not Case.objects.exists()


def test_a_proxy_needs_the_messages_scope(advice, personas):
    from vardkontakt.access.models import Proxy

    Proxy.objects.filter(agent=personas.adult_proxy, status="active").update(scope_cases=False)
    with pytest.raises(Http404):
        case_create(
            actor=personas.adult_proxy, subject=personas.principal, service=advice, answers=[], idempotency_key="p"
        )


def test_the_whole_loop_with_a_question_back(tolvans_case, personas):
    case = tolvans_case
    case = case_assign(case=case, by=personas.staff_x, to=personas.staff_x, version=case.version)
    case_note(case=case, by=personas.staff_x, body="Kolla journalen först.", version=case.version)
    case.refresh_from_db()
    case_reply(case=case, by=personas.staff_x, body="Har du feber?", version=case.version, ask=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_FOR_PATIENT
    case_patient_message(case_id=case.pk, actor=personas.tolvan, body="Nej, ingen feber.")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    case_reply(case=case, by=personas.staff_x, body="Drick varmt och vila.", version=case.version)
    case.refresh_from_db()
    case_close(case=case, by=personas.staff_x, outcome="answered", version=case.version)
    case.refresh_from_db()
    assert (case.status, case.outcome) == (CaseStatus.CLOSED, "answered")
    kinds = list(case.messages.values_list("kind", flat=True))
    assert kinds == ["patient", "event", "note", "question", "patient", "reply", "event"]
    assert Notification.objects.filter(recipient=personas.tolvan, kind="reply_waiting").count() == 2


def test_the_signature_is_appended(tolvans_case, personas):
    personas.staff_x.signature = "Hälsningar\nBengt, sjuksköterska"
    personas.staff_x.save(update_fields=["signature"])
    message = case_reply(case=tolvans_case, by=personas.staff_x, body="Välkommen på tisdag.", version=1)
    assert message.body == "Välkommen på tisdag.\n\nHälsningar\nBengt, sjuksköterska"


def test_assigning_to_a_colleague_notifies_them(tolvans_case, personas):
    case_assign(case=tolvans_case, by=personas.unit_admin, to=personas.staff_x, version=1)
    assert Notification.objects.filter(recipient_staff=personas.staff_x, kind="case_assigned").exists()


def test_staff_of_another_unit_cannot_touch_the_case(tolvans_case, personas):
    """The case's door is its selector (the page's 404); the service asks about the colleague
    named in the form, who must be of the case's unit."""
    nurse = login_as(Client(), User.objects.get_or_create_for_staff(personas.nurse))
    assert nurse.post(f"/staff/cases/{tolvans_case.id}/reply/", {"body": "x", "version": 1}).status_code == 404
    assert not CaseMessage.objects.filter(case=tolvans_case, kind=MessageKind.REPLY).exists()
    with pytest.raises(PermissionDenied):
        case_assign(case=tolvans_case, by=personas.staff_x, to=personas.nurse, version=1)
    assert Case.objects.get(pk=tolvans_case.pk).assigned_to is None


def test_a_stale_version_is_a_conflict_and_changes_nothing(tolvans_case, personas):
    case_reply(case=tolvans_case, by=personas.staff_x, body="Första svaret", version=1)
    with pytest.raises(CaseConflict):
        case_reply(case=tolvans_case, by=personas.unit_admin, body="Andra svaret", version=1)
    assert CaseMessage.objects.filter(case=tolvans_case, kind=MessageKind.REPLY).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: the PostgreSQL case")
def test_two_staff_replying_at_once_one_wins(personas):
    from vardkontakt.cases.questions import answers_for_storage

    unit = personas.unit_admin.memberships.get().unit
    service = service_activate(unit=unit, kind=ServiceKind.ADVICE, by=personas.unit_admin)
    case = case_create(
        actor=personas.tolvan,
        subject=personas.tolvan,
        service=service,
        answers=answers_for_storage(service.questions, {"what": "x"}),
        idempotency_key=uuid.uuid4().hex,
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def reply(staff) -> None:
        try:
            barrier.wait()
            case_reply(case=case, by=staff, body=f"Svar från {staff.given_name}", version=1)
            outcomes.append("won")
        except CaseConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=reply, args=(s,)) for s in (personas.staff_x, personas.unit_admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    assert CaseMessage.objects.filter(case=case, kind=MessageKind.REPLY).count() == 1


def test_will_call_tells_the_patient_the_unit_calls(tolvans_case, personas):
    case = case_will_call(case=tolvans_case, by=personas.staff_x, version=1)
    assert case.status == CaseStatus.WILL_CALL
    assert case.first_answered_at is not None


def test_withdrawing_only_before_an_answer(tolvans_case, personas):
    case_withdraw(case_id=tolvans_case.pk, actor=personas.tolvan)
    tolvans_case.refresh_from_db()
    assert (tolvans_case.status, tolvans_case.outcome) == (CaseStatus.CLOSED, "withdrawn")


def test_an_answered_case_cannot_be_withdrawn(tolvans_case, personas):
    case_reply(case=tolvans_case, by=personas.staff_x, body="Svar", version=1)
    with pytest.raises(ValidationError):
        case_withdraw(case_id=tolvans_case.pk, actor=personas.tolvan)


def test_the_patient_answers_only_when_asked(tolvans_case, personas):
    with pytest.raises(ValidationError):
        case_patient_message(case_id=tolvans_case.pk, actor=personas.tolvan, body="Hallå?")


def test_closing_needs_an_outcome_and_reopening_a_closed_case(tolvans_case, personas):
    with pytest.raises(ValidationError):
        case_close(case=tolvans_case, by=personas.staff_x, outcome="nonsense", version=1)
    case = case_close(case=tolvans_case, by=personas.staff_x, outcome="booked", version=1)
    case = case_reopen(case=case, by=personas.staff_x, version=case.version)
    assert (case.status, case.outcome, case.closed_at) == (CaseStatus.IN_PROGRESS, "", None)


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Förnya recept", []),
        ("Mina recept", ["possessive"]),
        ("e-Recept", ["e_prefix"]),
        ("Boka tid på nätet", ["online_suffix"]),
        ("Kontakta VC", ["abbreviation"]),
        ("Kontakta BVC", []),
        ("Beställ en tid för att få träffa en sjuksköterska", ["too_long"]),
        ("Dina e-tjänster på nätet", ["possessive", "online_suffix"]),
    ],
)
def test_service_naming_rules(name, codes):
    assert [problem.code for problem in naming_problems(name)] == codes
