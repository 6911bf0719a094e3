"""Digital or paper, the print batch with its manifest, keeping, and Brev: reading, marking read,
logging, and what can be done from a letter."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from pypdf import PdfReader

from tests.helpers import login_as
from tests.letters.conftest import at, local, slots_from
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.models import VisitType
from vardkontakt.booking.services import booking_create_by_staff, booking_create_online
from vardkontakt.identity.models import Patient, User
from vardkontakt.letters.models import Letter, Paper, PaperReason, PrintBatch
from vardkontakt.letters.services import (
    letters_issue_due,
    letters_remove_expired,
    letters_to_paper,
    print_batch_create,
)
from vardkontakt.notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db

MONDAY = (2026, 11, 30)


@pytest.fixture
def week(unit, visit, personas):
    return slots_from(unit, visit, personas.staff_x, local(2026, 12, 7, 9))


def address(patient: Patient, street: str = "Storgatan 1", code: str = "21145", city: str = "Malmö") -> None:
    Patient.objects.filter(pk=patient.pk).update(street_address=street, postal_code=code, city=city)


def issue_monday(unit, week, *people, by=None) -> list[Letter]:
    with at(local(*MONDAY, 10)):
        for n, person in enumerate(people):
            booking_create_online(slot_id=week[n].pk, unit=unit, subject=person, actor=by or person)
    with at(local(*MONDAY, 18)):
        letters_issue_due()
    return list(Letter.objects.order_by("appointment_at"))


def client_for(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def test_digital_choice_keeps_the_letter_off_paper_until_it_is_left_unopened(unit, week, personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(digital_letters=True)
    address(personas.tolvan)
    address(personas.other_patient, code="21120")
    Patient.objects.filter(pk=personas.other_patient.pk).update(digital_letters=True)
    tolvans, others = issue_monday(unit, week, personas.tolvan, personas.other_patient)
    assert tolvans.digital and tolvans.paper == Paper.NONE
    with at(local(2026, 12, 1, 9)):
        client_for(personas.tolvan).get(f"/letters/{tolvans.pk}/")  # Tolvan opens hers
    # Five days (the default) before the visit on 7 December: the unopened one goes on paper.
    with at(local(2026, 12, 1, 12)):
        assert letters_to_paper() == 0
    with at(local(2026, 12, 2, 9, 35)):  # five days before 7 December 09:30
        assert letters_to_paper() == 1
    others.refresh_from_db()
    tolvans.refresh_from_db()
    assert (others.paper, others.paper_reason) == (Paper.DUE, PaperReason.UNOPENED)
    assert tolvans.paper == Paper.NONE


def test_a_guardians_digital_choice_brings_the_childs_letter_to_brev(unit, week, personas):
    Patient.objects.filter(pk=personas.guardian.pk).update(digital_letters=True)
    (letter,) = issue_monday(unit, week, personas.child_9, by=personas.guardian)
    assert letter.digital and letter.paper == Paper.NONE
    told = set(Notification.objects.filter(kind=NotificationKind.NEW_LETTER).values_list("recipient", flat=True))
    assert personas.guardian.pk in told and personas.child_9.pk in told
    page = client_for(personas.guardian).get("/letters/", HTTP_ACCEPT_LANGUAGE="sv")
    assert page.status_code == 200


def test_the_print_batch_is_one_pdf_in_postal_code_order_with_a_manifest(
    unit, week, personas, print_dir, django_capture_on_commit_callbacks
):
    address(personas.tolvan, code="21145")
    address(personas.other_patient, code="11120", city="Stockholm")
    issue_monday(unit, week, personas.tolvan, personas.other_patient, personas.principal)  # Gunnel: no address
    with at(local(*MONDAY, 19)), django_capture_on_commit_callbacks(execute=True):
        batch = print_batch_create()
    assert batch is not None and batch.letter_count == 2
    files = sorted(p.name for p in print_dir.iterdir())
    assert files == sorted([batch.pdf_name, batch.manifest_name])  # no .part left
    manifest = json.loads((print_dir / batch.manifest_name).read_text())
    assert [item["postal_code"] for item in manifest["items"]] == ["11120", "21145"]
    assert manifest["pages"] == batch.page_count >= 2 and manifest["items"][1]["first_page"] > 1
    joined = PdfReader(print_dir / batch.pdf_name)
    assert len(joined.pages) == batch.page_count
    for item in manifest["items"]:  # each letter starts on the page the manifest names, with its address
        first = joined.pages[item["first_page"] - 1].extract_text()
        assert item["name"] in first and item["postal_code"] in first
    assert set(Letter.objects.values_list("paper", flat=True)) == {Paper.PRINTED, Paper.NO_ADDRESS}
    with at(local(*MONDAY, 20)):
        assert print_batch_create() is None  # nothing printed twice
    assert PrintBatch.objects.count() == 1


def pdf_text(letter: Letter) -> tuple[str, str]:
    """The letter's PDF as its reader gets it: the document's language and its text."""
    reader = PdfReader(io.BytesIO(bytes(letter.pdf)))
    return str(reader.root_object["/Lang"]), " ".join(page.extract_text() for page in reader.pages)


def test_the_pdf_is_written_in_the_language_the_person_chose_for_letters(unit, week, personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(letter_language="en")
    issue_monday(unit, week, personas.tolvan, personas.other_patient)
    english = Letter.objects.get(patient=personas.tolvan)
    swedish = Letter.objects.get(patient=personas.other_patient)
    lang, text = pdf_text(english)
    assert (lang, english.pdf_language) == ("en", "en")
    assert "Appointment letter" in text and "Health check" in text and "If you cannot come" in text
    assert "Kallelse" not in text and "Hälsosamtal" not in text
    lang, text = pdf_text(swedish)
    assert (lang, swedish.pdf_language) == ("sv", "sv")
    assert "Kallelse" in text and "Hälsosamtal" in text and "Om du inte kan komma" in text
    assert "Appointment letter" not in text
    # The page in Brev is there in both languages either way.
    assert "Health check" in english.html_en and "Hälsosamtal" in english.html_sv


def test_an_unprinted_letter_replaced_by_a_newer_one_is_not_printed(unit, week, personas, print_dir):
    from vardkontakt.booking.services import booking_move_online

    address(personas.tolvan)
    (first,) = issue_monday(unit, week, personas.tolvan)
    with at(local(2026, 12, 1, 9)):
        booking_move_online(booking_id=str(first.booking_id), new_slot_id=week[3].pk, actor=personas.tolvan)
    with at(local(2026, 12, 1, 18)):
        letters_issue_due()
    first.refresh_from_db()
    assert first.paper == Paper.SUPERSEDED and not first.current
    with at(local(2026, 12, 1, 19)):
        batch = print_batch_create()
    assert batch is not None and batch.letter_count == 1


def test_letters_of_people_without_an_account_lose_their_content_after_the_keeping_time(unit, week, personas):
    (letter,) = issue_monday(unit, week, personas.other_patient)
    assert personas.other_patient.user_id is None
    with at(local(2027, 2, 27, 12)):  # 89 days on
        assert letters_remove_expired() == 0
    with at(local(2027, 3, 1, 12)):
        assert letters_remove_expired() == 1
    letter.refresh_from_db()
    assert letter.content_removed_at and letter.html_sv == "" and bytes(letter.pdf) == b""


def test_opening_a_letter_marks_it_read_and_is_logged_each_time(unit, week, personas):
    (letter,) = issue_monday(unit, week, personas.tolvan)
    client = client_for(personas.tolvan)
    with at(local(2026, 12, 1, 9)):
        inbox = client.get("/letters/")
        assert "Oläst" in inbox.content.decode()
        for _ in range(2):
            page = client.get(f"/letters/{letter.pk}/")
            assert page.status_code == 200
        assert "Oläst" not in client.get("/letters/").content.decode()
    letter.refresh_from_db()
    assert letter.read_at == local(2026, 12, 1, 9)
    assert AuditEntry.objects.filter(action="letter.open", patient_id=personas.tolvan.pk).count() == 2
    body = page.content.decode()
    assert f"/bookings/{letter.booking_id}/cancel/" in body and f"/bookings/{letter.booking_id}/rebook/" in body
    pdf = client.get(f"/letters/{letter.pk}/letter.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_another_persons_letter_is_not_found_and_changes_nothing(unit, week, personas):
    (letter,) = issue_monday(unit, week, personas.tolvan)
    before = AuditEntry.objects.count()
    for outsider in (personas.other_patient, personas.guardian, personas.adult_proxy):
        assert client_for(outsider).get(f"/letters/{letter.pk}/").status_code == 404
        assert client_for(outsider).get(f"/letters/{letter.pk}/letter.pdf").status_code == 404
    letter.refresh_from_db()
    assert letter.read_at is None and AuditEntry.objects.count() == before


def test_a_visit_that_cannot_be_changed_online_says_call_the_unit(unit, personas):
    phone_visit = VisitType.objects.create(
        unit=unit, name="Provtagning", duration_minutes=15, professions=["district_nurse"], bookable_online=False
    )
    slots = slots_from(unit, phone_visit, personas.staff_x, local(2026, 12, 8, 9), count=1)
    unit.phone = "040-123 45 67"
    unit.save(update_fields=["phone"])
    with at(local(*MONDAY, 10)):
        booking_create_by_staff(slot_id=slots[0].pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x)
    with at(local(*MONDAY, 18)):
        letters_issue_due()
    letter = Letter.objects.get()
    with at(local(2026, 12, 1, 9)):
        body = client_for(personas.tolvan).get(f"/letters/{letter.pk}/").content.decode()
    assert "040-123 45 67" in body and "/cancel/" not in body and "Ring mottagningen" in body
