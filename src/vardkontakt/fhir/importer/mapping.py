"""Mapping: the fields of each record resource onto the row the platform keeps. A mapper reads
one resource through its Reader (which records any issue) and returns the row's fields;
``_retract`` names the status that takes a row back out of the record (entered-in-error and the
like), blank when the resource does not."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from vardkontakt.fhir.importer import labs
from vardkontakt.fhir.importer.vocabulary import (
    CLINICAL_STATUS,
    DOC_STATUS,
    ENTERED_IN_ERROR,
    ICD10_SYSTEMS,
    NOTE_TEMPLATE_SYSTEM,
    RENEWABLE_EXTENSION,
    VERIFICATION_STATUS,
)
from vardkontakt.records.models import ValueType, template_key

if TYPE_CHECKING:
    from vardkontakt.fhir.importer.reading import Batch, Reader


def _text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("display"):
            return str(coding["display"])
    return ""


def _template_code(concept: Any) -> str:
    """The note template's code: the one in our note-template system if given, else the first code."""
    codings = (
        [c for c in (concept or {}).get("coding") or [] if isinstance(c, dict) and c.get("code")]
        if isinstance(concept, dict)
        else []
    )
    ours = next((c for c in codings if c.get("system") == NOTE_TEMPLATE_SYSTEM), None)
    chosen = ours or (codings[0] if codings else None)
    return str(chosen["code"]) if chosen else ""


def _out(status: str, *taking_out: str) -> str:
    """The status when it takes the row out of the record, else blank."""
    return status if status in taking_out else ""


def person_name(resource: dict[str, Any]) -> str:
    names = (resource.get("name") or [{}])[0]
    if names.get("text"):
        return str(names["text"])
    return " ".join([*(str(g) for g in names.get("given") or []), str(names.get("family", ""))]).strip()


def qualification(resource: dict[str, Any]) -> str:
    return _text(((resource.get("qualification") or [{}])[0]).get("code"))


