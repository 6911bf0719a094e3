"""Lab reports as lab systems send them (issue 21 item 1): reports grouping results by reference,
panels, components, every kind of value, a missing value with its reason, the reference range
that applies to the patient; and every bad variant refused by its place, never a crash."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fhir import lab_bundles as labs
from tests.fhir.test_api import EVERYTHING_READ, EVERYTHING_WRITE, Integration
from vardkontakt.fhir.importer import FhirRejected, Sender, import_bundle, import_resource
from vardkontakt.records.models import LabResult, ValueType

pytestmark = pytest.mark.django_db
LAB = Sender("flexlab", "FlexLab")


@pytest.fixture
def journal(personas) -> Integration:
    """The lab system over HTTP, with a token (the API tests' client set-up)."""
    return Integration("flexlab", [*EVERYTHING_WRITE, *EVERYTHING_READ])


def rows() -> dict[str, LabResult]:
    return {row.source_id.partition("|")[2]: row for row in LabResult.objects.all()}


def refused(bundle: dict[str, Any]) -> dict[str, str]:
    before = LabResult.objects.count()
    with pytest.raises(FhirRejected) as raised:
        import_bundle(bundle, sender=LAB)
    assert LabResult.objects.count() == before, "nothing of a refused Bundle is stored"
    return {issue.location: issue.message for issue in raised.value.issues}


def test_a_cbc_report_groups_its_panel_and_results_by_reference(personas):
    result = import_bundle(labs.cbc_report(), sender=LAB)
    assert result.created == 6
    found = rows()
    report, panel = found["cbc"], found["cbc-panel"]
    assert report.report and report.value_type == ValueType.PANEL and report.value_text == ""
    assert panel.value_type == ValueType.PANEL and panel.panel == report
    # The panel takes its own members; the report keeps what it lists beside the panel.
    assert {m.analysis for m in panel.members.all()} == {"B-Hemoglobin (Hb)", "B-Leukocyter", "B-Trombocyter"}
    assert {m.analysis for m in report.members.all()} == {"Blodstatus", "Erc-MCV"}
    # UCUM: the code made readable when the lab sends no unit text; the lab's own flag kept.
    assert (found["lpk"].value, found["lpk"].unit_of_measure, found["lpk"].flag) == (Decimal("11.8"), "10⁹/L", "H")
    # Sending it again changes nothing, not even the grouping.
    again = import_bundle(labs.cbc_report(), sender=LAB)
    assert again.created == 0 and LabResult.objects.count() == 6
    assert rows()["hb"].panel_id == panel.pk


def test_a_report_may_group_results_the_platform_already_holds(personas):
    bundle = labs.cbc_report()
    results = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    import_bundle(labs.transaction(*((e["fullUrl"], e["resource"]) for e in results)), sender=LAB)
    held = rows()
    report = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    report["result"] = [
        {"reference": f"Observation/{held['cbc-panel'].pk}"},
        {"reference": f"Observation/{held['mcv'].pk}"},
    ]
    import_resource(report, resource_type="DiagnosticReport", sender=LAB)
    assert {m.source_id for m in rows()["cbc"].members.all()} == {held["cbc-panel"].source_id, held["mcv"].source_id}
    # A report sent again with fewer results lets the others go.
    report["result"] = report["result"][:1]
    import_resource(report, resource_type="DiagnosticReport", sender=LAB)
    assert [m.source_id for m in rows()["cbc"].members.all()] == [held["cbc-panel"].source_id]
    assert rows()["mcv"].panel is None


def test_the_reference_range_is_the_one_for_the_patients_age_and_sex_on_the_day(personas):
    # Tolvan is a man of 113: the men's range. A girl of 9 on the day: the children's range.
    import_bundle(labs.cbc_report(), sender=LAB)
    hb = rows()["hb"]
    assert (hb.reference_low, hb.reference_high) == (Decimal("134"), Decimal("170"))
    child = personas.child_9
    taken = dt.date(child.birth_date.year + 9, 6, 1).isoformat() + "T08:00:00+02:00"
    import_bundle(labs.cbc_report(personnummer=child.personnummer, tag="-c", at=taken), sender=LAB)
    hb_child = rows()["hb-c"]
    assert (hb_child.reference_low, hb_child.reference_high) == (Decimal("105"), Decimal("140"))


def test_the_range_of_the_other_sex_or_no_range_at_all_when_none_applies(personas):
    import_bundle(labs.cbc_report(personnummer="198001010027", tag="-w"), sender=LAB)  # a woman
    assert (rows()["hb-w"].reference_low, rows()["hb-w"].reference_high) == (Decimal("117"), Decimal("153"))
    # A girl of three months: no range applies, so none is shown (rather than an adult's).
    import_bundle(labs.cbc_report(personnummer="202503010049", tag="-i", at="2025-06-01T08:00:00+02:00"), sender=LAB)
    assert (rows()["hb-i"].reference_low, rows()["hb-i"].reference_high) == (None, None)


def test_blood_pressure_is_two_components_with_their_own_codes_units_and_ranges(personas):
    import_bundle(labs.blood_pressures(start=dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)), sender=LAB)
    bp = rows()["bp0"]
    assert bp.value_type == ValueType.COMPONENTS and bp.value is None
    assert [(c["analysis"], c["value"], c["unit"], c["high"], c["flag"]) for c in bp.components] == [
        ("Systoliskt", "152.0000", "mmHg", "140.0000", "H"),
        ("Diastoliskt", "94.0000", "mmHg", "90.0000", ""),
    ]


