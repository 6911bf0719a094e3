"""Reading an HSA catalogue extract, CSV or JSON (the layout: docs/hsa-import.md), into records.

Every problem is reported with its line (CSV) or position (JSON), and an extract with any
problem is refused as a whole: nothing of it is applied.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from vardkontakt.identity.models import Profession
from vardkontakt.identity.numbers import normalise_hsa_id
from vardkontakt.organisation.models import UnitKind

CSV_COLUMNS = [
    "record",
    "hsa_id",
    "name",
    "kind",
    "administration",
    "given_name",
    "family_name",
    "profession",
    "unit_hsa_id",
    "starts_on",
    "ends_on",
]
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class UnitRecord:
    hsa_id: str
    name: str
    kind: str
    administration: str
    ends_on: dt.date | None


@dataclass(frozen=True)
class Place:
    unit_hsa_id: str
    starts_on: dt.date | None
    ends_on: dt.date | None


@dataclass
class PersonRecord:
    hsa_id: str
    given_name: str
    family_name: str
    profession: str
    places: list[Place] = field(default_factory=list)


@dataclass
class Extract:
    units: dict[str, UnitRecord] = field(default_factory=dict)
    persons: dict[str, PersonRecord] = field(default_factory=dict)
    digest: str = ""  # of the text it was read from, when known


class ExtractError(ValidationError):
    """The extract's problems, each with where it is (at most MAX_PROBLEMS of them)."""


class _Reader:
    def __init__(self) -> None:
        self.extract = Extract()
        self.problems: list[str] = []

    def problem(self, where: str, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{where}: {text}")

    def hsa_id(self, where: str, value: Any) -> str | None:
        try:
            return normalise_hsa_id(str(value or ""))
        except ValidationError as error:
            self.problem(where, " ".join(error.messages))
            return None

    def text(self, where: str, value: Any, name: str, limit: int) -> str:
        cleaned = " ".join(str(value or "").split())
        if not cleaned:
            self.problem(where, _("%(field)s is missing.") % {"field": name})
        elif len(cleaned) > limit:
            self.problem(where, _("%(field)s is longer than %(limit)s characters.") % {"field": name, "limit": limit})
        return cleaned[:limit]

    def date(self, where: str, value: Any) -> dt.date | None:
        if value in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.problem(where, _("%(value)s is not a date as YYYY-MM-DD.") % {"value": str(value)[:20]})
            return None

    def unit(self, where: str, row: dict[str, Any]) -> None:
        hsa_id = self.hsa_id(where, row.get("hsa_id"))
        kind = str(row.get("kind") or "").strip()
        if kind not in UnitKind.values:
            self.problem(where, _("%(kind)s is not a kind of unit.") % {"kind": kind[:40] or "–"})
        record = UnitRecord(
            hsa_id=hsa_id or "",
            name=self.text(where, row.get("name"), "name", 120),
            kind=kind,
            administration=self.text(where, row.get("administration"), "administration", 100),
            ends_on=self.date(where, row.get("ends_on")),
        )
        if hsa_id is None:
            return
        if hsa_id in self.extract.units:
            self.problem(where, _("The unit %(hsa_id)s is in the extract twice.") % {"hsa_id": hsa_id})
        self.extract.units[hsa_id] = record

    def person(self, where: str, row: dict[str, Any], places: list[dict[str, Any]]) -> None:
        hsa_id = self.hsa_id(where, row.get("hsa_id"))
        profession = str(row.get("profession") or "").strip()
        if profession not in Profession.values:
            self.problem(where, _("%(profession)s is not a profession.") % {"profession": profession[:40] or "–"})
        given = self.text(where, row.get("given_name"), "given_name", 100)
        family = self.text(where, row.get("family_name"), "family_name", 100)
        if hsa_id is None:
            return
        person = self.extract.persons.get(hsa_id)
        if person is None:
            person = self.extract.persons[hsa_id] = PersonRecord(hsa_id, given, family, profession)
        elif (person.given_name, person.family_name, person.profession) != (given, family, profession):
            self.problem(where, _("%(hsa_id)s has other details on another line.") % {"hsa_id": hsa_id})
        for place in places:
            unit_hsa_id = self.hsa_id(where, place.get("unit_hsa_id"))
            starts_on, ends_on = self.date(where, place.get("starts_on")), self.date(where, place.get("ends_on"))
            if starts_on and ends_on and ends_on < starts_on:
                self.problem(where, _("The last day cannot come before the first."))
            if unit_hsa_id is None:
                continue
            if any(known.unit_hsa_id == unit_hsa_id for known in person.places):
                self.problem(where, _("%(hsa_id)s is at this unit twice.") % {"hsa_id": hsa_id})
            person.places.append(Place(unit_hsa_id, starts_on, ends_on))


def read_extract(content: str) -> Extract:
    """The extract's records; ExtractError if anything in it is wrong (JSON if it starts with "{")."""
    reader = _Reader()
    text = content.lstrip("\ufeff").strip()
    if not text:
        raise ExtractError([_("The file is empty.")])
    if text.startswith("{"):
        _read_json(reader, text)
    else:
        _read_csv(reader, text)
    if reader.problems:
        raise ExtractError(reader.problems)
    return reader.extract


def _read_csv(reader: _Reader, text: str) -> None:
    rows = csv.DictReader(io.StringIO(text))
    missing = [name for name in CSV_COLUMNS if name not in (rows.fieldnames or [])]
    if missing:
        reader.problem(_("line 1"), _("columns missing: %(columns)s") % {"columns": ", ".join(missing)})
        return
    for number, row in enumerate(rows, start=2):
        where = _("line %(number)s") % {"number": number}
        kind = (row.get("record") or "").strip()
        if kind == "unit":
            reader.unit(where, row)
        elif kind == "person":
            place = [row] if (row.get("unit_hsa_id") or "").strip() else []
            reader.person(where, row, place)
        else:
            reader.problem(where, _("record must be “unit” or “person”."))


def _read_json(reader: _Reader, text: str) -> None:
    try:
        document = json.loads(text)
    except ValueError:
        reader.problem("JSON", _("The file is not valid JSON."))
        return
    units, persons = document.get("units", []), document.get("persons", [])
    if not isinstance(units, list) or not isinstance(persons, list):
        reader.problem("JSON", _("“units” and “persons” must be lists."))
        return
    for number, unit in enumerate(units):
        where = f"units[{number}]"
        if isinstance(unit, dict):
            reader.unit(where, unit)
        else:
            reader.problem(where, _("Each entry must be an object."))
    for number, person in enumerate(persons):
        where = f"persons[{number}]"
        places = person.get("places", []) if isinstance(person, dict) else None
        if not isinstance(person, dict) or not isinstance(places, list) or not all(isinstance(p, dict) for p in places):
            reader.problem(where, _("Each entry must be an object, its places a list of objects."))
            continue
        reader.person(where, person, places)
