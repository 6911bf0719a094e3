"""Mapping of the clinical resources Journalen shows beside notes and results (issue 21):
prescriptions (MedicationRequest, and the MedicationDispense that names its prescription),
alerts (AllergyIntolerance, Flag), vaccinations (Immunization) and referrals (ServiceRequest).

Each mapper reads one resource through its Reader (which records every issue with its place)
and returns the row's fields, as ``mapping`` does for the older types; ``_retract`` names the
status that takes the row back out of the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vardkontakt.fhir.importer.mapping import MAPPERS, _out, _text
from vardkontakt.fhir.importer.vocabulary import ENTERED_IN_ERROR, HSA_SYSTEM, REFERRAL_STATUS_EXTENSION
from vardkontakt.records.models import Prescription, ReferralStatus

if TYPE_CHECKING:
    from vardkontakt.fhir.importer.reading import Batch, Reader

# MedicationRequest.intent and ServiceRequest.intent: only an order is a prescription or a referral
# (a proposal or a plan is not sent to anyone).
ORDER_INTENTS = {"order", "original-order", "reflex-order", "filler-order", "instance-order"}
ALLERGY_CLINICAL_STATUS = {"active", "inactive", "resolved"}
ALLERGY_VERIFICATION_STATUS = {"unconfirmed", "confirmed", "refuted", "entered-in-error"}
CRITICALITY = {"low", "high", "unable-to-assess"}
ALLERGY_CATEGORIES = {"food", "medication", "environment", "biologic"}
REACTION_SEVERITY = {"mild": "lindrig", "moderate": "måttlig", "severe": "svår"}
ATC_SYSTEM = "http://www.whocc.no/atc"
# More dispensings than a prescription could ever allow: refused rather than stored (the column's range).
MAX_REPEATS = 999
REFERRAL_STATUSES = {status.value for status in ReferralStatus} - {ReferralStatus.WITHDRAWN}


def _intent(r: Reader) -> None:
    if r.data.get("intent") not in ORDER_INTENTS:
        r.fail("intent", f"intent must be one of {', '.join(sorted(ORDER_INTENTS))}", "code-invalid")


def _first(value: Any) -> dict[str, Any]:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


# --- prescriptions -------------------------------------------------------------------------------


def _prescription(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("MedicationRequest")
    _intent(r)
    name = _text(r.data.get("medicationCodeableConcept")) or str(
        (r.data.get("medicationReference") or {}).get("display", "")
    )
    if not name:
        r.fail("medication[x]", "the medicine must be named (medicationCodeableConcept or a display)", "required")
    prescriber, profession = batch.practitioner(r, "requester", r.data.get("requester"))
    request = r.data.get("dispenseRequest") or {}
    validity = request.get("validityPeriod") or {}
    repeats = request.get("numberOfRepeatsAllowed")
    if repeats is not None and not (isinstance(repeats, int) and 0 <= repeats <= MAX_REPEATS):
        r.fail(
            "dispenseRequest.numberOfRepeatsAllowed", f"the repeats must be a number from 0 to {MAX_REPEATS}", "value"
        )
        repeats = None
    return {
        "name": name[:200] or "Läkemedel",
        "dosage": str(_first(r.data.get("dosageInstruction")).get("text", ""))[:300],
        "prescriber_name": prescriber[:200],
        "prescriber_profession": profession[:64],
        "prescribed_on": r.date(r.data.get("authoredOn"), "authoredOn"),
        "status": status[:16],
        "repeats_allowed": repeats,
        "valid_until": r.optional_date(validity.get("end"), "dispenseRequest.validityPeriod.end"),
        # Cancelled or a draft: never a prescription the patient had.
        "_retract": _out(status, ENTERED_IN_ERROR, "cancelled", "draft"),
    }


def _dispense(r: Reader, batch: Batch) -> dict[str, Any]:
    """A dispensing (mapping's MedicationDispense) and the prescription it was made on."""
    fields = MAPPERS["MedicationDispense"](r, batch)
    fields["prescription_source_id"] = _prescription_of(r, batch)
    return fields


def _prescription_of(r: Reader, batch: Batch) -> str:
    """The business identifier of ``authorizingPrescription[0]``: a MedicationRequest of this
    Bundle, a held one (``MedicationRequest/<id>``), or its identifier; blank for a display alone."""
    reference = _first(r.data.get("authorizingPrescription"))
    if not reference.get("reference") and not isinstance(reference.get("identifier"), dict):
        return ""
    target = batch._resolve(r, "authorizingPrescription[0]", reference, "MedicationRequest")
    if isinstance(target, Prescription):
        return target.source_id
    if isinstance(target, dict):
        for identifier in target.get("identifier") or []:
            if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
                return f"{identifier['system']}|{identifier['value']}"[:128]
        r.fail("authorizingPrescription[0]", "the prescription must carry a business identifier (system and value)")
    return ""


# --- alerts ----------------------------------------------------------------------------------------


def _allergy(r: Reader, batch: Batch) -> dict[str, Any]:
    clinical = r.coded("clinicalStatus", ALLERGY_CLINICAL_STATUS)
    verification = r.coded("verificationStatus", ALLERGY_VERIFICATION_STATUS)
    criticality = r.data.get("criticality")
    if criticality is not None and criticality not in CRITICALITY:
        r.fail("criticality", f"criticality must be one of {', '.join(sorted(CRITICALITY))}", "code-invalid")
    categories = [str(c) for c in r.data.get("category") or []]
    for index, category in enumerate(categories):
        if category not in ALLERGY_CATEGORIES:
            r.fail(
                f"category[{index}]", f"category must be one of {', '.join(sorted(ALLERGY_CATEGORIES))}", "code-invalid"
            )
    substance = _text(r.data.get("code"))
    if not substance:
        r.fail("code", "the substance must be named (code.text or a coding's display)", "required")
    reactions = []
    for reaction in r.data.get("reaction") or []:
        if not isinstance(reaction, dict):
            continue
        shown = ", ".join(t for t in (_text(m) for m in reaction.get("manifestation") or []) if t)
        severity = REACTION_SEVERITY.get(str(reaction.get("severity", "")), "")
        reactions.append(f"{shown} ({severity})" if shown and severity else shown)
    noted = r.data.get("recordedDate") or r.data.get("onsetDateTime")
    return {
        "kind": "allergy",
        "text": substance[:300] or "Allergi",
        "category": ",".join(categories)[:120],
        "critical": criticality == "high",
        # Only a confirmed allergy is shown as fact; without a verification status it is unconfirmed.
        "confirmed": verification == "confirmed",
        "reactions": "; ".join(x for x in reactions if x)[:500],
        "noted_on": r.date(noted, "recordedDate"),
        "active": clinical in ("", "active"),
        "_retract": _out(verification, ENTERED_IN_ERROR, "refuted"),
    }


def _flag(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("Flag")
    text = _text(r.data.get("code"))
    if not text:
        r.fail("code", "the warning must be said (code.text or a coding's display)", "required")
    return {
        "kind": "warning",
        "text": text[:300] or "Varning",
        "category": _text(_first(r.data.get("category")))[:120],
        "critical": False,
        "confirmed": True,
        "reactions": "",
        "noted_on": r.date((r.data.get("period") or {}).get("start"), "period.start"),
        "active": status == "active",
        "_retract": _out(status, ENTERED_IN_ERROR),
    }


# --- vaccinations ----------------------------------------------------------------------------------


def _vaccination(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("Immunization")
    concept = r.data.get("vaccineCode")
    vaccine = _text(concept)
    if not vaccine:
        r.fail("vaccineCode", "the vaccine must be named (vaccineCode.text or a coding's display)", "required")
    codings = [c for c in (concept or {}).get("coding") or [] if isinstance(c, dict) and c.get("code")]
    atc = next((c for c in codings if c.get("system") == ATC_SYSTEM), None) or (codings[0] if codings else {})
    protocol = _first(r.data.get("protocolApplied"))
    dose = protocol.get("doseNumberPositiveInt") or protocol.get("doseNumberString") or ""
    series = protocol.get("seriesDosesPositiveInt") or protocol.get("seriesDosesString") or ""
    return {
        "vaccine": vaccine[:200] or "Vaccin",
        "vaccine_code": str(atc.get("code", ""))[:64],
        "given_on": r.date(r.data.get("occurrenceDateTime"), "occurrenceDateTime"),
        "dose": (f"{dose}/{series}" if dose and series else str(dose))[:32],
        "lot_number": str(r.data.get("lotNumber", ""))[:64],
        # Not done: no vaccination was given, so none is shown.
        "_retract": _out(status, ENTERED_IN_ERROR, "not-done"),
    }


# --- referrals -------------------------------------------------------------------------------------


def _referral(r: Reader, batch: Batch) -> dict[str, Any]:
    status = r.status("ServiceRequest")
    _intent(r)
    given = ""
    for extension in r.data.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == REFERRAL_STATUS_EXTENSION:
            given = str(extension.get("valueCode", ""))
            if given not in REFERRAL_STATUSES:
                r.fail(
                    "extension",
                    f"the referral status must be one of {', '.join(sorted(REFERRAL_STATUSES))}",
                    "code-invalid",
                )
    shown = given or {"completed": "completed", "revoked": "withdrawn"}.get(status, "sent")
    if status == "revoked" and given != "refused":
        shown = ReferralStatus.WITHDRAWN
    performer = _first(r.data.get("performer"))
    to_unit = str(performer.get("display", ""))
    identifier = performer.get("identifier")
    if (
        not to_unit
        and isinstance(identifier, dict)
        and identifier.get("system") == HSA_SYSTEM
        and identifier.get("value")
    ):
        # A unit the platform knows is named as it is known; another by its HSA-id.
        known = batch.unit_by_hsa(str(identifier["value"]))
        to_unit = known.name if known is not None else str(identifier["value"])
    if not to_unit:
        r.fail("performer[0]", "the receiving unit must be given (a display, or an HSA-id identifier)", "required")
    reasons = [t for t in (_text(c) for c in r.data.get("reasonCode") or []) if t]
    updated = (r.data.get("meta") or {}).get("lastUpdated")
    return {
        "to_unit": to_unit[:200],
        "reason": "; ".join(reasons)[:2000],
        "sent_on": r.date(r.data.get("authoredOn"), "authoredOn"),
        "status": str(shown),
        "version_at": r.instant(updated, "meta.lastUpdated") if updated else None,
        "_retract": _out(status, ENTERED_IN_ERROR),
    }


CLINICAL_MAPPERS: dict[str, Callable[[Reader, Batch], dict[str, Any]]] = {
    "MedicationRequest": _prescription,
    # Replaces mapping's: the same fields and the prescription it names.
    "MedicationDispense": _dispense,
    "AllergyIntolerance": _allergy,
    "Flag": _flag,
    "Immunization": _vaccination,
    "ServiceRequest": _referral,
}