def test_every_kind_of_value_and_a_missing_one_with_its_reason(personas):
    import_bundle(labs.other_values(), sender=LAB)
    found = rows()
    assert (found["kalium"].value_type, found["kalium"].absent_reason) == (ValueType.ABSENT, "Hemolyserat prov")
    assert (found["abo"].value_type, found["abo"].value_text) == (ValueType.CONCEPT, "A RhD positiv")
    assert (found["strep"].value_type, found["strep"].value_text) == (ValueType.BOOLEAN, "false")
    assert (found["leuk-sticka"].value_type, found["leuk-sticka"].value) == (ValueType.INTEGER, Decimal(3))
    crp = found["crp"]
    assert (crp.value_type, crp.value, crp.value_high, crp.unit_of_measure) == (
        ValueType.RANGE,
        None,
        Decimal(5),
        "mg/L",
    )


def _entry(bundle: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["identifier"][0]["value"] == ident)


def test_a_result_reference_to_nothing_is_refused_by_its_place(personas):
    bundle = labs.cbc_report()
    _entry(bundle, "cbc")["result"].append({"reference": "urn:uuid:nowhere"})
    _entry(bundle, "cbc-panel")["hasMember"].append({"reference": "Observation/7f1c2b8e-0000-4000-8000-000000000000"})
    _entry(bundle, "cbc-panel")["hasMember"].append({"display": "no reference"})
    issues = refused(bundle)
    assert "not found" in issues["Bundle.entry[0].resource.result[2].reference"]
    assert "not found" in issues["Bundle.entry[1].resource.hasMember[3].reference"]
    assert "Bundle.entry[1].resource.hasMember[4].reference" in issues


def test_a_result_reference_to_another_kind_or_another_patients_result_is_refused(personas):
    bundle = labs.cbc_report()
    _entry(bundle, "cbc")["result"].append({"reference": "urn:uuid:report"})
    _entry(bundle, "mcv")["subject"] = {
        "identifier": {"system": labs.PERSONNUMMER_SYSTEM, "value": personas.other_patient.personnummer}
    }
    issues = refused(bundle)
    assert "is not an Observation" in issues["Bundle.entry[0].resource.result[2].reference"]
    assert issues["Bundle.entry[0].resource.result[1].reference"] == "the result belongs to another patient"


def test_a_circular_has_member_is_refused_not_a_crash(personas):
    bundle = labs.cbc_report()
    _entry(bundle, "hb")["hasMember"] = [{"reference": "urn:uuid:cbc-panel"}]
    issues = refused(bundle)
    assert list(issues.values()) == ["the results contain each other in a circle"]
    itself = labs.cbc_report()
    _entry(itself, "cbc-panel")["hasMember"].append({"reference": "urn:uuid:cbc-panel"})
    assert "the results contain each other in a circle" in refused(itself).values()


