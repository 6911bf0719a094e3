"""Lab reports in Journalen (issue 21 item 1): a report or panel is one row with its results inside,
blood pressure as two values, every kind of value, "värde saknas" with the reason, the chart with
two lines, the extract; and the publishing rules exactly as for any other result."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.fhir import lab_bundles as labs
from tests.records.helpers import client_for, unit_of_kind
from vardkontakt.access.models import AuditEntry, Proxy
from vardkontakt.fhir.importer import Sender, import_bundle
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import UnitKind
from vardkontakt.records.services import record_preferences_save

pytestmark = pytest.mark.django_db
LAB = Sender("flexlab", "FlexLab")
RESULTS = "/record/results/"
CHART = "/record/results/chart/"


def days_ago(days: int) -> str:
    return (timezone.now() - dt.timedelta(days=days)).isoformat()


def cbc(patient: Patient, *, days: int = 30, tag: str = "", hsa: str = labs.LINDANGEN) -> None:
    import_bundle(labs.cbc_report(personnummer=patient.personnummer, at=days_ago(days), tag=tag, hsa=hsa), sender=LAB)


def text_of(html: str) -> str:
    """The page's words, tags gone and spaces joined, as a reader meets them."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_report_is_one_row_with_its_panel_and_results_inside(personas):
    cbc(personas.tolvan)
    html = client_for(personas.tolvan).get(RESULTS).text
    words = text_of(html)
    # The report, then its panel, then the panel's results, each once.
    assert words.count("Blodstatus") == 2  # the report and the panel it groups
    order = [words.index(name) for name in ("Blodstatus", "B-Hemoglobin (Hb)", "B-Leukocyter", "B-Trombocyter")]
    assert order == sorted(order)
    assert words.count("B-Hemoglobin (Hb)") == 1 and words.count("Erc-MCV") == 1
    assert html.count("vk-result--member") == 5  # panel, its three results, the MCV beside it
    # The man's range for the Hb, the lab's flag for the leukocytes, the UCUM unit made readable.
    assert "B-Hemoglobin (Hb) 128 g/L under referensintervallet 134–170 g/L" in words  # no flag from the lab
    assert "B-Leukocyter 11,8 10⁹/L över referensintervallet 3,5–8,8 10⁹/L" in words


def test_blood_pressure_shows_both_values_and_draws_two_lines(personas):
    import_bundle(labs.blood_pressures(start=timezone.now() - dt.timedelta(days=100)), sender=LAB)
    tolvan = client_for(personas.tolvan)
    words = text_of(tolvan.get(RESULTS).text)
    assert "Systoliskt: 131 mmHg" in words and "Diastoliskt: 82 mmHg" in words
    assert "Systoliskt: 152 mmHg över referensintervallet" in words  # the lab's flag, on its component
    assert "Systoliskt: ≤ 140 mmHg" in words  # a range with an upper end only
    chart = tolvan.get(CHART, {"analysis": "Blodtryck", "unit": ""})
    assert chart.status_code == 200
    assert re.findall(r'data-name="([^"]+)"', chart.text) == ["Systoliskt", "Diastoliskt"]
    table = text_of(chart.text.split("<table", 1)[1])
    assert "Systoliskt Diastoliskt" in table and "152 mmHg" in table and "94 mmHg" in table
    assert "Referensintervall: ≤ 140" in table


def test_every_kind_of_value_and_a_missing_one_with_its_reason(personas):
    import_bundle(labs.other_values(at=days_ago(20)), sender=LAB)
    words = text_of(client_for(personas.tolvan).get(RESULTS).text)
    assert "Värde saknas: Hemolyserat prov" in words
    assert "A RhD positiv" in words and "Snabbtest streptokocker A Nej" in words
    assert "U-Leukocyter 3" in words and "≤ 5 mg/L" in words


def test_a_missing_value_without_the_labs_words_is_named_by_its_reason(personas):
    resource = labs.observation(
        "not-done",
        {"text": "S-Vitamin D"},
        personnummer=personas.tolvan.personnummer,
        hsa=labs.LINDANGEN,
        at=days_ago(20),
        dataAbsentReason={"coding": [{"system": labs.ABSENT_SYSTEM, "code": "not-performed"}]},
    )
    import_bundle(labs.transaction(("urn:uuid:d", resource)), sender=LAB)
    assert "Värde saknas: analysen utfördes inte" in text_of(client_for(personas.tolvan).get(RESULTS).text)


def test_the_overview_counts_a_report_as_one_result(personas):
    cbc(personas.tolvan)
    words = text_of(client_for(personas.tolvan).get("/record/").text)
    assert "Blodstatus" in words and "B-Hemoglobin" not in words


def test_a_report_from_a_unit_never_published_shows_nothing_and_says_so(personas):
    maternity = unit_of_kind(UnitKind.MATERNITY_CARE)
    cbc(personas.tolvan, hsa=maternity.hsa_id)
    html = client_for(personas.tolvan).get(RESULTS).text
    assert "Blodstatus" not in html and "B-Hemoglobin" not in html
    assert "visas inte" in text_of(html)