def _note(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("DocumentReference")
    doc_status = r.data.get("docStatus", "final")
    if doc_status not in DOC_STATUS:
        r.fail("docStatus", f"docStatus must be one of {', '.join(sorted(DOC_STATUS))}", "code-invalid")
    text = ""
    try:
        attachment = r.data["content"][0]["attachment"]
        text = base64.b64decode(attachment.get("data", ""), validate=True).decode("utf-8")
    except (KeyError, IndexError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError):
        r.fail("content[0].attachment.data", "the note's text must be base64-encoded UTF-8", "value")
    author, profession = batch.practitioner(r, "author[0]", (r.data.get("author") or [{}])[0])
    template = _text(r.data.get("type")) or "Anteckning"
    return {
        "author_name": author[:200],
        "author_profession": (_text((r.data.get("context") or {}).get("practiceSetting")) or profession)[:64],
        "written_on": r.date(r.data.get("date"), "date"),
        "template": template[:120],
        "template_key": template_key(template)[:120],
        "template_code": _template_code(r.data.get("type"))[:64],
        "signed": doc_status in ("final", "amended"),
        "text": text,
        "_retract": ENTERED_IN_ERROR if ENTERED_IN_ERROR in (status, doc_status) else "",
    }


def _diagnosis(r: Reader, batch: Batch) -> dict[str, Any]:
    r.coded("clinicalStatus", CLINICAL_STATUS)
    verification = r.coded("verificationStatus", VERIFICATION_STATUS)
    codings = (r.data.get("code") or {}).get("coding") or []
    icd = next((c for c in codings if isinstance(c, dict) and c.get("system") in ICD10_SYSTEMS and c.get("code")), None)
    if icd is None:
        r.fail("code.coding", "an ICD-10 code is required", "code-invalid")
        icd = {}
    return {
        "code": str(icd.get("code", ""))[:10],
        "text": (_text(r.data.get("code")) or str(icd.get("code", "")))[:300],
        "recorded_on": r.date(r.data.get("recordedDate") or r.data.get("onsetDateTime"), "recordedDate"),
        # A refuted diagnosis is not the patient's diagnosis: it leaves the list like an error does.
        "_retract": _out(verification, ENTERED_IN_ERROR, "refuted"),
    }


def _contact(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("Encounter")
    period = r.data.get("period") or {}
    return {
        "kind": (_text((r.data.get("type") or [{}])[0]) or "Vårdkontakt")[:120],
        "started_on": r.date(period.get("start"), "period.start"),
        "ended_on": r.optional_date(period.get("end"), "period.end"),
        "responsible": str(((r.data.get("participant") or [{}])[0].get("individual") or {}).get("display", ""))[:200],
        "_retract": _out(status, ENTERED_IN_ERROR, "cancelled", "planned"),
    }


def _value(r: Reader, data: dict[str, Any], path: str) -> dict[str, Any]:
    """An Observation's (or a component's) value[x] or dataAbsentReason as the row's value fields;
    an empty dict when there is neither."""
    quantity = data.get("valueQuantity")
    if isinstance(quantity, dict):
        if quantity.get("value") is None:
            r.fail(f"{path}valueQuantity.value", "a valueQuantity needs a value", "required")
        return {
            "value_type": ValueType.QUANTITY,
            "value": r.decimal(quantity.get("value"), f"{path}valueQuantity.value"),
            "unit_of_measure": labs.unit_label(quantity)[:40],
        }
    if data.get("valueInteger") is not None:
        return {"value_type": ValueType.INTEGER, "value": r.decimal(data["valueInteger"], f"{path}valueInteger")}
    if data.get("valueString") is not None or data.get("valueDateTime") or data.get("valueTime"):
        text = data.get("valueString") if data.get("valueString") is not None else data.get("valueDateTime")
        text = str(text if text is not None else data.get("valueTime"))[:2000]
        if not text.strip():
            r.fail(f"{path}valueString", "a valueString may not be empty", "required")
        return {"value_type": ValueType.STRING, "value_text": text}
    if data.get("valueCodeableConcept") is not None:
        concept = data["valueCodeableConcept"]
        text = _text(concept) or next((code for _, code in labs.codes(concept)), "")
        if not text:
            r.fail(f"{path}valueCodeableConcept", "a coded answer needs a text, a display or a code", "required")
        return {"value_type": ValueType.CONCEPT, "value_text": text[:2000]}
    if data.get("valueBoolean") is not None:
        return {"value_type": ValueType.BOOLEAN, "value_text": "true" if data["valueBoolean"] else "false"}
    if isinstance(data.get("valueRange"), dict):
        low, high = data["valueRange"].get("low") or {}, data["valueRange"].get("high") or {}
        if low.get("value") is None and high.get("value") is None:
            r.fail(f"{path}valueRange", "a valueRange needs a low or a high value", "required")
        return {
            "value_type": ValueType.RANGE,
            "value": r.decimal(low.get("value"), f"{path}valueRange.low.value"),
            "value_high": r.decimal(high.get("value"), f"{path}valueRange.high.value"),
            "unit_of_measure": (labs.unit_label(low) or labs.unit_label(high))[:40],
        }
    for other in ("valueRatio", "valueSampledData", "valuePeriod"):
        if data.get(other) is not None:
            r.fail(f"{path}{other}", f"{other} is not accepted: send a valueQuantity or a valueString", "not-supported")
            return {"value_type": ValueType.STRING, "value_text": "-"}
    if data.get("dataAbsentReason") is not None:
        reason = labs.absent_reason(data["dataAbsentReason"], _text(data["dataAbsentReason"]))
        return {"value_type": ValueType.ABSENT, "absent_reason": reason[:200] or "unknown"}
    return {}


def _ranges(r: Reader, data: dict[str, Any], path: str, taken: dt.datetime | None) -> dict[str, Any]:
    """The reference range that applies to the patient on the day (labs.chosen_range)."""
    patient = r.patient
    index, chosen = labs.chosen_range(
        data.get("referenceRange"),
        personnummer=patient.personnummer if patient else "",
        born=patient.birth_date if patient else None,
        on=timezone.localdate(taken) if taken else timezone.localdate(),
    )
    where = f"{path}referenceRange[{index}]"
    return {
        "reference_low": r.decimal((chosen.get("low") or {}).get("value"), f"{where}.low.value"),
        "reference_high": r.decimal((chosen.get("high") or {}).get("value"), f"{where}.high.value"),
    }


def _component(r: Reader, index: int, data: dict[str, Any], taken: dt.datetime | None) -> dict[str, Any]:
    """One component (systolic, diastolic) with its own code, value, unit and range; numbers as text."""
    path = f"component[{index}]."
    name = _text(data.get("code")) or next((code for _, code in labs.codes(data.get("code"))), "")
    if not name:
        r.fail(f"{path}code", "a component must be named (code.text, a coding's display or code)", "required")
    value = _value(r, data, path)
    if not value:
        r.fail(f"{path}value[x]", "a component needs a value[x] or a dataAbsentReason", "required")
    ranges = _ranges(r, data, path, taken)

    def text(number: Decimal | None) -> str | None:
        return None if number is None else str(number)

    return {
        "analysis": name[:200],
        "value_type": str(value.get("value_type", ValueType.STRING)),
        "value": text(value.get("value")),
        "value_high": text(value.get("value_high")),
        "value_text": str(value.get("value_text", "")),
        "unit": str(value.get("unit_of_measure", "")),
        "absent_reason": str(value.get("absent_reason", "")),
        "low": text(ranges["reference_low"]),
        "high": text(ranges["reference_high"]),
        "flag": labs.flag_of(data.get("interpretation")),
    }


def _taken(r: Reader, *also: str) -> dt.datetime | None:
    """When the sample was taken: effectiveDateTime, effectivePeriod.start (or what ``also`` names)."""
    period = r.data.get("effectivePeriod")
    period = period if isinstance(period, dict) else {}
    for name, value in (
        ("effectiveDateTime", r.data.get("effectiveDateTime")),
        ("effectivePeriod.start", period.get("start")),
    ):
        if value:
            return r.instant(value, name)
    for name in also:
        if r.data.get(name):
            return r.instant(r.data[name], name)
    return r.instant(None, "effectiveDateTime")


def _result(r: Reader, batch: Batch) -> dict[str, Any]:
    """An Observation: one value of any kind, its components (blood pressure), or a panel of
    other Observations (hasMember); the reference range that applies to the patient."""
    status = r.status("Observation")
    if not _text(r.data.get("code")):
        r.fail("code", "the analysis must be named (code.text or a coding's display)", "required")
    taken = _taken(r)
    value = _value(r, r.data, "")
    components = [
        _component(r, index, component, taken)
        for index, component in enumerate(r.data.get("component") or [])
        if isinstance(component, dict)
    ]
    members = labs.members(r, batch, "hasMember")
    if not value:
        if components:
            value = {"value_type": ValueType.COMPONENTS}
        elif members or r.data.get("hasMember"):
            value = {"value_type": ValueType.PANEL}
        else:
            r.fail("value[x]", "a value[x], a dataAbsentReason, components or hasMember is required", "required")
    return {
        "analysis": (_text(r.data.get("code")) or "Analys")[:200],
        **_no_value(),
        **value,
        **_ranges(r, r.data, "", taken),
        "components": components,
        "flag": labs.flag_of(r.data.get("interpretation")),
        "taken_at": taken,
        "status": status[:16],
        "report": False,
        "_members": members,
        "_retract": _out(status, ENTERED_IN_ERROR, "cancelled"),
    }


def _no_value() -> dict[str, Any]:
    # Every entry of a table carries the same fields (records.services.record_entries_upsert).
    return {
        "value_type": ValueType.STRING,
        "value": None,
        "value_high": None,
        "value_text": "",
        "unit_of_measure": "",
        "absent_reason": "",
    }


def _report(r: Reader, batch: Batch) -> dict[str, Any]:
    """A report: the results it groups (``result``), its conclusion or its text as a base64
    presentedForm (text/plain; a PDF or an image is not shown here), or both."""
    status = r.status("DiagnosticReport")
    if not _text(r.data.get("code")):
        r.fail("code", "the report must be named (code.text or a coding's display)", "required")
    text = str(r.data.get("conclusion") or "")
    for index, form in enumerate(r.data.get("presentedForm") or []):
        if text or not isinstance(form, dict):
            break
        if str(form.get("contentType") or "text/plain").split(";")[0].strip() != "text/plain":
            continue
        try:
            text = base64.b64decode(form.get("data", ""), validate=True).decode("utf-8")
        except (AttributeError, TypeError, binascii.Error, UnicodeDecodeError):
            r.fail(f"presentedForm[{index}].data", "the report's text must be base64-encoded UTF-8", "value")
            text = "-"  # the problem is named; do not name it twice
    members = labs.members(r, batch, "result")
    if not text and not members and not r.data.get("result"):
        r.fail("conclusion", "results, a conclusion or a presentedForm with the report's text is required", "required")
    return {
        "analysis": (_text(r.data.get("code")) or "Utlåtande")[:200],
        **_no_value(),
        "value_type": ValueType.TEXT if text else ValueType.PANEL,
        "value_text": text,
        "reference_low": None,
        "reference_high": None,
        "components": [],
        "flag": "",
        "taken_at": _taken(r, "issued"),
        "status": status[:16],
        "report": True,
        "_members": members,
        "_retract": _out(status, ENTERED_IN_ERROR, "cancelled"),
    }


def _medicine(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("MedicationDispense")
    renewable = any(
        isinstance(extension, dict) and extension.get("url") == RENEWABLE_EXTENSION and extension.get("valueBoolean")
        for extension in r.data.get("extension") or []
    )
    dosage = (r.data.get("dosageInstruction") or [{}])[0]
    prescription = (r.data.get("authorizingPrescription") or [{}])[0]
    return {
        "name": (_text(r.data.get("medicationCodeableConcept")) or "Läkemedel")[:200],
        "strength": "",
        "dosage": str(dosage.get("text", ""))[:300],
        "prescriber": str(prescription.get("display", ""))[:200],
        "dispensed_on": r.date(r.data.get("whenHandedOver"), "whenHandedOver"),
        "current": status not in ("cancelled", "stopped", "declined"),
        "renewable": renewable,
        "_retract": _out(status, ENTERED_IN_ERROR),
    }


MAPPERS: dict[str, Callable[[Reader, Batch], dict[str, Any]]] = {
    "DocumentReference": _note,
    "Condition": _diagnosis,
    "Encounter": _contact,
    "Observation": _result,
    "DiagnosticReport": _report,
    "MedicationDispense": _medicine,
}
