"""Browser tests of a case going round: the patient writes, the unit handles it, the patient sees the answer."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from vardkontakt.cases.models import Case, CaseMessage, CaseStatus, MessageKind
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"
UNIT_NAME = "Vårdcentralen Lindängen"
SERVICE_NAME = "Rådgivning"


def _status_message(ui, text: str | re.Pattern[str]):
    return ui.page.get_by_role("status").filter(has_text=text)


def _inbox_row(ui, patient_name: str):
    return ui.page.get_by_role("row").filter(has=ui.page.get_by_role("cell", name=patient_name, exact=True))


def _staff_opens_the_case(ui, staff, unit: CareUnit, patient_name: str, *, listing: str) -> None:
    ui.login(staff.hsa_id, side="staff")
    ui.goto(f"/staff/units/{unit.id}/inbox/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Inkorg")
    ui.click(re.compile(rf"^{listing} \(1\)$"), role="link")
    expect(ui.page.get_by_role("link", name=re.compile(rf"^{listing} \(1\)$"))).to_have_attribute(
        "aria-current", "page"
    )
    row = _inbox_row(ui, patient_name)
    expect(row).to_have_count(1)
    with ui.page.expect_navigation():
        row.get_by_role("link", name=SERVICE_NAME).click()
    ui.check()
    expect(ui.page).to_have_url(re.compile(r"/staff/cases/[0-9a-f-]{36}/$"))
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(SERVICE_NAME)


def test_a_patient_writes_the_unit_asks_for_more_and_the_patient_answers(ui, personas, advice, unit_x):
    tolvan, staff = personas.tolvan, personas.staff_x
    question = "Har du haft feber? Hur hög i så fall?"
    note = "Intern: kolla om halsfluss går på förskolan."
    answer = "Ja, 38,5 i två dagar."

    # 1. Tolvan writes to her unit: a form with an error first, then a review, then it is sent.
    ui.login(TOLVAN_ID)
    ui.click("Skriv till en mottagning")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Välj mottagning")
    ui.click(UNIT_NAME, role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(UNIT_NAME)
    ui.click(SERVICE_NAME, role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(SERVICE_NAME)
    expect(ui.page.get_by_text(re.compile(r"akuta ärenden: ring 112 vid fara för liv"))).to_be_visible()
    ui.click("Fortsätt")
    summary = ui.page.get_by_role("alert")
    expect(summary).to_contain_text("Det finns ett problem")
    error_link = summary.get_by_role("link")
    expect(error_link).to_have_count(1)
    expect(ui.page.get_by_text(re.compile(r"^Fel: "))).to_be_visible()
    # The summary's link leads to the field that needs filling in.
    error_link.click()
    expect(ui.page.get_by_label("Beskriv ditt ärende")).to_be_focused()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(SERVICE_NAME)
    assert not Case.objects.exists()

    what = "Jag har haft ont i halsen i en vecka och det blir inte bättre."
    ui.page.get_by_label("Beskriv ditt ärende").fill(what)
    ui.click("Fortsätt")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Kontrollera ditt ärende")
    expect(ui.page.get_by_text(what)).to_be_visible()
    expect(ui.page.get_by_role("main").get_by_text(tolvan.full_name, exact=True)).to_be_visible()
    assert not Case.objects.exists()
    ui.click("Skicka")
    expect(ui.page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
    expect(
        _status_message(ui, re.compile(r"Ditt ärende är skickat\. Du får svar senast \S+ \d{1,2} \S+\."))
    ).to_be_visible()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(SERVICE_NAME)
    expect(ui.page.get_by_text(what)).to_be_visible()
    expect(ui.page.get_by_text("Ärendet skickades.")).to_be_visible()
    case = Case.objects.get()
    assert (case.patient_id, case.service_id, case.status) == (tolvan.pk, advice.pk, CaseStatus.RECEIVED)
    assert ui.page.url.endswith(f"/cases/{case.id}/")
    ui.click("Logga ut")

    # 2. A staff member of the unit finds it unassigned, takes it, notes something and asks for more.
    _staff_opens_the_case(ui, staff, unit_x, tolvan.full_name, listing="Ej tilldelade")
    expect(ui.page.get_by_text(what)).to_be_visible()
    expect(ui.page.get_by_label("Tilldela till", exact=True)).to_have_value(str(staff.pk))
    ui.click("Tilldela")
    expect(_status_message(ui, f"Ärendet är tilldelat {staff.full_name}.")).to_be_visible()
    case.refresh_from_db()
    assert (case.assigned_to_id, case.status) == (staff.pk, CaseStatus.IN_PROGRESS)

    ui.page.get_by_label("Anteckning (visas aldrig för patienten)").fill(note)
    ui.click("Spara anteckning")
    expect(_status_message(ui, "Anteckningen är sparad. Patienter ser aldrig anteckningar.")).to_be_visible()
    expect(ui.page.get_by_text(note)).to_be_visible()

    ui.page.get_by_label("Ditt meddelande").fill(question)
    ui.click("Be patienten om mer")
    expect(_status_message(ui, "Ditt meddelande är skickat.")).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_FOR_PATIENT
    assert case.messages.filter(kind=MessageKind.QUESTION, body__startswith=question).count() == 1
    ui.click("Logga ut")
    expect(ui.page.get_by_text("Du är utloggad.")).to_be_visible()

    # 3. Tolvan sees the question (not the note) and answers it.
    ui.login(TOLVAN_ID)
    ui.click("Meddelanden och ärenden", role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Meddelanden och ärenden")
    row = ui.page.get_by_role("row").filter(has=ui.page.get_by_role("link", name=SERVICE_NAME))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(UNIT_NAME)
    expect(row).to_contain_text(re.compile("väntar på dig", re.IGNORECASE))
    ui.click(SERVICE_NAME, role="link")
    expect(ui.page).to_have_url(re.compile(rf"/cases/{case.id}/$"))
    asked = ui.page.get_by_role("listitem").filter(has_text="Mottagningen frågar:")
    expect(asked).to_have_count(1)
    expect(asked).to_contain_text(question)
    expect(ui.page.get_by_text(note)).to_have_count(0)
    expect(ui.page.locator("body")).not_to_contain_text("kolla om halsfluss")
    expect(ui.page.get_by_text(re.compile("Intern anteckning"))).to_have_count(0)

    ui.page.get_by_label("Ditt meddelande").fill(answer)
    ui.click("Skicka svar")
    expect(_status_message(ui, "Ditt svar är skickat.")).to_be_visible()
    expect(ui.page.get_by_role("listitem").filter(has_text=answer)).to_have_count(1)
    expect(ui.page.get_by_role("button", name="Skicka svar")).to_have_count(0)
    expect(ui.page.locator("body")).not_to_contain_text("kolla om halsfluss")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert CaseMessage.objects.filter(case=case, kind=MessageKind.PATIENT, body=answer).count() == 1
    assert Case.objects.count() == 1


def test_the_unit_will_call_and_the_patient_is_told_not_to_call(ui, personas, tolvans_case, unit_x):
    tolvan = personas.tolvan
    _staff_opens_the_case(ui, personas.staff_x, unit_x, tolvan.full_name, listing="Ej tilldelade")
    ui.click("Vi ringer patienten")
    expect(_status_message(ui, "Patienten får veta att mottagningen ringer upp.")).to_be_visible()
    tolvans_case.refresh_from_db()
    assert tolvans_case.status == CaseStatus.WILL_CALL
    ui.click("Logga ut")

    ui.login(TOLVAN_ID)
    ui.goto(f"/cases/{tolvans_case.id}/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(SERVICE_NAME)
    expect(ui.page.get_by_text("Mottagningen ringer dig. Du behöver inte ringa dem.")).to_be_visible()
    expect(ui.page.get_by_role("definition").filter(has_text=re.compile("^Mottagningen ringer dig$"))).to_be_visible()
    # There is nothing for her to answer.
    expect(ui.page.get_by_role("button", name="Skicka svar")).to_have_count(0)


def test_an_overdue_case_stands_out_in_the_inbox(ui, personas, tolvans_case, unit_x):
    now = timezone.now()
    Case.objects.filter(pk=tolvans_case.pk).update(
        received_at=now - dt.timedelta(days=5),
        deadline_passes_at=now - dt.timedelta(hours=1),
        deadline_last_day=timezone.localdate() - dt.timedelta(days=1),
    )
    _staff_opens_the_case(ui, personas.staff_x, unit_x, personas.tolvan.full_name, listing="Försenade")
    # On the case page too, the deadline is marked as passed.
    expect(ui.page.get_by_text(re.compile(r"^Försenad(e)?$"))).to_be_visible()
    ui.click("Tillbaka till inkorgen", role="link")
    ui.click(re.compile(r"^Försenade \(1\)$"), role="link")
    row = _inbox_row(ui, personas.tolvan.full_name)
    expect(row).to_have_count(1)
    tag = row.get_by_text(re.compile(r"^Försenad(e)?$"))
    expect(tag).to_be_visible()
    expect(tag).to_have_class(re.compile(r"\bnhsuk-tag--red\b"))
    expect(row).to_have_class(re.compile(r"\bvk-overdue\b"))


def test_the_timeline_and_the_read_log_speak_swedish_not_codes(ui, personas, tolvans_case, unit_x):
    """Issue 16 §6: the staff's timeline said "händelse: assigned", the resident's log "Case.read"."""
    staff = personas.staff_x
    _staff_opens_the_case(ui, staff, unit_x, personas.tolvan.full_name, listing="Ej tilldelade")
    ui.click("Tilldela")
    ui.click("Vi ringer patienten")
    ui.page.get_by_label("Ringer upp").check()
    ui.click("Avsluta")
    timeline = ui.page.get_by_role("list").filter(has_text="fördelade ärendet till")
    expect(timeline).to_contain_text(f"{staff.full_name} · fördelade ärendet till {staff.full_name}")
    expect(timeline).to_contain_text("meddelade patienten att mottagningen ringer upp")
    expect(timeline).to_contain_text("avslutade ärendet: ringer upp")
    expect(timeline).not_to_contain_text(re.compile(r"händelse|assigned|will_call|closed"))
    ui.click("Logga ut")

    ui.login(TOLVAN_ID)
    ui.click("Vem har läst min journal", role="link")
    opened = ui.page.get_by_role("row").filter(has_text=staff.full_name)
    expect(opened.first).to_contain_text("Öppnade ett ärende")
    expect(ui.page.get_by_role("table")).not_to_contain_text(re.compile(r"\b[A-Z][a-z_]+\.[a-z_]+\b"))


def test_kontakta_mig_the_unit_sees_the_number_the_resident_kept(ui, personas, unit_x):
    """Issue 16 §1: "Går det bra att vi ringer dig? Ja" reached the unit without a number to call."""
    from vardkontakt.cases.services import service_activate
    from vardkontakt.identity.models import Patient

    service_activate(unit=unit_x, kind="contact_me", by=personas.unit_admin)
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile="+46701234567")
    ui.login(TOLVAN_ID)
    ui.click("Skriv till en mottagning")
    ui.click(UNIT_NAME, role="link")
    ui.click("Kontakta mig", role="link")
    ui.page.get_by_label("Beskriv ditt ärende").fill("Jag vill prata om mina blodtrycksvärden.")
    # Yes to a call, but the number emptied: refused in words, nothing sent.
    ui.page.get_by_role("group", name="Går det bra att vi ringer dig?").get_by_label("Ja").check()
    number = ui.page.get_by_label("Numret vi ska ringa, om du svarade ja")
    expect(number).to_have_value("070-123 45 67")  # from her settings
    number.fill("")
    ui.click("Fortsätt")
    expect(ui.page.get_by_role("alert")).to_contain_text("Skriv numret som vi ska ringa.")
    assert not Case.objects.exists()
    number.fill("070-123 45 67")
    ui.click("Fortsätt")
    expect(ui.page.get_by_role("definition").filter(has_text="Ja, på 070-123 45 67")).to_be_visible()
    ui.click("Skicka")
    case = Case.objects.get()
    ui.click("Logga ut")

    ui.login(personas.staff_x.hsa_id, side="staff")
    ui.goto(f"/staff/cases/{case.id}/")
    call = ui.page.get_by_role("link", name="070-123 45 67")
    expect(call).to_have_attribute("href", "tel:+46701234567")
    ui.click("Vi ringer patienten")
    expect(_status_message(ui, "Patienten får veta att mottagningen ringer upp.")).to_be_visible()
    expect(ui.page.get_by_role("link", name="070-123 45 67")).to_be_visible()
