"""Journalen through its pages: who reads, at which age, the seal, the rules, the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.records.helpers import client_for, lab_result, write_note
from vardkontakt.access.models import AuditEntry
from vardkontakt.access.services import record_seal
from vardkontakt.organisation.models import CareUnit, UnitKind
from vardkontakt.records.models import Medicine, RecordNote

pytestmark = pytest.mark.django_db


def test_the_patient_reads_their_notes_and_the_read_is_logged(personas):
    write_note(personas.tolvan, "Halsont sedan en vecka.")
    page = client_for(personas.tolvan).get("/record/notes/")
    assert page.status_code == 200
    assert "Halsont sedan en vecka." in page.text
    entry = AuditEntry.objects.filter(action="record.read", patient_id=str(personas.tolvan.pk)).latest("sequence")
    assert (entry.outcome, entry.detail) == ("allowed", "notes")
    # Her own reads are one choice away: the log shows others' reads first (issue 16 §14).
    log = client_for(personas.tolvan).get("/record/access-log/?readers=own").text
    assert "Läste journalen" in log


def test_a_guardian_reads_the_young_childs_record_but_not_the_teenagers(personas):
    write_note(personas.child_9, "Öroninflammation.")
    write_note(personas.child_14, "Hemlig anteckning.")
    guardian = client_for(personas.guardian, acting_for=personas.child_9)
    assert "Öroninflammation." in guardian.get("/record/notes/").text
    assert guardian.post("/acting-for/", {"subject": str(personas.child_14.pk)}).status_code == 404


def test_a_child_under_18_is_told_when_they_can_read(personas):
    write_note(personas.child_14, "Hemlig anteckning.")
    page = client_for(personas.child_14).get("/record/notes/")
    assert page.status_code == 403
    assert "från 18 års ålder" in page.text
    assert "Hemlig anteckning." not in page.text


def test_a_proxy_reads_with_the_record_scope_only(personas):
    from vardkontakt.access.models import Proxy

    write_note(personas.principal, "Blodtrycket är bra.")
    proxy = client_for(personas.adult_proxy, acting_for=personas.principal)
    assert "Blodtrycket är bra." in proxy.get("/record/notes/").text
    Proxy.objects.filter(agent=personas.adult_proxy, status="active").update(scope_record=False)
    page = proxy.get("/record/notes/")
    assert page.status_code == 403
    assert "Blodtrycket" not in page.text


def test_the_seal_closes_every_record_page_at_once(personas):
    write_note(personas.principal, "Blodtrycket är bra.")
    own, proxy = client_for(personas.principal), client_for(personas.adult_proxy, acting_for=personas.principal)
    assert own.get("/record/notes/").status_code == 200
    record_seal(patient=personas.principal)
    for client in (own, proxy):
        for url in ("/record/", "/record/notes/", "/record/results/", "/record/medicines/"):
            page = client.get(url)
            assert page.status_code == 403, url
            assert "förseglad" in page.text
            assert "Blodtrycket" not in page.text


def test_withheld_information_is_mentioned_without_saying_what(personas):
    write_note(personas.tolvan, "Tidiga tankar.", template="Tidiga hypoteser")
    page = client_for(personas.tolvan).get("/record/notes/").text
    assert "Tidiga tankar." not in page
    assert "visas inte här" in page


def test_unsigned_notes_after_the_patients_choice(personas):
    write_note(personas.tolvan, "Ej signerad text.", signed=False)
    tolvan = client_for(personas.tolvan)
    assert "Ej signerad text." not in tolvan.get("/record/notes/").text
    assert tolvan.post("/record/choices/", {"show_unsigned": "on"}).status_code == 302
    page = tolvan.get("/record/notes/").text
    assert "Ej signerad text." in page and "kan innehålla fel" in page


def test_the_new_result_notice_is_the_patients_own_choice(personas):
    from vardkontakt.records.models import RecordPreferences

    tolvan = client_for(personas.tolvan)
    assert 'name="notify_new_results"' not in tolvan.get("/record/").text  # the overview shows the record
    assert 'name="notify_new_results"' in tolvan.get("/record/choices/").text
    tolvan.post("/record/choices/", {"notify_new_results": "on"})
    assert RecordPreferences.objects.get(patient=personas.tolvan).notify_new_results
    tolvan.post("/record/choices/", {})
    assert not RecordPreferences.objects.get(patient=personas.tolvan).notify_new_results


def test_results_and_medicines(personas):
    lab_result(personas.tolvan, "P-Glukos", "7.9", days_ago=2, flag="H", received_at=timezone.now())
    unit = CareUnit.objects.filter(kind=UnitKind.PRIMARY_CARE).first()
    assert unit is not None
    Medicine.objects.create(
        patient=personas.tolvan,
        unit=unit,
        source_system="pharm",
        source_id="m1",
        received_at=timezone.now(),
        name="Levaxin",
        strength="50 mikrog",
        dosage="1 tablett på morgonen",
        dispensed_on=dt.date(2026, 9, 1),
        renewable=True,
    )
    tolvan = client_for(personas.tolvan)
    results = tolvan.get("/record/results/").text
    assert "P-Glukos" in results and "7,9 mmol/L" in results and "4–6 mmol/L" in results  # Swedish decimals
    medicines = tolvan.get("/record/medicines/").text
    assert "Levaxin 50 mikrog" in medicines and "Kan förnyas" in medicines


def test_notes_page_in_constant_queries(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tolvan = client_for(personas.tolvan)
    tolvan.get("/record/notes/")  # first request of the session: its one-off writes are not the page's
    counts = []
    for total in (3, 30):
        RecordNote.objects.filter(patient=personas.tolvan).delete()
        for n in range(total):
            written_on = dt.date(2026, 1, 1) + dt.timedelta(days=n)
            write_note(personas.tolvan, f"Anteckning nummer {n:02d}.", written_on=written_on)
        with CaptureQueriesContext(connection) as queries:
            page = tolvan.get("/record/notes/").text
        counts.append(len(queries))
    assert counts[0] == counts[1], counts  # 3 notes or 30: the same queries
    assert page.count("Anteckning nummer") == 25
    assert "Nästa" in page


def test_paging_forward_back_and_past_the_end(personas):
    for n in range(26):
        write_note(
            personas.tolvan, f"Anteckning nummer {n:02d}.", written_on=dt.date(2026, 1, 1) + dt.timedelta(days=n)
        )
    tolvan = client_for(personas.tolvan)
    second = tolvan.get("/record/notes/?page=2").text
    assert second.count("Anteckning nummer") == 1 and "Anteckning nummer 00." in second  # the oldest, last
    assert "Föregående" in second and "Nästa" not in second
    for crafted in ("9", "-1", "x"):  # past the end or not a page: the first page, never an error
        page = tolvan.get(f"/record/notes/?page={crafted}").text
        assert "Anteckning nummer 25." in page and "Nästa" in page


def test_a_guardian_is_told_why_an_older_childs_record_is_not_offered(personas):
    anna = client_for(personas.guardian).get("/record/").text  # Saga is 14
    assert "fyller 13" in anna and "1 barn" not in anna
    assert "fyller 13" not in client_for(personas.tolvan).get("/record/").text


def test_profession_in_words_and_preliminary_results_marked(personas):
    write_note(personas.tolvan, "Besök.", author_profession="district_nurse")
    assert "distriktssköterska" in client_for(personas.tolvan).get("/record/notes/").text
    lab_result(
        personas.tolvan,
        "B-Hb",
        "131",
        unit_of_measure="g/L",
        low=None,
        high=None,
        days_ago=1,
        status="preliminary",
        received_at=timezone.now(),
    )
    assert "Preliminärt" in client_for(personas.tolvan).get("/record/results/").text


def test_an_unknown_section_is_404(personas):
    assert client_for(personas.tolvan).get("/record/secrets/").status_code == 404


def test_a_guardian_acting_for_the_child_changes_nobodys_choices(personas):
    """Issue 16 §13: the choices are each person's own; under a banner naming Liam, Anna's are not changed."""
    from vardkontakt.records.models import RecordPreferences

    anna = client_for(personas.guardian, acting_for=personas.child_9)
    page = anna.get("/record/choices/")
    assert page.status_code == 200 and 'name="hide_recent"' not in page.text
    assert "så de kan inte ändras här" in page.text
    assert anna.post("/record/choices/", {"hide_recent": "on"}).status_code == 403
    assert not RecordPreferences.objects.exists()


def test_the_extract_says_when_the_14_day_choice_hides_something(personas):
    """Issue 16 §12: the extract follows the choice, and says so."""
    from vardkontakt.records.models import RecordPreferences

    write_note(personas.tolvan, "Igår: hosta.", written_on=timezone.localdate() - dt.timedelta(days=1))
    RecordPreferences.objects.create(patient=personas.tolvan, hide_recent=True)
    page = client_for(personas.tolvan).post("/record/export/", {"sections": ["notes"], "output": "html"}).text
    assert "Igår: hosta." not in page
    assert "Du har valt att dölja uppgifter om vård de senaste 14 dagarna" in page