def test_a_circle_through_held_results_is_refused(personas):
    import_bundle(labs.cbc_report(), sender=LAB)
    hb = _entry(labs.cbc_report(), "hb")
    hb["hasMember"] = [{"reference": f"Observation/{rows()['cbc-panel'].pk}"}]
    with pytest.raises(FhirRejected) as raised:
        import_resource(hb, resource_type="Observation", sender=LAB)
    assert raised.value.issues[0].location == "Observation.hasMember[0].reference"
    assert rows()["hb"].value_type == ValueType.QUANTITY, "nothing written"


def test_another_source_systems_result_cannot_be_grouped(personas):
    import_bundle(labs.cbc_report(), sender=LAB)
    report = _entry(labs.cbc_report(tag="-x"), "cbc-x")
    report["result"] = [{"reference": f"Observation/{rows()['hb'].pk}"}]
    with pytest.raises(FhirRejected) as raised:
        import_resource(report, resource_type="DiagnosticReport", sender=Sender("other-lab"))
    assert raised.value.issues[0].location == "DiagnosticReport.result[0].reference"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"component": [{"valueQuantity": {"value": 120}}]}, "Bundle.entry[0].resource.component[0].code"),
        (
            {"component": [{"code": {"coding": [{"system": "x"}]}, "valueQuantity": {"value": 1}}]},
            "Bundle.entry[0].resource.component[0].code",
        ),
        ({"component": [{"code": {"text": "Systoliskt"}}]}, "Bundle.entry[0].resource.component[0].value[x]"),
        (
            {"component": [{"code": {"text": "S"}, "valueQuantity": {"value": "x"}}]},
            "Bundle.entry[0].resource.component[0].valueQuantity.value",
        ),
        ({"valueRange": {}}, "Bundle.entry[0].resource.valueRange"),
        ({"valueRatio": {"numerator": {"value": 1}}}, "Bundle.entry[0].resource.valueRatio"),
        ({"valueCodeableConcept": {}}, "Bundle.entry[0].resource.valueCodeableConcept"),
        ({"referenceRange": [{"low": {"value": 1e12}}]}, "Bundle.entry[0].resource.referenceRange[0].low.value"),
        ({"hasMember": [{"reference": "Patient/x"}]}, "Bundle.entry[0].resource.hasMember[0].reference"),
        ({"effectiveDateTime": None}, "Bundle.entry[0].resource.effectiveDateTime"),
    ],
)
def test_bad_variants_of_the_new_shapes_are_refused_by_their_place(personas, change, where):
    resource = labs.observation(
        "bad", {"text": "P-Test"}, personnummer="191212121212", hsa=labs.LINDANGEN, at="2026-10-02T08:15:00+02:00"
    )
    resource.update(change)
    resource = {k: v for k, v in resource.items() if v is not None}
    issues = refused(labs.transaction(("urn:uuid:bad", resource)))
    assert any(location.startswith(where) for location in issues), issues


def test_a_report_with_neither_results_nor_text_is_refused(personas):
    bundle = labs.cbc_report()
    report = _entry(bundle, "cbc")
    report.pop("result")
    report["presentedForm"] = [{"contentType": "application/pdf", "data": "JVBERi0xLjQK"}]
    assert "Bundle.entry[0].resource.conclusion" in refused(labs.transaction(("urn:uuid:report", report)))


