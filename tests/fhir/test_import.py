"""FHIR R4 transaction Bundles of record data: validated, mapped, all or nothing, idempotent."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vardkontakt.demo import demo_data
from vardkontakt.fhir.importer import (
    HSA_SYSTEM,
    PERSONNUMMER_SYSTEM,
    UNIT_EXTENSION,
    FhirRejected,
    Sender,
    import_bundle,
    import_resource,
    operation_outcome,
)
from vardkontakt.identity.models import Patient
from vardkontakt.records.models import CareContact, Diagnosis, LabResult, Medicine, RecordNote

pytestmark = pytest.mark.django_db
LINDANGEN = demo_data.unit_hsa_id("E1001")


def subject(number: str = "191212121212") -> dict[str, Any]:
    return {"identifier": {"system": PERSONNUMMER_SYSTEM, "value": number}}


def unit_ext(hsa: str = LINDANGEN) -> list[dict[str, Any]]:
    return [{"url": UNIT_EXTENSION, "valueIdentifier": {"system": HSA_SYSTEM, "value": hsa}}]


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}?identifier={_ident(r)}"},
            }
            for r in resources
        ],
    }


def _ident(resource: dict[str, Any]) -> str:
    identifiers = resource.get("identifier")
    if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], dict):
        return str(identifiers[0].get("value", ""))
    return ""


def note(ident: str = "n1", **changes: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": "urn:pmo:note", "value": ident}],
        "status": "current",
        "docStatus": "final",
        "subject": subject(),
        "date": "2026-10-01T10:00:00+02:00",
        "type": {"text": "Besöksanteckning"},
        "author": [{"display": "Astrid Exempelsson"}],
        "context": {"practiceSetting": {"text": "doctor"}},
        "extension": unit_ext(),
        "content": [
            {"attachment": {"contentType": "text/plain", "data": base64.b64encode("Mår bra.".encode()).decode()}}
        ],
    }
    resource.update(changes)
    return resource


def observation(ident: str = "o1", **changes: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:flexlab", "value": ident}],
        "status": "final",
        "code": {"text": "P-Glukos"},
        "subject": subject(),
        "effectiveDateTime": "2026-10-02T08:15:00+02:00",
        "valueQuantity": {"value": 7.2, "unit": "mmol/L"},
        "referenceRange": [{"low": {"value": 4.0}, "high": {"value": 6.0}}],
        "interpretation": [{"coding": [{"code": "H"}]}],
        "extension": unit_ext(),
    }
    resource.update(changes)
    return resource


def everything() -> dict[str, Any]:
    return bundle(
        note(),
        observation(),
        {
            "resourceType": "Condition",
            "identifier": [{"system": "urn:pmo:dx", "value": "d1"}],
            "subject": subject(),
            "code": {
                "coding": [
                    {"system": "http://hl7.org/fhir/sid/icd-10", "code": "J06.9", "display": "Övre luftvägsinfektion"}
                ]
            },
            "recordedDate": "2026-10-01",
            "extension": unit_ext(),
        },
        {
            "resourceType": "Encounter",
            "identifier": [{"system": "urn:pmo:enc", "value": "e1"}],
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": subject(),
            "period": {"start": "2026-10-01T10:00:00+02:00"},
            "type": [{"text": "Läkarbesök"}],
            "serviceProvider": {"identifier": {"system": HSA_SYSTEM, "value": LINDANGEN}},
        },
        {
            "resourceType": "MedicationDispense",
            "identifier": [{"system": "urn:apotek", "value": "m1"}],
            "status": "completed",
            "medicationCodeableConcept": {"text": "Levaxin 50 mikrogram"},
            "subject": subject(),
            "whenHandedOver": "2026-09-01T12:00:00+02:00",
            "dosageInstruction": [{"text": "1 tablett på morgonen"}],
            "extension": [
                *unit_ext(),
                {"url": "https://vardkontakt.example/fhir/StructureDefinition/renewable", "valueBoolean": True},
            ],
        },
    )


def counts() -> list[int]:
    return [m.objects.count() for m in (RecordNote, LabResult, Diagnosis, CareContact, Medicine)]


def test_a_transaction_bundle_is_mapped_into_the_record(personas):
    result = import_bundle(everything(), sender=Sender("pmo"))
    assert (result.created, result.updated) == (5, 0)
    assert counts() == [1, 1, 1, 1, 1]
    stored_note = RecordNote.objects.get()
    assert (stored_note.text, stored_note.signed, stored_note.template) == ("Mår bra.", True, "Besöksanteckning")
    result_row = LabResult.objects.get()
    assert result_row.value is not None and result_row.reference_high is not None
    assert (str(result_row.value.normalize()), result_row.flag, str(result_row.reference_high.normalize())) == (
        "7.2",
        "H",
        "6",
    )
    assert Medicine.objects.get().renewable


def test_sending_the_same_bundle_again_changes_nothing(personas):
    import_bundle(everything(), sender=Sender("pmo"))
    again = import_bundle(everything(), sender=Sender("pmo"))
    assert (again.created, again.updated) == (0, 5)
    assert counts() == [1, 1, 1, 1, 1]


def test_an_update_by_business_identifier_changes_the_row(personas):
    import_bundle(bundle(note(docStatus="preliminary")), sender=Sender("pmo"))
    assert not RecordNote.objects.get().signed
    import_bundle(bundle(note(docStatus="final")), sender=Sender("pmo"))
    assert RecordNote.objects.get().signed


@pytest.mark.parametrize(
    ("resource", "where"),
    [
        (observation(status="nonsense"), "status"),
        (note(docStatus="draft"), "docStatus"),
        (observation(extension=unit_ext("SE2321000255-NOPE")), "extension"),
        (observation(subject=subject("191212121213")), "subject.identifier.value"),
        (observation(subject={"reference": "Patient/123"}), "subject.reference"),
        (observation(identifier=[{"value": "no-system"}]), "identifier"),
        (observation(valueQuantity=None), "value[x]"),
        (note(content=[{"attachment": {"data": "***not base64***"}}]), "content"),
    ],
)
def test_a_bad_resource_is_refused_with_its_place_named_and_nothing_stored(personas, resource, where):
    good = note("good")
    with pytest.raises(FhirRejected) as caught:
        import_bundle(bundle(good, resource), sender=Sender("pmo"))
    locations = [issue.location for issue in caught.value.issues]
    assert any(where in location for location in locations), locations
    assert all(location.startswith("Bundle.entry[1]") for location in locations)
    assert counts() == [0, 0, 0, 0, 0]  # the good entry is not stored either
    outcome = operation_outcome(caught.value.issues)
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"


def test_structural_errors_come_from_the_r4b_models(personas):
    with pytest.raises(FhirRejected) as caught:
        import_bundle(bundle(observation(code=None)), sender=Sender("pmo"))
    assert any("code" in issue.location for issue in caught.value.issues)


def test_only_transaction_bundles(personas):
    data = everything()
    data["type"] = "batch"
    with pytest.raises(FhirRejected, match="transaction"):
        import_bundle(data, sender=Sender("pmo"))
    with pytest.raises(FhirRejected):
        import_bundle({"resourceType": "Patient"}, sender=Sender("pmo"))


def test_a_patient_unknown_to_the_platform_is_created_and_rolled_back_with_a_refusal(personas):
    newcomer = "199001012391" if Patient.objects.filter(personnummer="199001012391").exists() else None
    from stdnum import luhn

    nine = "900101239"
    number = "19" + nine + str(luhn.calc_check_digit(nine))
    assert newcomer is None
    with pytest.raises(FhirRejected):
        import_bundle(bundle(note("x", subject=subject(number)), observation(status="bad")), sender=Sender("pmo"))
    assert not Patient.objects.filter(personnummer=number).exists()
    import_bundle(bundle(note("x", subject=subject(number))), sender=Sender("pmo"))
    assert Patient.objects.filter(personnummer=number).exists()


def test_the_command_imports_a_file_and_refuses_a_bad_one(personas, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(everything()))
    broken = everything()
    broken["entry"][1]["resource"]["status"] = "nonsense"
    bad.write_text(json.dumps(broken))
    call_command("import_fhir_bundle", str(good), "--source", "pmo")
    assert counts() == [1, 1, 1, 1, 1]
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_fhir_bundle", str(bad), "--source", "flexlab")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    field=st.sampled_from(
        ["status", "subject", "valueQuantity", "identifier", "extension", "effectiveDateTime", "code"]
    ),
    value=json_values,
)
def test_any_garbage_in_a_field_is_a_refusal_or_an_import_never_a_crash(personas, field, value):
    resource = copy.deepcopy(observation("fuzz"))
    resource[field] = value
    try:
        import_bundle(bundle(resource), sender=Sender("fuzz"))
    except FhirRejected as rejected:
        assert rejected.issues


def test_a_note_is_withheld_by_its_template_code_from_fhir(personas):
    """The journal system's coding decides, not the display text it sends beside it."""
    from vardkontakt.fhir.importer import NOTE_TEMPLATE_SYSTEM
    from vardkontakt.records.models import EARLY_HYPOTHESES_CODE
    from vardkontakt.records.publishing import published_notes

    coded = note(
        "coded",
        type={"coding": [{"system": NOTE_TEMPLATE_SYSTEM, "code": EARLY_HYPOTHESES_CODE, "display": "Hypoteser"}]},
    )
    spelt = note("spelt", type={"text": "  TIDIGA   hypoteser "})
    import_bundle(bundle(coded, spelt), sender=Sender("pmo"))
    stored = {n.source_id.rpartition("|")[2]: n for n in RecordNote.objects.all()}
    assert stored["coded"].template_code == EARLY_HYPOTHESES_CODE
    assert stored["spelt"].template_key == "tidiga hypoteser"
    assert list(published_notes(personas.tolvan).notes) == []


