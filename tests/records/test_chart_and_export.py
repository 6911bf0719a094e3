"""Results over time (the chart page) and the record extract (PDF or a page to print)."""

from __future__ import annotations

import datetime as dt
import re
import socket
import zlib

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.records.helpers import client_for, lab_result, next_id, unit_of_kind, write_note
from vardkontakt.access.acting import ACTING_FOR
from vardkontakt.access.models import AuditEntry
from vardkontakt.core.charts import Marker
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import UnitKind
from vardkontakt.records import export
from vardkontakt.records.models import Diagnosis, LabResult, Medicine

pytestmark = pytest.mark.django_db
CHART = "/record/results/chart/"
EXPORT = "/record/export/"


def glucose_series(patient: Patient) -> None:
    for value, days_ago, flag in [("5.4", 300, "N"), ("6.1", 120, "H"), ("7.2", 20, "H")]:
        lab_result(patient, value=value, days_ago=days_ago, flag=flag)


def chart_of(client, analysis: str, **extra: str):
    return client.get(CHART, {"analysis": analysis, **extra})


# --- the chart ---------------------------------------------------------------------------------


def test_only_repeating_numeric_analyses_link_to_a_chart(personas):
    glucose_series(personas.tolvan)
    lab_result(personas.tolvan, "B-Hb", "141", unit_of_measure="g/L", low="117", high="153")
    for days_ago in (30, 60):
        lab_result(personas.tolvan, "Klamydia", None, value_text="Negativ", low=None, high=None, days_ago=days_ago)
    page = client_for(personas.tolvan).get("/record/results/").text
    assert page.count(f"{CHART}?analysis=P-Glukos&amp;unit=mmol%2FL") == 3  # each of its rows
    assert "analysis=B-Hb" not in page  # one value: nothing to draw
    assert "analysis=Klamydia" not in page  # text only


def test_the_chart_draws_the_values_and_a_table_carries_them(personas):
    glucose_series(personas.tolvan)
    page = chart_of(client_for(personas.tolvan), "P-Glukos")
    assert page.status_code == 200
    html = page.text
    assert "<figure" in html and 'role="img"' in html
    assert '<title id="result-chart-title">' in html and '<desc id="result-chart-desc">' in html
    assert "<script" not in html.split("<figure", 1)[1].split("</figure>", 1)[0]
    # The numbers in the table, as Swedish writes them, oldest first like the chart.
    rows = page.context["rows"]
    assert [(r.value, r.unit_of_measure, r.reference_range) for r in rows] == [
        ("5,4", "mmol/L", "4–6"),
        ("6,1", "mmol/L", "4–6"),
        ("7,2", "mmol/L", "4–6"),
    ]
    for cell in ("5,4", "6,1", "7,2", "4–6"):
        assert f'<td class="nhsuk-table__cell">{cell}</td>' in html
    # Outside the range: flagged in the table and drawn with another shape, not only another colour.
    assert [r.outside for r in rows] == [False, True, True]
    chart = page.context["chart"]
    assert [p.marker for p in chart.points] == [Marker.NORMAL, Marker.HIGH, Marker.HIGH]
    assert chart.points[0].shape.count("a") == 2 and "a" not in chart.points[1].shape  # circle vs triangle
    assert len(chart.bands) == 1  # the reference range as a band
    assert "P-Glukos" in page.context["description"]
    assert "7,2 mmol/L" in page.context["description"]


def test_the_chart_read_is_in_the_access_log(personas):
    glucose_series(personas.tolvan)
    chart_of(client_for(personas.tolvan), "P-Glukos")
    entry = AuditEntry.objects.filter(action="record.read", patient_id=str(personas.tolvan.pk)).latest("sequence")
    assert (entry.outcome, entry.detail) == ("allowed", "results")


@pytest.mark.parametrize(
    "analysis", ["Finns-inte", "Klamydia", "B-Hb", "S-Kreatinin", "U-hCG", "", "x" * 500]
)  # unknown, text only, one value, another patient's, from a withheld unit, none, absurd
def test_no_chart_without_two_published_values_of_ones_own(personas, analysis):
    lab_result(personas.tolvan, "B-Hb", "141", unit_of_measure="g/L")
    for days_ago in (30, 60):
        lab_result(personas.tolvan, "Klamydia", None, value_text="Negativ", low=None, high=None, days_ago=days_ago)
        lab_result(personas.other_patient, "S-Kreatinin", "87", unit_of_measure="µmol/L", days_ago=days_ago)
        lab_result(
            personas.tolvan, "U-hCG", "12", unit_of_measure="IE/L", kind=UnitKind.MATERNITY_CARE, days_ago=days_ago
        )
    page = chart_of(client_for(personas.tolvan), analysis)
    assert page.status_code == 404
    assert page.context["series"] is None
    assert "<svg" not in page.text.split('id="maincontent"', 1)[1]
    assert not re.search(r"\b87\b", page.text.split('id="maincontent"', 1)[1])  # not inside an id