def test_the_new_shapes_through_the_http_api_are_422_never_a_server_error(journal):
    bundle = labs.cbc_report()
    _entry(bundle, "hb")["hasMember"] = [{"reference": "urn:uuid:cbc-panel"}]
    answer = journal.post("/fhir", bundle)
    assert answer.status_code == 422
    assert answer.json()["resourceType"] == "OperationOutcome"
    ok = journal.post("/fhir", labs.cbc_report())
    assert ok.status_code == 200, ok.content
    found = rows()
    panel = journal.get(f"/fhir/Observation/{found['cbc-panel'].pk}").json()
    Observation.model_validate(panel)
    assert [m["reference"] for m in panel["hasMember"]] == [f"Observation/{found[n].pk}" for n in ("hb", "lpk", "tpk")]
    assert "valueQuantity" not in panel
    report = journal.get(f"/fhir/DiagnosticReport/{found['cbc'].pk}").json()
    DiagnosticReport.model_validate(report)
    assert {r["reference"] for r in report["result"]} == {f"Observation/{found[n].pk}" for n in ("cbc-panel", "mcv")}
    assert "conclusion" not in report
    journal.post("/fhir", labs.blood_pressures(start=dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)))
    journal.post("/fhir", labs.other_values())
    for ident in ("bp0", "kalium", "abo", "strep", "leuk-sticka", "crp"):
        read = journal.get(f"/fhir/Observation/{rows()[ident].pk}").json()
        Observation.model_validate(read)
    bp = journal.get(f"/fhir/Observation/{rows()['bp0'].pk}").json()
    assert [c["valueQuantity"]["value"] for c in bp["component"]] == [152, 94]
    kalium = journal.get(f"/fhir/Observation/{rows()['kalium'].pk}").json()
    assert kalium["dataAbsentReason"] == {"text": "Hemolyserat prov"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
references = st.lists(
    st.fixed_dictionaries(
        {"reference": st.sampled_from(["urn:uuid:hb", "urn:uuid:cbc-panel", "urn:uuid:report", "Observation/x", ""])}
    ),
    max_size=3,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    target=st.sampled_from(["hb", "cbc-panel", "cbc"]),
    field=st.sampled_from(
        [
            "component",
            "hasMember",
            "result",
            "valueCodeableConcept",
            "valueRange",
            "valueInteger",
            "valueBoolean",
            "dataAbsentReason",
            "referenceRange",
            "effectivePeriod",
            "presentedForm",
            "interpretation",
        ]
    ),
    value=json_values | references,
)
def test_any_garbage_in_the_new_fields_is_a_refusal_or_an_import_never_a_crash(personas, target, field, value):
    bundle = labs.cbc_report()
    _entry(bundle, target)[field] = value
    try:
        import_bundle(bundle, sender=LAB)
    except FhirRejected as rejected:
        assert rejected.issues


def test_the_example_bundles_of_docs_api_md_import_as_documented(personas):
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("## Lab results and reports", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```json\n(.*?)\n```", section, flags=re.DOTALL)
    assert len(examples) == 2
    for example in examples:
        import_bundle(json.loads(example), sender=LAB)
    found = rows()
    assert [m.source_id.partition("|")[2] for m in found["cbc-panel"].members.order_by("analysis")] == ["hb", "lpk"]
    assert found["cbc-panel"].panel == found["cbc"]
    assert (found["hb"].reference_low, found["hb"].reference_high) == (Decimal("134"), Decimal("170"))
    assert found["bp-2026-10-02"].value_type == ValueType.COMPONENTS


def test_a_report_taken_back_out_leaves_its_results_on_their_own(personas):
    import_bundle(labs.cbc_report(), sender=LAB)
    bundle = labs.cbc_report()
    _entry(bundle, "cbc")["status"] = "entered-in-error"
    import_bundle(bundle, sender=LAB)
    found = rows()
    assert "cbc" not in found
    assert found["mcv"].panel is None and found["cbc-panel"].panel is None
    assert found["hb"].panel == found["cbc-panel"]


def test_a_large_import_stores_each_new_row_as_a_small_one_does(personas):
    """From COPY_FROM new rows on, PostgreSQL takes them by COPY (records.services._insert_new):
    the same values, components and all, as the row-by-row way of a small import, and read back
    the same."""
    from vardkontakt.records.services import COPY_FROM

    def pressures(prefix: str, count: int) -> dict[str, Any]:
        return labs.transaction(
            *(
                (
                    f"urn:uuid:{prefix}{n}",
                    labs.blood_pressure(
                        120 + n, 80, ident_=f"{prefix}{n}", at=f"2026-10-{1 + n % 28:02d}T08:00:00+02:00"
                    ),
                )
                for n in range(count)
            )
        )

    import_bundle(pressures("small", 2), sender=Sender("flexlab"))
    import_bundle(pressures("large", COPY_FROM + 10), sender=Sender("flexlab"))
    small = LabResult.objects.get(source_id__endswith="|small1")
    large = LabResult.objects.get(source_id__endswith="|large1")
    assert LabResult.objects.filter(source_id__contains="|large").count() == COPY_FROM + 10
    fields = [f.attname for f in LabResult._meta.concrete_fields if f.attname not in ("id", "source_id", "received_at")]
    assert {f: getattr(large, f) for f in fields} == {f: getattr(small, f) for f in fields}
    assert large.components and large.components == small.components
    again = import_bundle(pressures("large", COPY_FROM + 10), sender=Sender("flexlab"))
    assert (again.created, again.updated) == (0, COPY_FROM + 10)  # a resend writes nothing new