@pytest.mark.parametrize(
    "entry_resource",
    [
        {"resourceType": "AAA", "identifier": [{"system": HSA_SYSTEM, "value": LINDANGEN}]},
        {"resourceType": 0},
        {"resourceType": None},
        {"resourceType": ["Observation"]},
    ],
)
def test_an_entry_of_an_unknown_type_is_refused_not_a_crash(personas, entry_resource):
    """Found by `make fuzz-fhir`: the R4B models raised KeyError/TypeError (a 500) on these."""
    with pytest.raises(FhirRejected) as refused:
        import_bundle(
            {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": entry_resource}]},
            sender=Sender("pmo"),
        )
    assert refused.value.issues[0].code == "not-supported"


@pytest.mark.parametrize("entries", [5, "entries", {"resource": {}}, True])
def test_entries_that_are_not_a_list_are_refused_not_a_crash(personas, entries):
    with pytest.raises(FhirRejected):
        import_bundle({"resourceType": "Bundle", "type": "transaction", "entry": entries}, sender=Sender("pmo"))


@pytest.mark.parametrize("resource", [[None, None], "AllergyIntolerance", 5, [{"resourceType": "Observation"}]])
def test_an_entry_whose_resource_is_not_an_object_is_refused_not_a_crash(personas, resource):
    """Found by `make fuzz-fhir` after the validation by shape: a list as an entry's resource was
    skipped by the validation and then read as a resource (a 500)."""
    entry = {"fullUrl": "urn:uuid:a", "resource": resource, "request": {"method": "POST", "url": "Observation"}}
    with pytest.raises(FhirRejected) as refused:
        import_bundle({"resourceType": "Bundle", "type": "transaction", "entry": [entry]}, sender=Sender("pmo"))
    assert refused.value.issues[0].location == "Bundle.entry[0].resource"


def test_a_note_whose_attachment_is_null_is_refused_not_a_crash(personas):
    """Found by `make fuzz-fhir`: content[0].attachment = null raised AttributeError (a 500)."""
    with pytest.raises(FhirRejected) as refused:
        import_bundle(bundle(note(content=[{"attachment": None}])), sender=Sender("pmo"))
    assert any("attachment" in issue.location for issue in refused.value.issues)


@pytest.mark.parametrize("nested", [{"resourceType": {}}, {"resourceType": 7}, {"resourceType": "Nonsense"}])
def test_a_nested_resource_of_no_known_type_is_refused_not_a_crash(personas, nested):
    """Found by `make fuzz-fhir`: a contained resource whose resourceType is a dict raised TypeError."""
    with pytest.raises(FhirRejected):
        import_bundle(bundle(observation(contained=[nested])), sender=Sender("pmo"))
    with pytest.raises(FhirRejected):
        import_resource(observation(contained=[nested]), resource_type="Observation", sender=Sender("pmo"))
