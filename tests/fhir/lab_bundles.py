"""Lab Bundles as lab systems send them, written from the shapes of the FHIR R4 examples
(DiagnosticReport "cbc", Observation "blood-pressure", the data-absent-reason and age/sex
reference-range examples), mapped onto our identifiers: personnummer, HSA-id, the care-unit
extension. Shared by the import tests, the record page tests and the browser tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from vardkontakt.demo import demo_data
from vardkontakt.fhir.importer import HSA_SYSTEM, PERSONNUMMER_SYSTEM, UNIT_EXTENSION

LINDANGEN = demo_data.unit_hsa_id("E1001")
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LAB = "urn:oid:1.2.752.129.2.1.2.1"  # the lab's own identifier system, as a Swedish lab names it


def _subject(personnummer: str) -> dict[str, Any]:
    return {"identifier": {"system": PERSONNUMMER_SYSTEM, "value": personnummer}}


def unit_ext(hsa: str) -> list[dict[str, Any]]:
    return [{"url": UNIT_EXTENSION, "valueIdentifier": {"system": HSA_SYSTEM, "value": hsa}}]


def _loinc(code: str, display: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": text}


def _quantity(value: float, code: str, unit: str | None = None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "system": UCUM, "code": code}
    if unit is not None:
        quantity["unit"] = unit
    return quantity


def _high(*codes: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": INTERPRETATION, "code": code}]} for code in codes]


def observation(
    ident: str, code: dict[str, Any], *, personnummer: str, hsa: str, at: str, **fields: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "identifier": [{"system": LAB, "value": ident}],
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": code,
        "subject": _subject(personnummer),
        "effectiveDateTime": at,
        "issued": at,
        "extension": unit_ext(hsa),
        **fields,
    }


def transaction(*resources: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": url,
                "resource": resource,
                "request": {"method": "PUT", "url": f"{resource['resourceType']}?identifier={LAB}|{ident(resource)}"},
            }
            for url, resource in resources
        ],
    }


def ident(resource: dict[str, Any]) -> str:
    return str(resource["identifier"][0]["value"])


# Hemoglobin by age and sex, as a Swedish lab states it (g/L): children, women, men.
HEMOGLOBIN_RANGES = [
    {
        "low": _quantity(105, "g/L"),
        "high": _quantity(140, "g/L"),
        "age": {"low": {"value": 1, "system": UCUM, "code": "a"}, "high": {"value": 17, "system": UCUM, "code": "a"}},
        "text": "Barn 1-17 år",
    },
    {
        "low": _quantity(117, "g/L"),
        "high": _quantity(153, "g/L"),
        "appliesTo": [{"coding": [{"system": "http://snomed.info/sct", "code": "248152002", "display": "Female"}]}],
        "age": {"low": {"value": 18, "system": UCUM, "code": "a"}},
    },
    {
        "low": _quantity(134, "g/L"),
        "high": _quantity(170, "g/L"),
        "appliesTo": [{"coding": [{"system": "http://snomed.info/sct", "code": "248153007", "display": "Male"}]}],
        "age": {"low": {"value": 18, "system": UCUM, "code": "a"}},
    },
]


def cbc_report(
    *, personnummer: str = "191212121212", hsa: str = LINDANGEN, at: str = "2026-10-02T08:15:00+02:00", tag: str = ""
) -> dict[str, Any]:
    """A blood count (CBC) as the FHIR example "cbc": a DiagnosticReport whose ``result`` lists a
    panel Observation (``hasMember``: Hb, leukocytes, platelets) and one more result (MCV), no
    conclusion; the Hb with ranges by age and sex, the leukocytes in UCUM code only."""
    who = {"personnummer": personnummer, "hsa": hsa, "at": at}
    hb = observation(
        f"hb{tag}",
        _loinc("718-7", "Hemoglobin [Mass/volume] in Blood", "B-Hemoglobin (Hb)"),
        valueQuantity=_quantity(128, "g/L", "g/L"),
        referenceRange=HEMOGLOBIN_RANGES,
        **who,
    )
    wbc = observation(
        f"lpk{tag}",
        _loinc("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "B-Leukocyter"),
        valueQuantity=_quantity(11.8, "10*9/L"),
        referenceRange=[{"low": _quantity(3.5, "10*9/L"), "high": _quantity(8.8, "10*9/L")}],
        interpretation=_high("H"),
        **who,
    )
    plt = observation(
        f"tpk{tag}",
        _loinc("777-3", "Platelets [#/volume] in Blood by Automated count", "B-Trombocyter"),
        valueQuantity=_quantity(245, "10*9/L"),
        referenceRange=[{"low": _quantity(145, "10*9/L"), "high": _quantity(348, "10*9/L")}],
        **who,
    )
    mcv = observation(
        f"mcv{tag}",
        _loinc("787-2", "MCV [Entitic volume] by Automated count", "Erc-MCV"),
        valueQuantity=_quantity(88, "fL", "fL"),
        referenceRange=[{"low": _quantity(82, "fL"), "high": _quantity(98, "fL")}],
        **who,
    )
    panel = observation(
        f"cbc-panel{tag}",
        _loinc("58410-2", "CBC panel - Blood by Automated count", "Blodstatus"),
        hasMember=[{"reference": f"urn:uuid:{n}{tag}"} for n in ("hb", "lpk", "tpk")],
        **who,
    )
    panel.pop("issued")
    report = {
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": LAB, "value": f"cbc{tag}"}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "HM", "display": "Hematology"}
                ]
            }
        ],
        "code": _loinc("58410-2", "CBC panel - Blood by Automated count", "Blodstatus"),
        "subject": _subject(personnummer),
        "effectiveDateTime": at,
        "issued": at,
        "extension": unit_ext(hsa),
        "result": [{"reference": f"urn:uuid:cbc-panel{tag}"}, {"reference": f"urn:uuid:mcv{tag}"}],
    }
    return transaction(
        (f"urn:uuid:report{tag}", report),
        (f"urn:uuid:cbc-panel{tag}", panel),
        (f"urn:uuid:hb{tag}", hb),
        (f"urn:uuid:lpk{tag}", wbc),
        (f"urn:uuid:tpk{tag}", plt),
        (f"urn:uuid:mcv{tag}", mcv),
    )


def blood_pressure(
    systolic: float, diastolic: float, *, ident_: str, at: str, personnummer: str = "191212121212", hsa: str = LINDANGEN
) -> dict[str, Any]:
    """The FHIR example "blood-pressure": no value of its own, two components with their own
    LOINC code, UCUM unit (mm[Hg], no unit text) and reference range."""
    resource = observation(
        ident_,
        _loinc("85354-9", "Blood pressure panel with all children optional", "Blodtryck"),
        personnummer=personnummer,
        hsa=hsa,
        at=at,
        component=[
            {
                "code": _loinc("8480-6", "Systolic blood pressure", "Systoliskt"),
                "valueQuantity": _quantity(systolic, "mm[Hg]"),
                "referenceRange": [{"high": _quantity(140, "mm[Hg]")}],
                "interpretation": _high("H") if systolic > 140 else [],
            },
            {
                "code": _loinc("8462-4", "Diastolic blood pressure", "Diastoliskt"),
                "valueQuantity": _quantity(diastolic, "mm[Hg]"),
                "referenceRange": [{"high": _quantity(90, "mm[Hg]")}],
            },
        ],
    )
    resource["category"][0]["coding"][0]["code"] = "vital-signs"
    return resource


def blood_pressures(*, start: dt.datetime, personnummer: str = "191212121212") -> dict[str, Any]:
    """Three blood pressures a month apart from ``start``: enough for a chart with two lines."""
    values = [(152, 94), (144, 88), (131, 82)]
    return transaction(
        *(
            (
                f"urn:uuid:bp{n}",
                blood_pressure(
                    s, d, ident_=f"bp{n}", at=(start + dt.timedelta(days=30 * n)).isoformat(), personnummer=personnummer
                ),
            )
            for n, (s, d) in enumerate(values)
        )
    )


def other_values(*, personnummer: str = "191212121212", at: str = "2026-10-02T08:15:00+02:00") -> dict[str, Any]:
    """The other kinds of value a lab sends: a value missing with its reason (a haemolysed
    sample), a coded answer, yes/no, a whole number and a range."""
    who = {"personnummer": personnummer, "hsa": LINDANGEN, "at": at}
    return transaction(
        (
            "urn:uuid:k",
            observation(
                "kalium",
                _loinc("6298-4", "Potassium [Moles/volume] in Blood", "P-Kalium"),
                dataAbsentReason={
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "error"}],
                    "text": "Hemolyserat prov",
                },
                **who,
            ),
        ),
        (
            "urn:uuid:abo",
            observation(
                "abo",
                _loinc("882-1", "ABO and Rh group [Type] in Blood", "Blodgrupp"),
                valueCodeableConcept={
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "278149003",
                            "display": "Blood group A Rh(D) positive",
                        }
                    ],
                    "text": "A RhD positiv",
                },
                **who,
            ),
        ),
        (
            "urn:uuid:strep",
            observation(
                "strep",
                _loinc("78012-2", "Streptococcus pyogenes Ag [Presence] in Throat", "Snabbtest streptokocker A"),
                valueBoolean=False,
                **who,
            ),
        ),
        (
            "urn:uuid:leuk",
            observation(
                "leuk-sticka",
                _loinc(
                    "5821-4", "Leukocytes [#/area] in Urine sediment by Microscopy high power field", "U-Leukocyter"
                ),
                valueInteger=3,
                **who,
            ),
        ),
        (
            "urn:uuid:crp",
            observation(
                "crp",
                _loinc("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "P-CRP"),
                valueRange={"high": _quantity(5, "mg/L", "mg/L")},
                **who,
            ),
        ),
    )


def copy_of(bundle: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(bundle)
