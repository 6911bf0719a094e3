"""Issue 16 §9-10: the resident's list tells cases apart and shows what waits; staff read staff
words; a question stays answerable after "Vi ringer patienten", and an answer can carry a file."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.helpers import minimal_pdf
from vardkontakt.cases.models import Attachment, CaseMessage, CaseStatus, MessageKind
from vardkontakt.cases.questions import answers_for_storage
from vardkontakt.cases.services import case_create, case_reply, case_will_call

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.UPLOAD_ROOT = str(tmp_path / "uploads")


def _send(personas, advice, what: str):
    answers = answers_for_storage(advice.questions, {"what": what})
    return case_create(
        actor=personas.tolvan,
        subject=personas.tolvan,
        service=advice,
        answers=answers,
        idempotency_key=uuid.uuid4().hex,
    )


def test_three_advice_cases_are_told_apart_and_what_waits_comes_first(ui, personas, advice):
    staff = personas.staff_x
    throat = _send(personas, advice, "Ont i halsen i en vecka, blir inte bättre.")
    knee = _send(personas, advice, "Knät svullnar efter löpning.")
    rash = _send(personas, advice, "Utslag på armarna sedan i lördags.")
    case_reply(case=knee, by=staff, body="Vila knät och kyl det.", version=knee.version)
    case_reply(case=rash, by=staff, body="Har du bytt tvättmedel?", version=rash.version, ask=True)
    assert throat.status == CaseStatus.RECEIVED

    ui.login(TOLVAN_ID)
    # The start page counts them.
    counts = ui.page.get_by_role("link", name=re.compile("väntar på ditt svar"))
    expect(counts).to_have_text("1 ärende väntar på ditt svar, 1 nytt svar")

    ui.click("Meddelanden och ärenden", role="link")
    rows = ui.page.get_by_role("row").filter(has=ui.page.get_by_role("link", name="Rådgivning"))
    expect(rows).to_have_count(3)
    # The one waiting for her first, then the new answer, then the one still with the unit,
    # each with a line of what she wrote.
    expect(rows.nth(0)).to_contain_text("Väntar på ditt svar")
    expect(rows.nth(0)).to_contain_text("Utslag på armarna sedan i lördags.")
    expect(rows.nth(1)).to_contain_text("Nytt svar")
    expect(rows.nth(1)).to_contain_text("Knät svullnar efter löpning.")
    expect(rows.nth(2)).to_contain_text("Ont i halsen i en vecka, blir inte bättre.")
    expect(rows.nth(2)).not_to_contain_text(re.compile("Nytt svar|Väntar på ditt svar"))

    # Opening the answered case makes it no longer new, on the list and on the start page.
    with ui.page.expect_navigation():
        rows.nth(1).get_by_role("link", name="Rådgivning").click()
    ui.check()
    expect(ui.page.get_by_text("Vila knät och kyl det.")).to_be_visible()
    ui.click("Alla dina ärenden", role="link")
    expect(ui.page.get_by_text("Nytt svar", exact=True)).to_have_count(0)
    ui.goto("/patient/")
    expect(ui.page.get_by_role("link", name=re.compile("väntar på ditt svar"))).to_have_text(
        "1 ärende väntar på ditt svar"
    )


def test_staff_read_staff_words_and_the_question_outlives_we_will_call(ui, personas, advice, unit_x):
    case = _send(personas, advice, "Utslag på armarna sedan i lördags.")
    staff = personas.staff_x
    question = "Kan du skicka en bild på utslagen?"

    ui.login(staff.hsa_id, side="staff")
    ui.goto(f"/staff/cases/{case.id}/")
    ui.page.get_by_label("Ditt meddelande").fill(question)
    ui.click("Be patienten om mer")
    status = ui.page.get_by_role("definition").filter(has_text=re.compile("^Väntar på patientens svar$"))
    expect(status).to_be_visible()
    ui.click("Vi ringer patienten")
    expect(ui.page.get_by_role("definition").filter(has_text=re.compile("^Vi ringer patienten$"))).to_be_visible()
    # The resident's words are not the unit's.
    expect(ui.page.get_by_role("main")).not_to_contain_text(re.compile("Väntar på dig|Mottagningen ringer dig"))
    ui.goto(f"/staff/units/{unit_x.id}/inbox/")
    expect(ui.page.get_by_role("main")).to_contain_text("Vi ringer patienten")
    expect(ui.page.get_by_role("main")).not_to_contain_text("Mottagningen ringer dig")
    ui.click("Logga ut")

    # She is told the unit will call, and may still answer the question, with a picture.
    ui.login(TOLVAN_ID)
    ui.goto(f"/cases/{case.id}/")
    expect(ui.page.get_by_text("Mottagningen ringer dig. Du behöver inte ringa dem.")).to_be_visible()
    ui.page.get_by_label("Ditt meddelande").fill("Här är en bild.")
    ui.page.get_by_label("Bifoga filer (frivilligt)").set_input_files(
        files=[{"name": "utslag.pdf", "mimeType": "application/pdf", "buffer": minimal_pdf()}]
    )
    ui.click("Skicka svar")
    expect(ui.page.get_by_role("status").filter(has_text="Ditt svar är skickat.")).to_be_visible()
    answered = ui.page.get_by_role("listitem").filter(has_text="Här är en bild.")
    expect(answered.get_by_role("link", name="utslag.pdf")).to_be_visible()
    expect(ui.page.get_by_role("button", name="Skicka svar")).to_have_count(0)
    case.refresh_from_db()
    assert case.status == CaseStatus.WILL_CALL
    message = CaseMessage.objects.get(case=case, kind=MessageKind.PATIENT, body="Här är en bild.")
    assert Attachment.objects.get(case=case).message_id == message.pk
    ui.click("Logga ut")

    # The unit sees the file with the answer.
    ui.login(staff.hsa_id, side="staff")
    ui.goto(f"/staff/cases/{case.id}/")
    step = ui.page.get_by_role("listitem").filter(has_text="Här är en bild.")
    expect(step.get_by_role("link", name="utslag.pdf")).to_be_visible()


def test_no_answer_form_once_the_unit_has_answered_after_its_question(ui, personas, advice):
    case = _send(personas, advice, "Utslag.")
    staff = personas.staff_x
    case_reply(case=case, by=staff, body="Har du feber?", version=case.version, ask=True)
    case.refresh_from_db()
    case_reply(case=case, by=staff, body="Vi har fått svar från labbet, allt ser bra ut.", version=case.version)
    case.refresh_from_db()
    case_will_call(case=case, by=staff, version=case.version)
    ui.login(TOLVAN_ID)
    ui.goto(f"/cases/{case.id}/")
    expect(ui.page.get_by_role("button", name="Skicka svar")).to_have_count(0)
