"""Issue 16 §6: every event has words, in Swedish and English, for the person reading it — never a code
such as "Case.read" in "Vem har läst min journal" or "händelse: assigned" in the staff's timeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests.helpers import login_as
from vardkontakt.access.actions import ACTION_LABELS, UnlabelledAuditAction, action_label
from vardkontakt.access.audit import SYSTEM, audit
from vardkontakt.cases.models import PATIENT_EVENT_TEXTS, CaseEvent
from vardkontakt.cases.services import case_assign, case_close, case_reopen, case_will_call
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db

SOURCE = Path(settings.PACKAGE_DIR)
# action="x.y", and both branches of action="x.y" if ... else "x.z" (argparse's action="store_true" has no dot)
LITERAL_ACTION = re.compile(r'\baction=("[a-z_]+\.[a-z_.]+")(?:\s+if\s+[^"]+\s+else\s+("[a-z_]+\.[a-z_.]+"))?')
# onboarding/services.py writes f"onboarding.{action}" through _audit(by, onboarding, "step", ...)
ONBOARDING_STEP = re.compile(r'_audit\(by, onboarding, "([a-z_]+)"')
# A code as a page would show it after |capfirst: "Case.read", "Attachment.read".
CODE_ON_PAGE = re.compile(r"\b[A-Z][a-z_]+\.[a-z_]+\b")


def actions_written_in_the_code() -> set[str]:
    found = set()
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for match in LITERAL_ACTION.finditer(text):
            found |= {value.strip('"') for value in match.groups() if value}
        if path.name == "services.py" and path.parent.name == "onboarding":
            found |= {f"onboarding.{step}" for step in ONBOARDING_STEP.findall(text)}
    return found


def client_of(person) -> Client:
    user = User.objects.get_or_create_for_patient(person) if hasattr(person, "personnummer") else None
    return login_as(Client(), user or User.objects.get_or_create_for_staff(person))


def test_every_action_the_code_writes_has_a_label():
    written = actions_written_in_the_code()
    assert {"case.read", "attachment.read", "fhir.read", "onboarding.live"} <= written  # the scan sees them
    assert sorted(written - set(ACTION_LABELS)) == []


def test_every_label_reads_in_swedish_and_in_english():
    for action in ACTION_LABELS:
        with translation.override("en"):
            english = action_label(action)
        with translation.override("sv"):
            swedish = action_label(action)
        assert english and swedish and english != swedish, action
        assert "." not in english and "_" not in swedish, action
    for event in CaseEvent:
        with translation.override("sv"):
            assert str(event.label) != event.value


def test_an_action_without_a_label_is_said_loudly_and_still_reads_as_words():
    with pytest.warns(UnlabelledAuditAction):
        audit(actor=SYSTEM, action="made.up")
    with translation.override("sv"):
        assert action_label("made.up") == "gjorde något som loggen ännu saknar ord för"


def test_the_resident_reads_who_opened_their_case_and_its_file_in_words(personas, tolvans_case):
    from vardkontakt.cases.selectors import case_for_staff

    case_for_staff(staff=personas.staff_x, case_id=str(tolvans_case.pk))
    audit(actor=SYSTEM, action="fhir.read", patient=personas.tolvan)
    page = client_of(personas.tolvan).get("/record/access-log/").text
    assert "Öppnade ett ärende" in page
    assert "Hämtade uppgifterna till ett vårdsystem" in page
    assert CODE_ON_PAGE.findall(page) == []


def test_the_log_review_reads_in_words(personas, tolvans_case):
    from vardkontakt.cases.selectors import case_for_staff

    case_for_staff(staff=personas.staff_x, case_id=str(tolvans_case.pk))
    page = client_of(personas.unit_admin).get(f"/staff/units/{tolvans_case.unit_id}/log/").text
    assert "Öppnade ett ärende" in page
    assert CODE_ON_PAGE.findall(page) == []


def test_the_staff_timeline_tells_each_event_in_words(personas, tolvans_case):
    case = case_assign(case=tolvans_case, by=personas.staff_x, to=personas.unit_admin, version=tolvans_case.version)
    case = case_will_call(case=case, by=personas.staff_x, version=case.version)
    case = case_close(case=case, by=personas.staff_x, outcome="will_call", version=case.version)
    case_reopen(case=case, by=personas.staff_x, version=case.version)
    page = client_of(personas.staff_x).get(f"/staff/cases/{tolvans_case.pk}/").text
    admin = personas.unit_admin.full_name
    assert f"fördelade ärendet till {admin}" in page
    assert "meddelade patienten att mottagningen ringer upp" in page
    assert "avslutade ärendet: ringer upp" in page
    assert "öppnade ärendet igen" in page
    for code in ("assigned", "will_call", "closed", "reopened", "händelse:"):
        assert code not in page.split("<h2>")[2], code  # the timeline section
    english = client_of(personas.staff_x)
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert f"assigned the case to {admin}" in english.get(f"/staff/cases/{tolvans_case.pk}/").text


def test_the_resident_thread_keeps_its_own_words_for_the_events_it_shows(personas, tolvans_case):
    case_will_call(case=tolvans_case, by=personas.staff_x, version=tolvans_case.version)
    page = client_of(personas.tolvan).get(f"/cases/{tolvans_case.pk}/").text
    assert "Mottagningen ringer dig." in page
    assert set(PATIENT_EVENT_TEXTS) <= set(CaseEvent)
