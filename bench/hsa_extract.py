"""Invented HSA catalogue extracts of any size (docs/hsa-import.md), for the tests and bench/hsa_import.py."""

from __future__ import annotations

import csv
import datetime as dt
import io

from stdnum.se import orgnr

PROFESSIONS = ["nurse", "doctor", "assistant_nurse", "physiotherapist", "psychologist", "receptionist"]
KINDS = ["primary_care", "specialist_clinic", "physiotherapy", "child_health", "adult_psychiatry"]
ORGANISATION = "2321000255"  # the demo region's organisation number (valid)


def unit_hsa_id(number: int) -> str:
    return f"SE{ORGANISATION}-E9{number:05d}"


def person_hsa_id(number: int) -> str:
    return f"SE{ORGANISATION}-P9{number:06d}"


def extract_rows(
    persons: int, *, units: int, administration: str, today: dt.date, first: int = 0, first_unit: int = 0
) -> list[dict[str, str]]:
    """``units`` units numbered from ``first_unit`` and ``persons`` persons numbered from ``first``;
    every tenth person works at two units, every twentieth place has an end date a year ahead and
    every fiftieth starts next month."""
    assert orgnr.is_valid(ORGANISATION)
    rows = [
        {
            "record": "unit",
            "hsa_id": unit_hsa_id(first_unit + n),
            "name": f"Importerad mottagning {first_unit + n}",
            "kind": KINDS[n % len(KINDS)],
            "administration": administration,
        }
        for n in range(units)
    ]
    for n in range(first, first + persons):
        places = [n % units] + ([(n + 1) % units] if n % 10 == 0 and units > 1 else [])
        for place in places:
            rows.append(
                {
                    "record": "person",
                    "hsa_id": person_hsa_id(n),
                    "given_name": f"Person{n}",
                    "family_name": "Importsson",
                    "profession": PROFESSIONS[n % len(PROFESSIONS)],
                    "unit_hsa_id": unit_hsa_id(first_unit + place),
                    "starts_on": (today + dt.timedelta(days=30)).isoformat() if n % 50 == 1 else "",
                    "ends_on": (today + dt.timedelta(days=365)).isoformat() if n % 20 == 3 else "",
                }
            )
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    # The layout the import reads (docs/hsa-import.md), imported here: Django is set up by then.
    from vardkontakt.regions.catalogue_format import CSV_COLUMNS

    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in CSV_COLUMNS})
    return out.getvalue()
