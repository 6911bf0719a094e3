"""The seal, reopening by the archive, and the step-up that guards sensitive actions."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry, RecordSeal
from vardkontakt.access.selectors import record_for_reader
from vardkontakt.access.services import record_seal
from vardkontakt.identity.models import Patient, User

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    if isinstance(person, Patient):
        return login_as(Client(), User.objects.get_or_create_for_patient(person))
    return login_as(Client(), User.objects.get_or_create_for_staff(person))


def test_sealing_needs_a_confirmation(personas):
    tolvan = client_for(personas.tolvan)
    response = tolvan.post("/record/seal/", {})
    assert response.status_code == 200
    assert "Bekräfta att du förstår" in response.text
    assert not RecordSeal.objects.filter(patient=personas.tolvan).exists()


def test_a_patient_seals_their_record_and_nobody_reads_it_after(personas):
    principal = client_for(personas.principal)
    assert record_for_reader(reader=personas.adult_proxy, subject=personas.principal)
    assert principal.post("/record/seal/", {"confirm": "on"}).status_code == 302
    assert "förseglad sedan" in principal.get("/record/seal/").text
    assert not record_for_reader(reader=personas.principal, subject=personas.principal)
    assert not record_for_reader(reader=personas.adult_proxy, subject=personas.principal)
    entries = AuditEntry.objects.filter(patient_id=str(personas.principal.pk))
    assert entries.filter(action="record.seal").count() == 1
    assert entries.filter(action="record.read", outcome="denied").count() == 2


def test_sealing_twice_keeps_one_seal(personas):
    tolvan = client_for(personas.tolvan)
    tolvan.post("/record/seal/", {"confirm": "on"})
    tolvan.post("/record/seal/", {"confirm": "on"})
    assert RecordSeal.objects.filter(patient=personas.tolvan).count() == 1


def test_only_an_archivist_reopens_and_must_give_a_reason(personas):
    seal = RecordSeal.objects.get(patient=personas.sealed, reopened_at__isnull=True)
    for outsider in (personas.unit_admin, personas.support, personas.staff_x):
        assert client_for(outsider).post(f"/staff/seals/{seal.id}/reopen/", {"reason": "x" * 20}).status_code == 403
    archivist = client_for(personas.archivist)
    response = archivist.post(f"/staff/seals/{seal.id}/reopen/", {"reason": "kort"})
    assert response.status_code == 400
    seal.refresh_from_db()
    assert seal.reopened_at is None
    reason = "Identitet kontrollerad på plats, beslut enligt rutin."
    assert archivist.post(f"/staff/seals/{seal.id}/reopen/", {"reason": reason}).status_code == 302
    seal.refresh_from_db()
    assert (seal.reopened_by, seal.reopen_reason) == (personas.archivist, reason)
    entry = AuditEntry.objects.get(action="record.reopen")
    assert (entry.actor_id, entry.detail) == (str(personas.archivist.pk), reason)
    # The patient can read again (Sofia is an adult).
    assert record_for_reader(reader=personas.sealed, subject=personas.sealed)


def test_the_patient_cannot_reopen_their_own_seal(personas):
    sealed = client_for(personas.sealed)
    seal = RecordSeal.objects.get(patient=personas.sealed)
    assert sealed.post(f"/staff/seals/{seal.id}/reopen/", {"reason": "x" * 20}).status_code == 403
    page = sealed.get("/record/seal/").text
    assert "regionarkivet" in page
    assert 'name="confirm"' not in page


def test_the_archivist_finds_a_seal_by_personnummer(personas):
    archivist = client_for(personas.archivist)
    page = archivist.post("/staff/seals/", {"personnummer": personas.sealed.personnummer_display}).text
    assert "Sofia Förseglad" in page
    page = archivist.post("/staff/seals/", {"personnummer": personas.tolvan.personnummer}).text
    assert "inte förseglad" in page
    lookups = AuditEntry.objects.filter(action="seal.lookup", actor_id=str(personas.archivist.pk))
    assert list(lookups.values_list("patient_id", "detail")) == [(str(personas.sealed.pk), ""), ("", "no active seal")]
    assert client_for(personas.unit_admin).get("/staff/seals/").status_code == 403


# --- step-up ----------------------------------------------------------------------------------


def test_an_expired_step_up_asks_for_a_fresh_login_and_keeps_the_form(personas, settings):
    start = dt.datetime(2026, 12, 24, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        tolvan = client_for(personas.tolvan)
        traveller.shift(dt.timedelta(minutes=settings.STEPUP_MAX_AGE_MINUTES + 1))
        page = tolvan.get("/proxies/new/")
        assert "Bekräfta med din e-legitimation" in page.text
        assert "/login/resident/?next=%2Fproxies%2Fnew%2F" in page.text
        posted = tolvan.post(
            "/proxies/new/",
            {"personnummer": personas.other_patient.personnummer, "scope_bookings": "on", "idempotency_key": "k"},
        )
        assert posted.status_code == 401
        assert "Inget är sparat ännu" in posted.text
        assert not personas.tolvan.proxies_given.exists()
        # A fresh login (what the OIDC callback does) and the form comes back filled in.
        login_as(tolvan, personas.tolvan.user)
        form = tolvan.get("/proxies/new/").text
        assert personas.other_patient.personnummer in form
        assert 'name="scope_bookings" type="checkbox" value="on" checked' in form


def test_a_recent_login_passes_the_step_up(personas):
    tolvan = client_for(personas.tolvan)
    assert "Utse ett ombud" in tolvan.get("/proxies/new/").text


@pytest.mark.parametrize("url", ["/settings/", "/record/seal/"])
def test_contact_details_and_sealing_need_step_up(personas, settings, url):
    start = dt.datetime(2026, 12, 24, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        tolvan = client_for(personas.tolvan)
        traveller.shift(dt.timedelta(minutes=settings.STEPUP_MAX_AGE_MINUTES, seconds=1))
        response = tolvan.post(url, {"confirm": "on", "mobile": "0701234567"})
        assert response.status_code == 401
    personas.tolvan.refresh_from_db()
    assert personas.tolvan.mobile == ""
    assert not RecordSeal.objects.filter(patient=personas.tolvan).exists()


# --- the seal against concurrent readers --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: the PostgreSQL guarantee")
def test_no_read_is_allowed_after_the_seal_commits(personas):
    subject = personas.principal
    readers = [personas.principal, personas.adult_proxy]
    results: list[tuple[float, bool]] = []
    sealed_at: list[float] = []
    stop = threading.Event()

    def read(reader: Patient) -> None:
        try:
            while not stop.is_set():
                began = time.monotonic()
                allowed = record_for_reader(reader=reader, subject=subject)
                results.append((began, allowed))
        finally:
            connection.close()

    def seal() -> None:
        try:
            time.sleep(0.3)
            record_seal(patient=subject)
            sealed_at.append(time.monotonic())
        finally:
            connection.close()

    threads = [threading.Thread(target=read, args=(r,)) for r in readers for _ in range(2)]
    sealer = threading.Thread(target=seal)
    for thread in [*threads, sealer]:
        thread.start()
    sealer.join(timeout=30)  # the seal must get through while the readers keep reading
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert sealed_at, "the seal did not commit while reads went on"
    after = [allowed for began, allowed in results if began > sealed_at[0]]
    before = [allowed for began, allowed in results if began < sealed_at[0] - 0.05]
    assert after and not any(after), "a read that began after the seal committed was allowed"
    assert before and all(before)
    assert timezone.now()