def test_a_result_of_a_withheld_unit_stays_out_of_a_published_report(personas):
    maternity = unit_of_kind(UnitKind.MATERNITY_CARE)
    bundle = labs.cbc_report(personnummer=personas.tolvan.personnummer, at=days_ago(30))
    for entry in bundle["entry"]:
        if entry["resource"]["identifier"][0]["value"] == "mcv":
            entry["resource"]["extension"] = labs.unit_ext(maternity.hsa_id)
    import_bundle(bundle, sender=LAB)
    words = text_of(client_for(personas.tolvan).get(RESULTS).text)
    assert "Blodstatus" in words and "B-Hemoglobin" in words and "Erc-MCV" not in words


def test_hiding_the_last_14_days_hides_a_recent_report_with_its_results(personas):
    cbc(personas.tolvan, days=3)
    cbc(personas.tolvan, days=40, tag="-old")
    record_preferences_save(patient=personas.tolvan, show_unsigned=False, hide_recent=True)
    words = text_of(client_for(personas.tolvan).get(RESULTS).text)
    assert words.count("B-Hemoglobin (Hb)") == 1  # the old one only
    assert "du har valt att dölja" in words.lower()


def test_the_results_read_is_one_audit_entry_whatever_the_report_holds(personas):
    cbc(personas.tolvan)
    before = AuditEntry.objects.filter(action="record.read", patient_id=str(personas.tolvan.pk)).count()
    client_for(personas.tolvan).get(RESULTS)
    entries = AuditEntry.objects.filter(action="record.read", patient_id=str(personas.tolvan.pk))
    assert entries.count() == before + 1
    assert entries.latest("sequence").detail == "results"


def test_guardians_proxies_and_the_seal_as_for_any_result(personas):
    cbc(personas.child_9)
    assert "B-Hemoglobin" in client_for(personas.guardian, acting_for=personas.child_9).get(RESULTS).text
    cbc(personas.principal, tag="-p")
    proxy = client_for(personas.adult_proxy, acting_for=personas.principal)
    assert "B-Hemoglobin" in proxy.get(RESULTS).text
    Proxy.objects.filter(agent=personas.adult_proxy, status="active").update(scope_record=False)
    refused = proxy.get(RESULTS)
    assert refused.status_code == 403 and "B-Hemoglobin" not in refused.text
    cbc(personas.sealed, tag="-s")
    sealed = client_for(personas.sealed).get(RESULTS)
    assert sealed.status_code == 403 and "B-Hemoglobin" not in sealed.text


def test_another_patients_report_is_never_shown(personas):
    cbc(personas.other_patient)
    assert "Blodstatus" not in client_for(personas.tolvan).get(RESULTS).text


def test_the_extract_has_the_report_with_its_results_and_the_blood_pressure(personas):
    cbc(personas.tolvan)
    import_bundle(labs.blood_pressures(start=timezone.now() - dt.timedelta(days=100)), sender=LAB)
    import_bundle(labs.other_values(at=days_ago(20)), sender=LAB)
    tolvan = client_for(personas.tolvan)
    words = text_of(tolvan.post("/record/export/", {"sections": ["results"], "output": "html"}).text)
    assert "– Blodstatus" in words and "– – B-Hemoglobin (Hb) 128 g/L (under referensintervallet) 134–170 g/L" in words
    assert "Systoliskt: 152 mmHg" in words and "Värde saknas: Hemolyserat prov" in words
    pdf = tolvan.post("/record/export/", {"sections": ["results"], "output": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_report_the_rules_keep_back_leaves_its_published_results_on_their_own(personas):
    maternity = unit_of_kind(UnitKind.MATERNITY_CARE)
    bundle = labs.cbc_report(personnummer=personas.tolvan.personnummer, at=days_ago(30))
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "DiagnosticReport":
            entry["resource"]["extension"] = labs.unit_ext(maternity.hsa_id)
    import_bundle(bundle, sender=LAB)
    html = client_for(personas.tolvan).get(RESULTS).text
    words = text_of(html)
    assert words.count("Blodstatus") == 1  # the panel, not the report
    assert "B-Hemoglobin (Hb)" in words and "Erc-MCV" in words
    assert 'data-panel="Blodstatus"' in html


def test_the_results_page_queries_stay_the_same_however_many_reports(personas):
    tolvan = client_for(personas.tolvan)
    tolvan.get(RESULTS)  # the session's one-off writes are not the page's
    counts = []
    for total in (1, 6):
        for n in range(total):
            cbc(personas.tolvan, days=30 + n, tag=f"-{total}-{n}")
        with CaptureQueriesContext(connection) as queries:
            page = tolvan.get(RESULTS)
        counts.append(len(queries))
        assert page.status_code == 200
    assert counts[0] == counts[1], counts
