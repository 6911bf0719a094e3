"""Mapping: the fields of each record resource onto the row the platform keeps. A mapper reads
one resource through its Reader (which records any issue) and returns the row's fields;
``_retract`` names the status that takes a row back out of the record (entered-in-error and the
like), blank when the resource does not."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vardkontakt.fhir.importer.vocabulary import (
    CLINICAL_STATUS,
    DOC_STATUS,
    ENTERED_IN_ERROR,
    ICD10_SYSTEMS,
    NOTE_TEMPLATE_SYSTEM,
    RENEWABLE_EXTENSION,
    VERIFICATION_STATUS,
)
from vardkontakt.records.models import template_key

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


def _result(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("Observation")
    if not _text(r.data.get("code")):
        r.fail("code", "the analysis must be named (code.text or a coding's display)", "required")
    quantity = r.data.get("valueQuantity") or {}
    ranges = (r.data.get("referenceRange") or [{}])[0]
    flag = ""
    for interpretation in r.data.get("interpretation") or []:
        for coding in interpretation.get("coding") or []:
            if coding.get("code") in ("H", "L", "N"):
                flag = coding["code"]
    value = r.decimal(quantity.get("value"), "valueQuantity.value")
    value_text = str(r.data.get("valueString", ""))[:2000]
    if quantity.get("value") is None and not value_text:
        r.fail("value[x]", "a valueQuantity or valueString is required", "required")
    return {
        "analysis": (_text(r.data.get("code")) or "Analys")[:200],
        "value": value,
        "value_text": value_text,
        "unit_of_measure": str(quantity.get("unit", ""))[:40],
        "reference_low": r.decimal((ranges.get("low") or {}).get("value"), "referenceRange[0].low.value"),
        "reference_high": r.decimal((ranges.get("high") or {}).get("value"), "referenceRange[0].high.value"),
        "flag": flag,
        "taken_at": r.instant(r.data.get("effectiveDateTime"), "effectiveDateTime"),
        "status": status[:16],
        "report": False,
        "_retract": _out(status, ENTERED_IN_ERROR, "cancelled"),
    }


def _report(r: Reader, batch: Batch) -> dict[str, Any]:
    """An imaging or other report: its conclusion, or its text as a base64 presentedForm."""
    status = r.status("DiagnosticReport")
    if not _text(r.data.get("code")):
        r.fail("code", "the report must be named (code.text or a coding's display)", "required")
    text = str(r.data.get("conclusion") or "")
    if not text and r.data.get("presentedForm"):
        try:
            text = base64.b64decode(r.data["presentedForm"][0].get("data", ""), validate=True).decode("utf-8")
        except (AttributeError, TypeError, binascii.Error, UnicodeDecodeError):
            r.fail("presentedForm[0].data", "the report's text must be base64-encoded UTF-8", "value")
            text = "-"  # the problem is named; do not name it twice
    if not text:
        r.fail("conclusion", "a conclusion or a presentedForm with the report's text is required", "required")
    return {
        "analysis": (_text(r.data.get("code")) or "Utlåtande")[:200],
        "value": None,
        "value_text": text,
        "unit_of_measure": "",
        "reference_low": None,
        "reference_high": None,
        "flag": "",
        "taken_at": r.instant(r.data.get("effectiveDateTime") or r.data.get("issued"), "effectiveDateTime"),
        "status": status[:16],
        "report": True,
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
