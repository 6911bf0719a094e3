"""Browser tests: every service a unit can offer, written and sent by a patient; files sent with a case."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import UI
from tests.helpers import minimal_pdf
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Attachment, Case, Service
from vardkontakt.cases.services import service_activate
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"
UNIT_NAME = "Vårdcentralen Lindängen"
PDF = minimal_pdf()


@pytest.fixture
def every_service(personas, unit_x: CareUnit) -> dict[str, Service]:
    """Tolvan's unit offers all nine services (load_demo leaves out two of them)."""
    return {kind: service_activate(unit=unit_x, kind=kind, by=personas.unit_admin) for kind in ServiceKind.values}


@pytest.fixture
def upload_root(settings, tmp_path: Path) -> Path:
    root = tmp_path / "uploads"
    settings.UPLOAD_ROOT = str(root)
    return root


def _follow(ui: UI, locator: Locator) -> None:
    with ui.page.expect_navigation():
        locator.click()
    ui.check()


def _summary_value(page: Page, label: str) -> Locator:
    """The value beside ``label`` in a summary list (the review, the case page)."""
    term = page.get_by_role("term").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return page.locator(".nhsuk-summary-list__row").filter(has=term).get_by_role("definition")


def _open_the_form(ui: UI, service: Service) -> None:
    ui.goto("/cases/new/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Välj mottagning")
    _follow(ui, ui.page.get_by_role("link", name=UNIT_NAME, exact=True).first)
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(UNIT_NAME)
    _follow(ui, ui.page.get_by_role("link", name=service.name, exact=True))
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(service.name)


def _fill_required(page: Page, questions: list[dict[str, Any]]) -> dict[str, tuple[Any, str]]:
    """Answer every required question as a person would; returns key -> (stored value, value shown)."""
    given: dict[str, tuple[Any, str]] = {}
    for question in questions:
        if not question.get("required"):
            continue
        kind, label = question["kind"], question["label"]
        if kind in ("short_text", "long_text"):
            text = f"Svar på frågan ”{label}”: det gäller min högra axel sedan i våras."
            page.get_by_label(label, exact=True).fill(text)
            given[question["key"]] = (text, text)
        elif kind == "medicines":
            # Tolvan's record holds no medicines here: the text box alone, under the question's label.
            text = "Levaxin 50 mikrog, en tablett på morgonen."
            page.get_by_label(label, exact=True).fill(text)
            given[question["key"]] = ({"picked": [], "typed": text}, text)
        elif kind == "date":
            # Today: a day that is neither ahead (a test taken) nor past (a time to change).
            today = timezone.localdate().isoformat()
            page.get_by_label(label, exact=True).fill(today)
            given[question["key"]] = (today, today)
        else:
            group = page.get_by_role("group", name=label, exact=True)
            if kind == "single_choice":
                first = question["choices"][0]
                group.get_by_role("radio").first.check()
                given[question["key"]] = (first, first)
            elif kind == "multiple_choice":
                first = question["choices"][0]
                group.get_by_role("checkbox").first.check()
                given[question["key"]] = ([first], first)
            elif kind == "yes_no":
                group.get_by_role("radio", name="Ja", exact=True).check()
                given[question["key"]] = ("yes", "Ja")
            elif kind == "call_back":
                # Tolvan has no saved mobile here: she types the number to call.
                group.get_by_role("radio", name="Ja", exact=True).check()
                page.get_by_label("Numret vi ska ringa, om du svarade ja").fill("070-123 45 67")
                stored = {"answer": "yes", "number": "+46701234567", "shown_as": "070-123 45 67"}
                given[question["key"]] = (stored, "Ja, på 070-123 45 67")
            else:
                raise AssertionError(f"unknown question kind {kind}")
    return given


