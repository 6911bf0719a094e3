"""Files with a case: checked by content, limited in size and number, served only by the policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.helpers import login_as
from vardkontakt.cases.attachments import path_of, remove_abandoned
from vardkontakt.cases.models import Attachment, Case
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def upload_root(settings, tmp_path):
    settings.UPLOAD_ROOT = str(tmp_path / "uploads")


@pytest.fixture
def tolvan(personas) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))


def review(client: Client, service, files: list[SimpleUploadedFile], key: str = "k1") -> Any:
    url = f"/cases/new/{service.unit_id}/{service.id}/"
    return client.post(url, {"what": "Se bifogade filer.", "idempotency_key": key, "step": "review", "files": files})


def send(client: Client, service, files: list[SimpleUploadedFile], key: str = "k1") -> Any:
    url = f"/cases/new/{service.unit_id}/{service.id}/"
    assert "Kontrollera ditt ärende" in review(client, service, files, key).content.decode()
    return client.post(url, {"what": "Se bifogade filer.", "idempotency_key": key, "step": "send"})


def test_files_go_with_the_case_and_back_out_only_through_the_policy(tolvan, advice, personas):
    response = send(
        tolvan, advice,
        [SimpleUploadedFile("remiss.pdf", PDF), SimpleUploadedFile("utslag.png", PNG), SimpleUploadedFile("foto.jpg", JPEG)],
    )  # fmt: skip
    assert response.status_code == 302
    case = Case.objects.get()
    files = list(case.attachments.order_by("original_name"))
    assert [(f.original_name, f.content_type) for f in files] == [
        ("foto.jpg", "image/jpeg"), ("remiss.pdf", "application/pdf"), ("utslag.png", "image/png"),
    ]  # fmt: skip
    pdf = next(f for f in files if f.content_type == "application/pdf")
    assert "static" not in str(path_of(pdf)) and path_of(pdf).read_bytes() == PDF
    download = tolvan.get(f"/cases/{case.id}/files/{pdf.id}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    staff = login_as(Client(), User.objects.get_or_create_for_staff(personas.staff_x))
    assert staff.get(f"/staff/cases/{case.id}/files/{pdf.id}/").status_code == 200
    outsider = login_as(Client(), User.objects.get_or_create_for_staff(personas.nurse))
    assert outsider.get(f"/staff/cases/{case.id}/files/{pdf.id}/").status_code == 404
    stranger = login_as(Client(), User.objects.get_or_create_for_patient(personas.other_patient))
    assert stranger.get(f"/cases/{case.id}/files/{pdf.id}/").status_code == 404


def test_a_disguised_file_is_refused_by_its_content(tolvan, advice):
    response = review(
        tolvan, advice, [SimpleUploadedFile("bild.png", b"MZ\x90\x00 not an image", content_type="image/png")]
    )
    assert response.status_code == 200
    assert "inte en PDF-, JPEG- eller PNG-fil" in response.content.decode()
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()


def test_a_file_over_10_mb_is_refused(tolvan, advice):
    big = SimpleUploadedFile("stor.pdf", PDF + b"0" * (10 * 1024 * 1024))
    response = review(tolvan, advice, [big])
    assert "större än 10 MB" in response.content.decode()
    assert not Attachment.objects.exists()


def test_at_most_five_files(tolvan, advice):
    files = [SimpleUploadedFile(f"f{n}.pdf", PDF) for n in range(6)]
    response = review(tolvan, advice, files)
    assert "högst 5 filer" in response.content.decode()
    assert not Attachment.objects.exists()


def test_another_patients_file_is_not_reachable_through_my_case(tolvan, advice, personas):
    send(tolvan, advice, [SimpleUploadedFile("a.pdf", PDF)], key="mine")
    mine = Case.objects.get()
    other_file = Attachment.objects.create(
        uploaded_by=personas.other_patient, submission_key="x", original_name="x.pdf", content_type="application/pdf",
        size=10, sha256="0" * 64, stored_as="other.bin", created_at=mine.received_at,
    )  # fmt: skip
    assert tolvan.get(f"/cases/{mine.id}/files/{other_file.id}/").status_code == 404


def test_files_of_a_case_never_sent_are_removed_after_a_day(tolvan, advice, personas):
    url = f"/cases/new/{advice.unit_id}/{advice.id}/"
    tolvan.post(
        url,
        {"what": "x", "idempotency_key": "abandoned", "step": "review", "files": [SimpleUploadedFile("a.pdf", PDF)]},
    )
    pending = Attachment.objects.get()
    assert path_of(pending).exists()
    assert remove_abandoned() == 0
    assert remove_abandoned(now=pending.created_at + dt.timedelta(days=1, minutes=1)) == 1
    assert not path_of(pending).exists()
    assert not Attachment.objects.exists()
