"""What a lab sends beyond one number: which of several reference ranges applies to this patient
on this day, UCUM units as people write them, why a value is missing, and the results a report
or a panel groups (DiagnosticReport.result, Observation.hasMember). Used by ``mapping``."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vardkontakt.records.models import ABSENT_REASONS, LabResult

if TYPE_CHECKING:
    from vardkontakt.fhir.importer.reading import Batch, Planned, Reader

UCUM_SYSTEM = "http://unitsofmeasure.org"
ABSENT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
SNOMED_SYSTEM = "http://snomed.info/sct"
# appliesTo codes naming a sex: FHIR's administrative gender and SNOMED CT's "male"/"female".
SEX_CODES = {"male": "male", "female": "female", "248153007": "male", "248152002": "female"}
# Interpretation codes (v3 ObservationInterpretation) onto the flags the record keeps.
FLAGS = {"H": "H", "HH": "H", "HU": "H", "L": "L", "LL": "L", "LU": "L", "N": "N"}
# referenceRange.type: the ranges a resident compares with (other types, such as a therapeutic
# range, are not "the" reference range).
NORMAL_RANGE_TYPES = {"normal", "recommended"}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def unit_label(quantity: dict[str, Any]) -> str:
    """A Quantity's unit as written to people: its ``unit``, else its UCUM code made readable
    (``10*9/L`` → 10⁹/L, ``mm[Hg]`` → mmHg, ``{beats}/min`` → /min)."""
    if quantity.get("unit"):
        return str(quantity["unit"])
    code = str(quantity.get("code") or "")
    if not code:
        return ""
    code = re.sub(r"10\*(-?\d+)", lambda m: "10" + m.group(1).translate(_SUPERSCRIPT), code)
    code = re.sub(r"\{[^}]*\}", "", code) or code
    return code.replace("[", "").replace("]", "")


def codes(concept: Any) -> list[tuple[str, str]]:
    """The (system, code) pairs of a CodeableConcept."""
    if not isinstance(concept, dict):
        return []
    return [
        (str(c.get("system") or ""), str(c["code"]))
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("code")
    ]


def absent_reason(concept: Any, text: str) -> str:
    """A dataAbsentReason: the lab's own words when it gave them ("Hemolyserat prov" says more
    than "error"), else the FHIR code (the page words it), else whatever code was sent."""
    if text:
        return text
    for system, code in codes(concept):
        if system in (ABSENT_REASON_SYSTEM, "") and code in ABSENT_REASONS:
            return code
    return next((code for _, code in codes(concept)), "")


def flag_of(interpretations: Any) -> str:
    found = ""
    for interpretation in interpretations or []:
        for _, code in codes(interpretation):
            found = FLAGS.get(code, found)
    return found


# --- reference ranges --------------------------------------------------------------------------


def sex_of(personnummer: str) -> str:
    """The legal sex a personnummer (or samordningsnummer) carries: its ninth digit, odd for male."""
    if len(personnummer) != 12 or not personnummer.isdigit():
        return ""
    return "male" if int(personnummer[10]) % 2 else "female"


def age_in(unit: str, born: dt.date, on: dt.date) -> int | None:
    """Completed years, months, weeks or days (UCUM a, mo, wk, d) on a day; None for another unit."""
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    if unit in ("a", "year", "years"):
        return months // 12
    if unit in ("mo", "month", "months"):
        return months
    if unit in ("wk", "week", "weeks"):
        return (on - born).days // 7
    if unit in ("d", "day", "days"):
        return (on - born).days
    return None


def _age_fits(age: dict[str, Any], born: dt.date, on: dt.date) -> bool | None:
    """Whether the patient's age on the day lies in the range; None when the range cannot be judged."""
    for bound, inside in (("low", lambda a, b: a >= b), ("high", lambda a, b: a <= b)):
        quantity = age.get(bound)
        if not isinstance(quantity, dict) or quantity.get("value") is None:
            continue
        years = age_in(str(quantity.get("code") or quantity.get("unit") or "a"), born, on)
        if years is None:
            return None
        try:
            if not inside(years, float(quantity["value"])):
                return False
        except (TypeError, ValueError):
            return None
    return True


def chosen_range(ranges: Any, *, personnummer: str, born: dt.date | None, on: dt.date) -> tuple[int, dict[str, Any]]:
    """The reference range that applies to this patient on this day, and its index (-1: none).

    A range applies when each of its conditions holds: its ``age`` (in years, months, weeks or
    days, ends included) and each ``appliesTo`` that names a sex. A condition that cannot be
    judged (another kind of ``appliesTo``, an age in another unit) keeps the range out. Of those
    that apply, the one with the most conditions wins (a range for women of 18-50 over a range for
    everyone), the first sent on a tie. Ranges of another ``type`` than normal are not compared.
    """
    best: tuple[int, int, dict[str, Any]] | None = None
    sex = sex_of(personnummer)
    for index, candidate in enumerate(ranges if isinstance(ranges, list) else []):
        if not isinstance(candidate, dict):
            continue
        types = {code for _, code in codes(candidate.get("type"))}
        if types and not types & NORMAL_RANGE_TYPES:
            continue
        conditions, fits = 0, True
        if isinstance(candidate.get("age"), dict):
            judged = _age_fits(candidate["age"], born, on) if born else None
            fits = fits and bool(judged)
            conditions += 1
        for applies in candidate.get("appliesTo") or []:
            named = {SEX_CODES.get(code) for _, code in codes(applies)} - {None}
            fits = fits and bool(named) and sex in named
            conditions += 1
        if fits and (best is None or conditions > best[0]):
            best = (conditions, index, candidate)
    return (best[1], best[2]) if best else (-1, {})


# --- the results a report or a panel groups ------------------------------------------------------


@dataclass
class Member:
    """One result a report or panel lists: an entry of this Bundle (its fullUrl) or a held row."""

    path: str  # where the reference sits, for an issue (Bundle.entry[2].resource.result[0])
    url: str = ""
    row: LabResult | None = None
    item: Planned | None = None  # the Bundle entry's planned row, once the whole Bundle is read


def members(r: Reader, batch: Batch, path: str) -> list[Member]:
    """The Observations ``path`` (``result`` or ``hasMember``) references: each must be an
    Observation of this Bundle or one the platform holds; anything else is refused by name."""
    found = []
    references = r.data.get(path) or []
    for index, reference in enumerate(references if isinstance(references, list) else []):
        where = f"{path}[{index}]"
        literal = str((reference or {}).get("reference") or "") if isinstance(reference, dict) else ""
        if not literal:
            r.fail(f"{where}.reference", "a result is referenced by its fullUrl or as Observation/<id>", "required")
            continue
        target = batch.entries_by_url.get(literal)
        if target is not None:
            if target.get("resourceType") != "Observation":
                r.fail(f"{where}.reference", f"{literal} is not an Observation", "invalid")
            else:
                found.append(Member(f"{r.where}.{where}", url=literal))
            continue
        kind, _, ident = literal.partition("/")
        row = None
        if kind == "Observation":
            try:
                row = LabResult.objects.filter(pk=uuid.UUID(ident), report=False).first()
            except ValueError:
                row = None
        if row is None:
            r.fail(f"{where}.reference", f"{literal} is not found (not in this Bundle, not held here)", "not-found")
            continue
        found.append(Member(f"{r.where}.{where}", row=row))
    return found