@pytest.mark.parametrize("kind", ServiceKind.values)
def test_tolvan_sends_a_case_with_every_service(ui: UI, personas, every_service: dict[str, Service], kind: str):
    service = every_service[kind]
    assert any(question.get("required") for question in service.questions)

    ui.login(TOLVAN_ID)
    _open_the_form(ui, service)
    given = _fill_required(ui.page, service.questions)
    ui.click("Fortsätt")

    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Kontrollera ditt ärende")
    expect(ui.page.get_by_role("alert")).to_have_count(0)
    expect(_summary_value(ui.page, "Tjänst")).to_have_text(service.name)
    labels = {question["key"]: question["label"] for question in service.questions}
    for key, (_stored, shown) in given.items():
        expect(_summary_value(ui.page, labels[key])).to_have_text(shown)
    assert not Case.objects.exists()

    ui.click("Skicka")
    expect(ui.page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
    expect(ui.page.get_by_role("status").filter(has_text="Ditt ärende är skickat")).to_be_visible()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(service.name)
    for key, (_stored, shown) in given.items():
        expect(_summary_value(ui.page, labels[key])).to_have_text(shown)

    case = Case.objects.get(service=service)
    assert Case.objects.count() == 1
    assert (case.patient_id, case.created_by_id) == (personas.tolvan.pk, personas.tolvan.pk)
    assert ui.page.url.endswith(f"/cases/{case.id}/")
    stored = {answer["key"]: answer["value"] for answer in case.answers}
    assert list(stored) == [question["key"] for question in service.questions]
    assert {key: stored[key] for key in given} == {key: value for key, (value, _shown) in given.items()}

    # The unit answers, and the patient reads the answer: the whole loop for this service.
    ui.click("Logga ut")
    ui.login(personas.staff_x.hsa_id, side="staff")
    ui.goto(f"/staff/cases/{case.id}/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(service.name)
    reply = f"Svar från mottagningen om {service.name.lower()}."
    ui.page.get_by_label("Ditt meddelande", exact=True).fill(reply)
    ui.click("Skicka svar")
    ui.click("Logga ut")
    ui.login(TOLVAN_ID)
    ui.goto(f"/cases/{case.id}/")
    expect(ui.page.get_by_text(reply)).to_be_visible()
    expect(_summary_value(ui.page, "Status")).to_have_text(re.compile("Besvarat", re.IGNORECASE))


def test_a_pdf_goes_with_the_case_to_the_patient_and_the_unit(
    ui: UI, personas, every_service: dict[str, Service], upload_root: Path, tmp_path: Path
):
    service = every_service[ServiceKind.ADVICE]
    pdf = tmp_path / "remiss från ortopeden.pdf"
    pdf.write_bytes(PDF)
    what = "Jag bifogar remissen som ortopeden skrev."

    ui.login(TOLVAN_ID)
    _open_the_form(ui, service)
    ui.page.get_by_label("Beskriv ditt ärende", exact=True).fill(what)
    ui.page.get_by_label("Bifoga filer (frivilligt)").set_input_files(pdf)
    ui.click("Fortsätt")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Kontrollera ditt ärende")
    expect(_summary_value(ui.page, "Filer")).to_have_text(pdf.name)
    expect(_summary_value(ui.page, "Beskriv ditt ärende")).to_have_text(what)
    assert not Case.objects.exists()
    pending = Attachment.objects.get()
    assert (pending.case_id, pending.original_name, pending.content_type) == (None, pdf.name, "application/pdf")

    ui.click("Skicka")
    expect(ui.page.get_by_role("status").filter(has_text="Ditt ärende är skickat")).to_be_visible()
    case = Case.objects.get()
    assert ui.page.url.endswith(f"/cases/{case.id}/")
    attachment = Attachment.objects.get()
    assert (attachment.case_id, attachment.size) == (case.id, len(PDF))
    assert [path.read_bytes() for path in upload_root.iterdir()] == [PDF]

    link = _summary_value(ui.page, "Filer").get_by_role("link", name=pdf.name, exact=True)
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"/cases/{case.id}/files/{attachment.id}/")
    with ui.page.expect_download() as download_info:
        link.click()
    download = download_info.value
    # Saved under a name the server made, with the extension of the type found.
    assert re.fullmatch(r"bilaga-\d{8}-[0-9a-f]{8}\.pdf", download.suggested_filename)
    assert Path(download.path()).read_bytes() == PDF
    ui.click("Logga ut")

    # A staff member of the unit sees the same file with the case, and may fetch it too.
    ui.login(personas.staff_x.hsa_id, side="staff")
    ui.goto(f"/staff/cases/{case.id}/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(service.name)
    staff_link = _summary_value(ui.page, "Filer").get_by_role("link", name=pdf.name, exact=True)
    expect(staff_link).to_be_visible()
    expect(staff_link).to_have_attribute("href", re.compile(rf"/staff/cases/{case.id}/files/{attachment.id}/$"))
    with ui.page.expect_download() as staff_download_info:
        staff_link.click()
    assert Path(staff_download_info.value.path()).read_bytes() == PDF


def test_a_text_file_named_like_a_picture_is_refused(
    ui: UI, personas, every_service: dict[str, Service], upload_root: Path, tmp_path: Path
):
    service = every_service[ServiceKind.ADVICE]
    disguised = tmp_path / "utslag.png"
    disguised.write_text("Det här är ingen bild, bara text.\n", encoding="utf-8")

    ui.login(TOLVAN_ID)
    _open_the_form(ui, service)
    ui.page.get_by_label("Beskriv ditt ärende", exact=True).fill("Se bilden på utslaget.")
    ui.page.get_by_label("Bifoga filer (frivilligt)").set_input_files(disguised)
    ui.click("Fortsätt")

    expect(ui.page.get_by_role("heading", level=1)).to_have_text(service.name)
    summary = ui.page.get_by_role("alert").filter(has_text="Det finns ett problem med filerna")
    expect(summary).to_have_count(1)
    expect(summary.get_by_role("listitem")).to_have_text(["utslag.png är inte en PDF-, JPEG- eller PNG-fil."])
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_files")
    # The answer is kept; nothing was sent or stored.
    expect(ui.page.get_by_label("Beskriv ditt ärende", exact=True)).to_have_value("Se bilden på utslaget.")
    expect(ui.page.get_by_role("button", name="Skicka", exact=True)).to_have_count(0)
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()
    assert not upload_root.exists() or list(upload_root.iterdir()) == []
