"""Invoices and reminders reach the person: a neutral notice to whoever gets their letters, and on
paper in the print batch, with the letters, when none of them chose digital letters; once each,
and an invoice paid before the batch is not printed."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from tests.fees.helpers import guardian_of, resident
from tests.payments.helpers import a_fee, client_of
from vardkontakt.letters.invoice_post import invoices_post
from vardkontakt.letters.models import InvoicePaper, InvoicePost, InvoiceStage
from vardkontakt.letters.services import print_batch_create
from vardkontakt.notifications.messages import render
from vardkontakt.notifications.models import Notification, NotificationKind
from vardkontakt.payments import invoices
from vardkontakt.payments.models import Invoice, Method, Payment, PaymentRules, Status

pytestmark = pytest.mark.django_db


def addressed(patient, *, digital: bool = False):
    patient.street_address, patient.postal_code, patient.city = "Testgatan 1", "21120", "Malmö"
    patient.digital_letters = digital
    patient.save()
    return patient


@pytest.fixture
def invoice() -> Invoice:
    fee = a_fee(amount="200", day=timezone.localdate() - dt.timedelta(days=100))
    addressed(fee.patient)
    assert fee.unit is not None
    PaymentRules.objects.create(region=fee.unit.administration.region, bankgiro="5050-1055")
    [made] = invoices.invoices_issue(today=fee.date_of_care + dt.timedelta(days=14))
    return made


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_invoice_to_someone_without_digital_letters_is_told_and_printed_once(
    invoice, print_dir: Path, django_capture_on_commit_callbacks
):
    patient = invoice.fee.patient
    assert invoices_post() == 1
    assert invoices_post() == 0  # once
    post = InvoicePost.objects.get()
    assert (post.stage, post.digital, post.paper) == (InvoiceStage.INVOICE, False, InvoicePaper.DUE)
    notice = Notification.objects.get(kind=NotificationKind.NEW_INVOICE)
    assert notice.recipient == patient and notice.about_id == str(invoice.pk)
    # What leaves by SMS or e-mail says nothing of the care, the unit or the amount.
    outgoing = render(NotificationKind.NEW_INVOICE)
    assert not re.search(r"\b200\b", outgoing.body) and invoice.fee.unit.name not in outgoing.body

    with django_capture_on_commit_callbacks(execute=True):
        batch = print_batch_create()
    assert batch is not None and batch.letter_count == 1
    manifest = json.loads((print_dir / batch.manifest_name).read_text())
    [item] = manifest["items"]
    assert (item["kind"], item["postal_code"], item["name"]) == ("invoice", "21120", patient.full_name)
    text = pdf_text((print_dir / batch.pdf_name).read_bytes())
    assert "Testgatan 1" in text and invoice.ocr in text and "5050-1055" in text and "Faktura" in text
    post.refresh_from_db()
    assert (post.paper, post.print_batch) == (InvoicePaper.PRINTED, batch)
    assert print_batch_create() is None  # printed once


def test_digital_letters_mean_a_notice_and_no_paper(invoice, print_dir: Path):
    addressed(invoice.fee.patient, digital=True)
    invoices_post()
    post = InvoicePost.objects.get()
    assert (post.digital, post.paper) == (True, InvoicePaper.NONE)
    assert Notification.objects.filter(kind=NotificationKind.NEW_INVOICE).count() == 1
    assert print_batch_create() is None


def test_a_childs_invoice_reaches_the_guardians_and_goes_digital_if_one_of_them_chose_it(print_dir: Path):
    child = addressed(resident(timezone.localdate() - dt.timedelta(days=365 * 10), given="Barn"))
    mother = addressed(resident(dt.date(1985, 3, 1), given="Mamma"), digital=True)
    father = addressed(resident(dt.date(1984, 4, 2), given="Pappa"))
    guardian_of(child, mother, father)
    fee = a_fee(patient=child, amount="100", day=timezone.localdate() - dt.timedelta(days=100))
    assert fee.unit is not None
    PaymentRules.objects.create(region=fee.unit.administration.region, bankgiro="5050-1055")
    invoices.invoices_issue(today=fee.date_of_care + dt.timedelta(days=14))
    invoices_post()
    told = set(Notification.objects.filter(kind=NotificationKind.NEW_INVOICE).values_list("recipient", flat=True))
    assert told == {child.pk, mother.pk, father.pk}
    assert InvoicePost.objects.get().paper == InvoicePaper.NONE


def test_an_invoice_paid_before_the_batch_is_not_printed(invoice, print_dir: Path):
    invoices_post()
    Payment.objects.create(
        fee=invoice.fee, method=Method.SWISH, amount=invoice.amount, idempotency_key="p", status=Status.PAID
    )
    assert print_batch_create() is None
    assert InvoicePost.objects.get().paper == InvoicePaper.SETTLED


def test_the_reminder_is_told_and_printed_with_its_fee(invoice, print_dir: Path, django_capture_on_commit_callbacks):
    invoices_post()
    print_batch_create()
    [reminded] = invoices.invoices_remind(today=invoice.due_on + dt.timedelta(days=10))
    assert invoices_post() == 1 and invoices_post() == 0
    assert Notification.objects.filter(kind=NotificationKind.INVOICE_REMINDER).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        batch = print_batch_create()
    assert batch is not None
    [item] = json.loads((print_dir / batch.manifest_name).read_text())["items"]
    assert item["kind"] == "invoice_reminder"
    text = pdf_text((print_dir / batch.pdf_name).read_bytes())
    assert "Påminnelse" in text and "260,00 kr" in text and reminded.ocr in text


def test_a_person_without_address_is_told_and_the_invoice_is_held_back(invoice, print_dir: Path):
    patient = invoice.fee.patient
    patient.street_address = ""
    patient.save()
    invoices_post()
    assert InvoicePost.objects.get().paper == InvoicePaper.NO_ADDRESS
    assert Notification.objects.filter(kind=NotificationKind.NEW_INVOICE, recipient=patient).exists()
    assert print_batch_create() is None


def test_the_start_page_links_the_invoice_notice_to_the_payments_page(invoice):
    invoices_post()
    client = client_of(invoice.fee.patient)
    assert "Du har en faktura" in client.get("/patient/").content.decode()
    notice = Notification.objects.get(kind=NotificationKind.NEW_INVOICE)
    opened = client.get(f"/patient/notices/{notice.pk}/")
    assert (opened.status_code, opened["Location"]) == (302, "/payments/")
