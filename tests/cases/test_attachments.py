"""Files with a case: checked by content, limited in size and number, served only by the policy."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.helpers import login_as, minimal_pdf, picture
from vardkontakt.cases.attachments import attachments_remove_abandoned, path_of
from vardkontakt.cases.models import Attachment, Case
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db

PDF = minimal_pdf()
PNG = picture("PNG")
JPEG = picture("JPEG")


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
        tolvan,
        advice,
        [
            SimpleUploadedFile("remiss.pdf", PDF),
            SimpleUploadedFile("utslag.png", PNG),
            SimpleUploadedFile("foto.jpg", JPEG),
        ],
    )
    assert response.status_code == 302
    case = Case.objects.get()
    files = list(case.attachments.order_by("original_name"))
    assert [(f.original_name, f.content_type) for f in files] == [
        ("foto.jpg", "image/jpeg"),
        ("remiss.pdf", "application/pdf"),
        ("utslag.png", "image/png"),
    ]
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
    assert "bild.png är inte en PDF-, JPEG- eller PNG-fil" in response.content.decode()
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
        uploaded_by=personas.other_patient,
        submission_key="x",
        original_name="x.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        stored_as="other.bin",
        created_at=mine.received_at,
    )
    assert tolvan.get(f"/cases/{mine.id}/files/{other_file.id}/").status_code == 404


def test_files_of_a_case_never_sent_are_removed_after_a_day(tolvan, advice, personas):
    url = f"/cases/new/{advice.unit_id}/{advice.id}/"
    tolvan.post(
        url,
        {"what": "x", "idempotency_key": "abandoned", "step": "review", "files": [SimpleUploadedFile("a.pdf", PDF)]},
    )
    pending = Attachment.objects.get()
    assert path_of(pending).exists()
    assert attachments_remove_abandoned() == 0
    assert attachments_remove_abandoned(now=pending.created_at + dt.timedelta(days=1, minutes=1)) == 1
    assert not path_of(pending).exists()
    assert not Attachment.objects.exists()


# --- names the server makes, metadata, active content, viruses (issue 14 item 6) -------------------


def download_name(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    return disposition.split("filename=", 1)[1].strip('"')


@pytest.mark.parametrize(
    ("sent_as", "content", "suffix"),
    [
        ("report.html", PDF, ".pdf"),
        ("x.bat", PNG, ".png"),
        ("run.hta", JPEG, ".jpg"),
        ("bild.svg", PNG, ".png"),
        ("script.js", PDF, ".pdf"),
        ("noname", JPEG, ".jpg"),
    ],
)
def test_a_file_is_stored_and_served_under_a_name_the_server_makes(tolvan, advice, sent_as, content, suffix):
    assert send(tolvan, advice, [SimpleUploadedFile(sent_as, content)]).status_code == 302
    case = Case.objects.get()
    stored = case.attachments.get()
    assert stored.original_name == sent_as  # display text only
    assert stored.stored_as.endswith(suffix) and sent_as not in stored.stored_as
    name = download_name(tolvan.get(f"/cases/{case.id}/files/{stored.id}/"))
    assert re.fullmatch(rf"bilaga-\d{{8}}-{stored.id.hex[:8]}\{suffix}", name), name


def test_the_senders_name_is_cleaned_for_display(tolvan, advice):
    sent = "..\\..\\Windows\\mal\u202egpj.exe\u200b  \u0007.pdf"
    review(tolvan, advice, [SimpleUploadedFile(sent, PDF)])
    shown = Attachment.objects.get().original_name
    assert shown == "malgpj.exe .pdf"
    assert all(ch not in shown for ch in "\\/\u202e\u200b\u0007")


def test_image_metadata_is_stripped(tolvan, advice):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Telefonmärke"
    exif[0x8825] = {1: "N", 2: (55.0, 36.0, 15.5), 3: "E", 4: (13.0, 0.0, 7.0)}  # GPS: where the photo was taken
    photo = picture("JPEG", size=(64, 48), exif=exif.tobytes(), comment=b"hemligt")
    assert b"Exif" in photo and b"hemligt" in photo
    review(tolvan, advice, [SimpleUploadedFile("foto.jpg", photo)])
    kept = path_of(Attachment.objects.get()).read_bytes()
    assert b"Exif" not in kept and b"hemligt" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.size == (64, 48)
        assert not image.getexif()
        assert image.getpixel((10, 10)) == pytest.approx((200, 30, 30), abs=8)


def test_png_text_chunks_are_stripped(tolvan, advice):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "Lindängsvägen 12, Malmö")
    review(tolvan, advice, [SimpleUploadedFile("skärm.png", picture("PNG", pnginfo=info))])
    assert b"Location" not in path_of(Attachment.objects.get()).read_bytes()


def pdf_with(catalog_entry: dict[str, Any] | None = None, attachment: bool = False) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if catalog_entry:
        action = DictionaryObject(
            {
                NameObject(k): NameObject(v) if v.startswith("/") else TextStringObject(v)
                for k, v in catalog_entry.items()
            }
        )
        writer._root_object[NameObject("/OpenAction")] = action
    if attachment:
        writer.add_attachment("inte-farlig.exe", b"MZ\x90\x00")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pdf_with({"/S": "/JavaScript", "/JS": "app.alert(1)"}), "innehåller JavaScript"),
        (
            pdf_with({"/S": "/JavaScript", "/JS": "app.alert(1)"}).replace(b"/JavaScript", b"/J#61vaScript"),
            "innehåller JavaScript",
        ),
        (pdf_with({"/S": "/Launch", "/F": "cmd.exe"}), "innehåller en åtgärd som startar andra program"),
        (pdf_with(attachment=True), "har andra filer inbäddade"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n", "kunde inte läsas"),
    ],
)
def test_pdfs_with_active_content_are_refused(tolvan, advice, settings, content, message):
    response = review(tolvan, advice, [SimpleUploadedFile("remiss.pdf", content)])
    assert response.status_code == 200
    assert f"remiss.pdf {message}" in response.content.decode()
    assert not Attachment.objects.exists()
    root = Path(settings.UPLOAD_ROOT)
    assert not root.exists() or not any(root.iterdir())


def test_a_picture_that_cannot_be_decoded_is_refused(tolvan, advice):
    response = review(tolvan, advice, [SimpleUploadedFile("bild.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)])
    assert "bild.png kunde inte läsas som en PDF-, JPEG- eller PNG-fil" in response.content.decode()
    assert not Attachment.objects.exists()


EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def clamd(tmp_path, settings) -> Iterator[str]:
    """Debian's clamd on a Unix socket of its own. Its signature database cannot be fetched here
    (freshclam needs database.clamav.net), so it gets one written offline: a body signature for the
    EICAR test string, the same string every scanner's own database detects."""
    binary = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)
    if binary is None:
        pytest.skip("clamd is not installed (make test installs Debian's clamav-daemon)")
    database = tmp_path / "clamav-db"
    database.mkdir()
    (database / "vardkontakt-test.ndb").write_text(f"Vardkontakt.Test.EICAR:0:*:{EICAR.hex()}\n")
    socket_path = tmp_path / "clamd.sock"
    config = tmp_path / "clamd.conf"
    config.write_text(
        f"LocalSocket {socket_path}\nDatabaseDirectory {database}\nForeground yes\nLogFile {tmp_path / 'clamd.log'}\n"
        f"PidFile {tmp_path / 'clamd.pid'}\nTemporaryDirectory {tmp_path}\n"
    )
    process = subprocess.Popen(
        [binary, "--config-file", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"clamd did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.1)
        settings.CLAMAV_SOCKET = str(socket_path)
        yield str(socket_path)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_clamav_stops_the_eicar_test_file(tolvan, advice, clamd):
    from vardkontakt.core.virus_scan import scan_bytes

    assert scan_bytes(EICAR).signature.startswith("Vardkontakt.Test.EICAR")
    assert scan_bytes(PDF).clean
    # A PDF carrying the test string after its end passes every other check: the scanner stops it.
    infected = PDF + EICAR + b"\n"
    response = review(tolvan, advice, [SimpleUploadedFile("remiss.pdf", infected), SimpleUploadedFile("ok.pdf", PDF)])
    page = response.content.decode()
    assert "remiss.pdf stoppades av viruskontrollen" in page, re.findall(r"<li>.*?</li>", page)
    assert not Attachment.objects.exists()
    assert send(tolvan, advice, [SimpleUploadedFile("ok.pdf", PDF)], key="clean").status_code == 302
    assert Case.objects.get().attachments.count() == 1


def test_a_configured_scanner_that_does_not_answer_refuses_the_upload(tolvan, advice, settings, tmp_path):
    settings.CLAMAV_SOCKET = str(tmp_path / "no-clamd.sock")
    response = review(tolvan, advice, [SimpleUploadedFile("ok.pdf", PDF)])
    assert "kunde inte kontrolleras mot virus just nu" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_refused_file_is_named_beside_the_file_field_too(tolvan, advice):
    """Issue 16 item 27: the error stands at the field, not only in the summary at the top."""
    page = review(tolvan, advice, [SimpleUploadedFile("bild.png", b"MZ not an image", content_type="image/png")])
    text = page.content.decode()
    assert '<span class="nhsuk-error-message" id="id_files-error">' in text
    assert 'aria-describedby="id_files-hint id_files-error"' in text


def test_on_change_an_attached_file_can_be_removed_and_the_answers_stay(tolvan, advice, personas):
    url = f"/cases/new/{advice.unit_id}/{advice.id}/"
    review(tolvan, advice, [SimpleUploadedFile("remiss.pdf", PDF), SimpleUploadedFile("bild.png", PNG)])
    removed = Attachment.objects.get(original_name="remiss.pdf")
    answers = {"what": "Se bifogade filer.", "idempotency_key": "k1"}
    page = tolvan.post(url, {**answers, "remove_file": str(removed.id)}).content.decode()
    assert not Attachment.objects.filter(pk=removed.id).exists()
    assert not path_of(removed).exists()
    assert "Attached:" not in page and "Bifogat:" in page and "remiss.pdf" not in page and "bild.png" in page
    assert "Se bifogade filer." in page  # back on the form with the answer kept
    # A second click, or someone else's file, removes nothing.
    assert tolvan.post(url, {**answers, "remove_file": str(removed.id)}).status_code == 200
    other = login_as(Client(), User.objects.get_or_create_for_patient(personas.other_patient))
    kept = Attachment.objects.get(original_name="bild.png")
    other.post(url, {**answers, "remove_file": str(kept.id)})
    tolvan.post(url, {**answers, "remove_file": "not-a-uuid"})
    assert Attachment.objects.filter(pk=kept.id).exists()
    send(tolvan, advice, [])
    assert [a.original_name for a in Case.objects.get().attachments.all()] == ["bild.png"]