def test_values_from_a_withheld_unit_never_join_the_chart(personas):
    glucose_series(personas.tolvan)
    lab_result(personas.tolvan, value="9.9", days_ago=5, kind=UnitKind.MATERNITY_CARE)
    lab_result(personas.tolvan, value="8.8", days_ago=6, kind=UnitKind.YOUTH_CLINIC)  # an adult: shown
    page = chart_of(client_for(personas.tolvan), "P-Glukos")
    values = [r.value for r in page.context["rows"]]
    assert "9,9" not in values and "9,9" not in page.text
    assert values[-1] == "8,8"


def test_the_chart_keeps_to_one_unit_of_measure(personas):
    glucose_series(personas.tolvan)
    lab_result(personas.tolvan, value="130", unit_of_measure="mg/dL", low="70", high="110", days_ago=400)
    lab_result(personas.tolvan, value="99", unit_of_measure="mg/dL", low="70", high="110", days_ago=500)
    tolvan = client_for(personas.tolvan)
    assert {r.unit_of_measure for r in chart_of(tolvan, "P-Glukos").context["rows"]} == {"mmol/L"}  # the newest's
    assert [r.value for r in chart_of(tolvan, "P-Glukos", unit="mg/dL").context["rows"]] == ["99", "130"]


def test_a_guardian_sees_the_young_childs_chart_and_not_from_their_own_page(personas):
    glucose_series(personas.child_9)
    guardian = client_for(personas.guardian)
    assert chart_of(guardian, "P-Glukos").status_code == 404  # acting for herself: not her results
    guardian = client_for(personas.guardian, acting_for=personas.child_9)
    assert chart_of(guardian, "P-Glukos").status_code == 200


def test_a_sealed_record_shows_no_chart(personas):
    glucose_series(personas.sealed)
    page = chart_of(client_for(personas.sealed), "P-Glukos")
    assert page.status_code == 403
    assert "<svg" not in page.text


def test_the_results_page_queries_stay_the_same_however_many_results(personas):
    tolvan = client_for(personas.tolvan)
    tolvan.get("/record/results/")  # the session's one-off writes are not the page's
    counts = []
    for total in (10, 200):
        LabResult.objects.filter(patient=personas.tolvan).delete()
        LabResult.objects.bulk_create(
            lab_result(personas.tolvan, f"Analys-{n % 5}", str(n), days_ago=n + 1, save=False) for n in range(total)
        )
        with CaptureQueriesContext(connection) as queries:
            page = tolvan.get("/record/results/")
        counts.append(len(queries))
        assert page.text.count(f"{CHART}?analysis=Analys-") == min(total, 25)  # every analysis repeats
    assert counts[0] == counts[1], counts


# --- the extract ------------------------------------------------------------------------------


def record_of(patient: Patient) -> None:
    """One entry in every section, with words that tell the sections apart."""
    write_note(patient, "Halsont sedan en vecka.", written_on=dt.date(2026, 3, 10))
    unit = unit_of_kind(UnitKind.PRIMARY_CARE)
    Diagnosis.objects.create(
        patient=patient,
        unit=unit,
        source_system="t",
        source_id=next_id("d"),
        received_at=timezone.now(),
        code="J06.9",
        text="Övre luftvägsinfektion",
        recorded_on=dt.date(2026, 3, 10),
    )
    Medicine.objects.create(
        patient=patient,
        unit=unit,
        source_system="t",
        source_id=next_id("m"),
        received_at=timezone.now(),
        name="Levaxin",
        strength="50 mikrog",
        dispensed_on=dt.date(2026, 3, 12),
    )
    lab_result(patient, "TSH", "2.1", unit_of_measure="mIE/L", low="0.3", high="4.2")


def choose(*sections: str, output: str = "html", **extra: str) -> dict[str, object]:
    return {"sections": list(sections), "output": output, **extra}


