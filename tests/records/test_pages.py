"""Journalen through its pages: who reads, at which age, the seal, the rules, the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.records.helpers import client_for, lab_result, unit_of_kind, write_note
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
    assert "Äldre" in page


def _link(page: str, rel: str) -> str | None:
    """The pager's link to the newer (``prev``) or older (``next``) page, as the browser follows it."""
    import html
    import re

    found = re.search(rf'href="(\?[^"]*)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def _numbers(page: str) -> list[str]:
    import re

    return re.findall(r"Anteckning nummer (\d+)\.", page)


def test_paging_older_and_newer_by_key_with_ties_and_bookmarks(personas):
    # 60 notes on 20 days, three a day: the order is date, then arrival, then id, so the
    # notes of one day are never split unstably between pages, and none shows twice.
    received = timezone.now() - dt.timedelta(days=30)
    for n in range(60):
        write_note(
            personas.tolvan,
            f"Anteckning nummer {n:02d}.",
            written_on=dt.date(2026, 1, 1) + dt.timedelta(days=n // 3),
            received_at=received + dt.timedelta(minutes=n % 2),  # ties on the arrival too
        )
    tolvan = client_for(personas.tolvan)
    first = tolvan.get("/record/notes/").text
    assert "Äldre" in first and "Nyare" not in first
    seen = _numbers(first)
    older = _link(first, "next")
    assert older is not None and older.startswith("?before=2026-01-12_")  # the last shown entry's key
    second = tolvan.get(f"/record/notes/{older}").text
    third_link = _link(second, "next")
    assert "Nyare" in second and third_link is not None
    third = tolvan.get(f"/record/notes/{third_link}").text
    assert "Äldre" not in third and "Nyare" in third
    seen += _numbers(second) + _numbers(third)
    assert len(seen) == 60 and len(set(seen)) == 60  # every note once
    days = [int(n) // 3 for n in seen]
    assert days == sorted(days, reverse=True)  # newest first across the pages
    # Back to newer: the same second page, then the first.
    back = tolvan.get(f"/record/notes/{_link(third, 'prev')}").text
    assert _numbers(back) == _numbers(second)
    assert _numbers(tolvan.get(f"/record/notes/{_link(back, 'prev')}").text) == _numbers(first)[: len(_numbers(back))]
    # A bookmarked older page still starts after the same entry when a new note has arrived.
    write_note(personas.tolvan, "Anteckning nummer 99.", written_on=dt.date(2026, 3, 1))
    assert _numbers(tolvan.get(f"/record/notes/{older}").text) == _numbers(second)
    newest = tolvan.get("/record/notes/").text
    assert _numbers(newest)[0] == "99"


def test_paging_keeps_the_filter_and_takes_any_key_without_error(personas):
    for n in range(30):
        write_note(
            personas.tolvan,
            f"Anteckning nummer {n:02d}.",
            written_on=dt.date(2026, 1, 1) + dt.timedelta(days=n),
            author_profession="nurse" if n % 2 else "doctor",
        )
    tolvan = client_for(personas.tolvan)
    first = tolvan.get("/record/notes/?profession=nurse&start=2026-01-02").text
    assert len(_numbers(first)) == 15 and "Äldre" not in first  # the filter leaves one page
    everything = tolvan.get("/record/notes/").text
    older = _link(everything, "next")
    assert older is not None
    filtered = tolvan.get(f"/record/notes/{older}&profession=doctor").text
    assert all(int(n) % 2 == 0 for n in _numbers(filtered)) and _numbers(filtered)
    assert "profession=doctor" in (_link(filtered, "prev") or "")
    crafted = [
        "before=x",
        "before=2026-13-01_2026-01-01T00:00:00.000000Z_" + "0" * 32,
        "after=2026-01-01_nonsense_abc",
        "before=1999-01-01_2000-01-01T00:00:00.000000Z_00000000-0000-0000-0000-000000000000",  # past the end
        "after=2099-01-01_2099-01-01T00:00:00.000000Z_00000000-0000-0000-0000-000000000000",  # before the start
        "before=2026-01-10_2026-01-01T00:00:00_00000000-0000-0000-0000-000000000000",  # no zone
        "page=9",  # an old page-number link
    ]
    for query in crafted:
        page = tolvan.get(f"/record/notes/?{query}")
        assert page.status_code == 200, query
        assert "Anteckning nummer 29." in page.text and "Äldre" in page.text, query  # the first page


def test_deep_pages_use_the_same_queries_as_the_first(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(80):
        write_note(personas.tolvan, f"Anteckning nummer {n:02d}.", written_on=dt.date(2025, 1, 1) + dt.timedelta(n))
        lab_result(personas.tolvan, "P-Glukos", "5.5", days_ago=n + 20)
    tolvan = client_for(personas.tolvan)
    for start in ("/record/notes/", "/record/results/"):
        page = tolvan.get(start).text
        counts = []
        for _ in range(3):
            link = _link(page, "next")
            assert link is not None, start
            with CaptureQueriesContext(connection) as queries:
                page = tolvan.get(f"{start}{link}").text
            counts.append(len(queries))
        with CaptureQueriesContext(connection) as queries:
            tolvan.get(start)
        assert counts == [len(queries)] * 3, (start, counts, len(queries))
        assert "Nyare" in page


def test_medicines_by_name_page_previous_and_next(personas):
    unit = unit_of_kind(UnitKind.PRIMARY_CARE)
    for n in range(30):
        Medicine.objects.create(
            patient=personas.tolvan,
            unit=unit,
            source_system="pharm",
            source_id=f"paging-{n}",
            received_at=timezone.now(),
            name=f"Medicin {n:02d}",
            dispensed_on=dt.date(2026, 1, 1),
        )
    tolvan = client_for(personas.tolvan)
    first = tolvan.get("/record/medicines/").text
    assert "Medicin 00" in first and "Medicin 25" not in first and "Nästa" in first and "Äldre" not in first
    second = tolvan.get(f"/record/medicines/{_link(first, 'next')}").text
    assert "Medicin 25" in second and "Medicin 29" in second and "Medicin 24" not in second
    assert "Föregående" in second and "Nästa" not in second


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