def exported_sections(patient: Patient) -> list[str]:
    entries = AuditEntry.objects.filter(
        action="record.read", patient_id=str(patient.pk), outcome="allowed", detail__startswith="export."
    )
    return sorted(entries.values_list("detail", flat=True))


def test_the_pdf_is_an_attachment_with_a_neutral_name(personas):
    record_of(personas.tolvan)
    response = client_for(personas.tolvan).post(EXPORT, choose("notes", "results", output="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="utdrag-') and disposition.endswith('.pdf"')
    for private in (personas.tolvan.personnummer, personas.tolvan.family_name, personas.tolvan.given_name):
        assert private not in disposition
    assert "no-store" in response["Cache-Control"]


def _pdf_text(content: bytes) -> bytes:
    """The PDF with its compressed streams (object streams hold the catalogue) written out."""
    found = content
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            found += zlib.decompress(stream.group(1))
        except zlib.error:
            continue  # a font or another stream that is not deflated
    return found


def test_the_pdf_is_tagged_for_screen_readers(personas):
    """Issue 16 item 27: a tagged PDF, PDF/UA-1 as far as WeasyPrint goes: a structure tree with
    headings and tables, the language, the title shown, the PDF/UA identifier."""
    record_of(personas.tolvan)
    response = client_for(personas.tolvan).post(EXPORT, choose("notes", "results", output="pdf"))
    text = _pdf_text(response.content)
    for marker in (b"/StructTreeRoot", b"/Marked true", b"/Lang", b"/DisplayDocTitle", b"pdfuaid:part", b"/Table"):
        assert marker in text, marker
    assert re.search(rb"/H[1-6]\b", text)


def test_only_the_chosen_sections_go_into_the_pdf(personas, monkeypatch):
    record_of(personas.tolvan)
    rendered: list[str] = []
    real_pdf = export.pdf

    def keep(html: str) -> bytes:
        rendered.append(html)
        return real_pdf(html)

    monkeypatch.setattr(export, "pdf", keep)
    response = client_for(personas.tolvan).post(EXPORT, choose("notes", "medicines", output="pdf"))
    assert response.content.startswith(b"%PDF")
    [html] = rendered
    assert "Halsont sedan en vecka." in html and "Levaxin 50 mikrog" in html
    assert "Övre luftvägsinfektion" not in html and "TSH" not in html
    assert personas.tolvan.full_name in html


def test_the_page_to_print_has_the_chosen_sections_and_the_period(personas):
    record_of(personas.tolvan)
    write_note(personas.tolvan, "En gammal anteckning.", written_on=dt.date(2025, 6, 1))
    tolvan = client_for(personas.tolvan)
    page = tolvan.post(EXPORT, choose("notes", "diagnoses"))
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "Halsont sedan en vecka." in page.text and "En gammal anteckning." in page.text
    assert "Övre luftvägsinfektion" in page.text
    assert "Levaxin" not in page.text and "TSH" not in page.text
    within = tolvan.post(EXPORT, choose("notes", start="2026-01-01", end="2026-12-31")).text
    assert "Halsont sedan en vecka." in within and "En gammal anteckning." not in within


def test_each_exported_section_is_logged(personas):
    record_of(personas.tolvan)
    client_for(personas.tolvan).post(EXPORT, choose("notes", "results", "medicines", output="pdf"))
    assert exported_sections(personas.tolvan) == ["export.medicines", "export.notes", "export.results"]


def test_withheld_units_and_other_patients_never_reach_the_extract(personas):
    record_of(personas.tolvan)
    write_note(personas.tolvan, "Från mödravården.", kind=UnitKind.MATERNITY_CARE)
    lab_result(personas.tolvan, "U-hCG", "12", unit_of_measure="IE/L", kind=UnitKind.MATERNITY_CARE)
    write_note(personas.other_patient, "Någon annans anteckning.")
    lab_result(personas.other_patient, "S-Kreatinin", "87", unit_of_measure="µmol/L")
    page = client_for(personas.tolvan).post(EXPORT, choose(*export.SECTIONS)).text
    assert "Halsont sedan en vecka." in page and "TSH" in page
    for hidden in (
        "Från mödravården.",
        "U-hCG",
        "Någon annans anteckning.",
        "S-Kreatinin",
        personas.other_patient.full_name,
    ):
        assert hidden not in page


def test_the_extract_needs_a_fresh_login(personas, settings):
    record_of(personas.tolvan)
    start = dt.datetime(2026, 12, 24, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        tolvan = client_for(personas.tolvan)
        traveller.shift(dt.timedelta(minutes=settings.STEPUP_MAX_AGE_MINUTES + 1))
        form = tolvan.get(EXPORT)
        assert form.status_code == 200
        assert "/login/resident/?next=%2Frecord%2Fexport%2F" in form.text
        assert 'name="sections"' not in form.text
        posted = tolvan.post(EXPORT, choose("notes", output="pdf"))
        assert posted.status_code == 401
        assert not posted.content.startswith(b"%PDF")
        assert "Halsont" not in posted.text
    assert exported_sections(personas.tolvan) == []


def test_a_fresh_login_gets_the_form_with_every_section_chosen(personas):
    page = client_for(personas.tolvan).get(EXPORT)
    assert page.status_code == 200
    for name in export.SECTIONS:
        assert f'name="sections" type="checkbox" value="{name}" checked' in page.text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (choose(), "sections"),
        (choose("notes", start="2026-05-01", end="2026-04-01"), "end"),
        (choose("notes", start="inte ett datum"), "start"),
        (choose("secrets"), "sections"),
    ],
)
def test_bad_choices_are_errors_and_produce_nothing(personas, data, field):
    record_of(personas.tolvan)
    response = client_for(personas.tolvan).post(EXPORT, data)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert list(response.context["form"].errors) == [field]
    assert "nhsuk-error-summary" in response.text
    assert "Halsont" not in response.text
    assert exported_sections(personas.tolvan) == []


def test_a_guardian_exports_the_young_childs_record(personas):
    record_of(personas.child_9)
    guardian = client_for(personas.guardian, acting_for=personas.child_9)
    page = guardian.post(EXPORT, choose("notes", "medicines")).text
    assert "Halsont sedan en vecka." in page and personas.child_9.full_name in page
    assert exported_sections(personas.child_9) == ["export.medicines", "export.notes"]
    entry = AuditEntry.objects.filter(patient_id=str(personas.child_9.pk), detail="export.notes").get()
    assert entry.actor_id == str(personas.guardian.pk)


def test_the_guardian_of_the_14_year_old_is_refused(personas):
    record_of(personas.child_14)
    guardian = client_for(personas.guardian)
    assert guardian.post("/acting-for/", {"subject": str(personas.child_14.pk)}).status_code == 404
    # Even with her in the session (chosen before she turned 13), the policy is asked again.
    session = guardian.session
    session[ACTING_FOR] = str(personas.child_14.pk)
    session.save()
    page = guardian.post(EXPORT, choose(*export.SECTIONS)).text
    assert "Halsont sedan en vecka." not in page
    assert personas.child_14.full_name not in page and personas.child_14.personnummer_display not in page
    assert exported_sections(personas.child_14) == []
    # And Saga herself reads her record online from 18.
    saga = client_for(personas.child_14)
    assert saga.get(EXPORT).status_code == 403
    assert saga.post(EXPORT, choose("notes")).status_code == 403
    assert exported_sections(personas.child_14) == []


def test_a_proxy_exports_only_with_the_record_scope(personas):
    from vardkontakt.access.models import Proxy

    record_of(personas.principal)
    proxy = client_for(personas.adult_proxy, acting_for=personas.principal)
    assert "Halsont sedan en vecka." in proxy.post(EXPORT, choose("notes")).text
    Proxy.objects.filter(agent=personas.adult_proxy, status="active").update(scope_record=False)
    response = proxy.post(EXPORT, choose("notes"))
    assert response.status_code == 403
    assert "Halsont" not in response.text


def test_a_sealed_record_cannot_be_exported(personas):
    record_of(personas.sealed)
    sealed = client_for(personas.sealed)
    assert sealed.get(EXPORT).status_code == 403
    response = sealed.post(EXPORT, choose("notes", output="pdf"))
    assert response.status_code == 403 and not response.content.startswith(b"%PDF")


def test_the_pdf_is_made_without_the_network(monkeypatch):
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    html = (
        '<link rel="stylesheet" href="https://fonts.example.com/a.css"><img src="http://192.0.2.1/x.png"><p>Hej åäö</p>'
    )
    assert export.pdf(html).startswith(b"%PDF")
    assert attempts == []
