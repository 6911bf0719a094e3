"""The demo region: Region Skåne's administrations from the seed, invented units, staff and people.

Every person here is invented. Residents carry test identity numbers in the style of the Swedish
tax agency's test numbers (Tolvan Tolvansson, 19121212-1212); the rest are generated with valid
check digits from fixed, non-random seeds so that every run builds the same region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stdnum import luhn

from vardkontakt.fees.models import FeeKind
from vardkontakt.identity.models import Profession
from vardkontakt.organisation.models import UnitKind

REGION_NAME = "Region Skåne"
# The demo HSA-ids' organisation number: invented, with a valid check digit, and in no real
# organisation's range (the first digit, the legal form's group, is never 0). A real one (Region
# Skåne's, say) would make demo identifiers look like the region's own in logs and integrations.
REGION_ORGNR = "0021000005"

ADMINISTRATIONS = [
    "Skånevård Sund",
    "Skånevård Kryh",
    "Skånes universitetssjukvård",
    "Habilitering och hjälpmedel",
    "Privata vårdgivare",
]


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    administration: str
    kind: str
    street: str
    postal_code: str
    city: str
    phone: str


UNITS = [
    DemoUnit(
        "E1001",
        "Vårdcentralen Lindängen",
        "Skånevård Sund",
        "primary_care",
        "Lindängsvägen 12",
        "21461",
        "Malmö",
        "040-623 10 00",
    ),
    DemoUnit(
        "E1002",
        "Vårdcentralen Kärnan",
        "Skånevård Sund",
        "primary_care",
        "Kullagatan 8",
        "25220",
        "Helsingborg",
        "042-406 20 00",
    ),
    DemoUnit(
        "E1003",
        "Barnavårdscentralen Söder",
        "Skånevård Sund",
        "child_health",
        "Södergatan 44",
        "25225",
        "Helsingborg",
        "042-406 21 00",
    ),
    DemoUnit(
        "E2001",
        "Vårdcentralen Näsby",
        "Skånevård Kryh",
        "primary_care",
        "Näsby torg 3",
        "29139",
        "Kristianstad",
        "044-309 30 00",
    ),
    DemoUnit(
        "E2002",
        "Barnmorskemottagningen Ystad",
        "Skånevård Kryh",
        "maternity_care",
        "Kristianstadsvägen 20",
        "27131",
        "Ystad",
        "0411-99 50 00",
    ),
    DemoUnit(
        "E2003",
        "Fysioterapin Hässleholm",
        "Skånevård Kryh",
        "physiotherapy",
        "Stobyvägen 5",
        "28131",
        "Hässleholm",
        "0451-29 40 00",
    ),
    DemoUnit(
        "E3001",
        "Hudmottagningen Lund",
        "Skånes universitetssjukvård",
        "specialist_clinic",
        "Lasarettsgatan 15",
        "22185",
        "Lund",
        "046-17 10 00",
    ),
    DemoUnit(
        "E3002",
        "Psykiatrimottagningen Malmö",
        "Skånes universitetssjukvård",
        "adult_psychiatry",
        "Jan Waldenströms gata 2",
        "20502",
        "Malmö",
        "040-33 40 00",
    ),
    DemoUnit(
        "E3003",
        "BUP-mottagningen Lund",
        "Skånes universitetssjukvård",
        "child_psychiatry",
        "Baravägen 1",
        "22240",
        "Lund",
        "046-17 45 00",
    ),
    DemoUnit(
        "E3004",
        "Ungdomsmottagningen Malmö",
        "Skånes universitetssjukvård",
        "youth_clinic",
        "Stora Nygatan 29",
        "21137",
        "Malmö",
        "040-34 66 00",
    ),
    DemoUnit(
        "E4001",
        "Habiliteringen Lund",
        "Habilitering och hjälpmedel",
        "habilitation",
        "Svanevägen 12",
        "22229",
        "Lund",
        "046-17 39 00",
    ),
    DemoUnit(
        "E5001",
        "Hälsocentralen Ängelholm (privat)",
        "Privata vårdgivare",
        "primary_care",
        "Storgatan 50",
        "26232",
        "Ängelholm",
        "0431-44 20 00",
    ),
]

OPENING_HOURS = "Måndag–torsdag 08–17\nFredag 08–15\nLördag–söndag stängt"


def unit_hsa_id(code: str) -> str:
    return f"SE{REGION_ORGNR}-{code}"


def staff_hsa_id(number: int) -> str:
    return f"SE{REGION_ORGNR}-P{number:04d}"


GIVEN_NAMES = [
    "Astrid",
    "Bengt",
    "Cecilia",
    "David",
    "Elin",
    "Fredrik",
    "Greta",
    "Hampus",
    "Ingrid",
    "Johan",
    "Karin",
    "Lars",
    "Maja",
    "Nils",
    "Olivia",
    "Per",
    "Ronja",
    "Sven",
    "Tove",
    "Ulf",
    "Vera",
    "Wilhelm",
    "Ylva",
    "Åke",
    "Ebba",
    "Oskar",
    "Siri",
    "Viktor",
    "Linnea",
    "Arvid",
]
FAMILY_NAMES = [
    "Exempelsson",
    "Testberg",
    "Provqvist",
    "Demodahl",
    "Fiktivsson",
    "Påhittad",
    "Låtsasson",
    "Övningsberg",
    "Prototypsson",
    "Mallgren",
]
STAFF_PROFESSIONS = [
    Profession.DOCTOR,
    Profession.NURSE,
    Profession.DISTRICT_NURSE,
    Profession.RECEPTIONIST,
    Profession.PHYSIOTHERAPIST,
    Profession.PSYCHOLOGIST,
    Profession.MIDWIFE,
    Profession.COUNSELLOR,
    Profession.ASSISTANT_NURSE,
    Profession.MEDICAL_SECRETARY,
]


@dataclass(frozen=True)
class DemoStaff:
    number: int  # the HSA-id's serial, after the generated staff
    given_name: str
    family_name: str
    profession: str
    unit_code: str


# Staff named one by one, where the generated ones leave a unit without a profession its work
# needs: Vårdcentralen Kärnan books doctor visits, so it has a doctor.
NAMED_STAFF = [DemoStaff(31, "Greta", "Läkarsson", Profession.DOCTOR, "E1002")]


def personnummer(birth: dt.date, serial: int) -> str:
    """A 12-digit personnummer with a correct check digit for the given date and 3-digit serial."""
    nine = f"{birth:%y%m%d}{serial:03d}"
    check = luhn.calc_check_digit(nine)
    return f"{birth:%Y%m%d}{serial:03d}{check}"


@dataclass(frozen=True)
class DemoPerson:
    personnummer: str
    given_name: str
    family_name: str
    role: str = ""


def born(today: dt.date, *, years: int, birthday_days_ago: int) -> dt.date:
    """A birth date that makes someone exactly `years` old on `today`, their last birthday
    `birthday_days_ago` days back (under 300, so the next one is still ahead)."""
    last_birthday = today - dt.timedelta(days=birthday_days_ago)
    try:
        return last_birthday.replace(year=last_birthday.year - years)
    except ValueError:  # born on 29 February in a leap year; that year has no such day
        return last_birthday.replace(year=last_birthday.year - years, day=28)


def named_people(today: dt.date) -> list[DemoPerson]:
    """The personas the demo and the tests talk about. Their ages are the same on any day the
    demo is loaded (the 9-year-old is 9, the 14-year-old is past the guardians' age limit), so
    their birth dates, and so their personnummer, follow the day of loading."""

    def number(years: int, birthday_days_ago: int, serial: int) -> str:
        return personnummer(born(today, years=years, birthday_days_ago=birthday_days_ago), serial)

    return [
        DemoPerson("191212121212", "Tolvan", "Tolvansson", "patient"),
        DemoPerson(number(41, 120, 238), "Anna", "Föräldersson", "guardian"),
        DemoPerson(number(43, 40, 257), "Erik", "Föräldersson", "guardian2"),
        DemoPerson(number(9, 200, 246), "Liam", "Föräldersson", "child"),
        DemoPerson(number(14, 95, 262), "Saga", "Föräldersson", "teenager"),
        DemoPerson(number(52, 6, 219), "Maria", "Omsorgsdotter", "proxy"),
        DemoPerson(number(86, 183, 225), "Gunnel", "Omsorgsdotter", "elderly"),
        DemoPerson(number(38, 240, 279), "Jonas", "Blockesson", "blocked_guardian"),
        DemoPerson(number(7, 105, 284), "Elsa", "Blockesson", "blocked_child"),
        DemoPerson(number(33, 285, 291), "Lina", "Skyddad", "protected_guardian"),
        DemoPerson(number(6, 64, 303), "Noah", "Skyddad", "protected_child"),
        DemoPerson(number(47, 5, 318), "Kent", "Återkallad", "revoked_proxy"),
        DemoPerson(number(35, 140, 322), "Sofia", "Förseglad", "sealed"),
    ]


# (guardian role, child role) pairs, as the population register would deliver them.
GUARDIANSHIPS = [
    ("guardian", "child"),
    ("guardian", "teenager"),
    ("guardian2", "child"),
    ("guardian2", "teenager"),
    ("blocked_guardian", "blocked_child"),
    ("protected_guardian", "protected_child"),
]


def other_people(today: dt.date, count: int) -> list[DemoPerson]:
    people = []
    for index in range(count):
        birth = dt.date(1940 + (index * 7) % 66, 1 + index % 12, 1 + (index * 5) % 28)
        people.append(
            DemoPerson(
                personnummer(birth, 300 + index * 3),
                GIVEN_NAMES[index % len(GIVEN_NAMES)],
                FAMILY_NAMES[(index // 3) % len(FAMILY_NAMES)],
            )
        )
    return people


def record_bundles(today: dt.date, lindangen_hsa: str, hud_hsa: str) -> dict[str, dict[str, object]]:
    """Demo record data as the source systems would send it: one FHIR transaction Bundle each."""
    import base64

    from vardkontakt.fhir.importer import HSA_SYSTEM, PERSONNUMMER_SYSTEM, RENEWABLE_EXTENSION, UNIT_EXTENSION

    people = {person.role: person.personnummer for person in named_people(today)}

    def ref(role: str) -> dict[str, object]:
        return {"identifier": {"system": PERSONNUMMER_SYSTEM, "value": people[role]}}

    def unit(hsa: str) -> list[dict[str, object]]:
        return [{"url": UNIT_EXTENSION, "valueIdentifier": {"system": HSA_SYSTEM, "value": hsa}}]

    def entry(resource: dict[str, object]) -> dict[str, object]:
        ident = resource["identifier"][0]["value"]  # type: ignore[index]
        return {
            "resource": resource,
            "request": {"method": "PUT", "url": f"{resource['resourceType']}?identifier={ident}"},
        }

    def note(
        ident: str, role: str, hsa: str, days_ago: int, template: str, signed: bool, text: str
    ) -> dict[str, object]:
        return entry(
            {
                "resourceType": "DocumentReference",
                "identifier": [{"system": "urn:demo:journal", "value": ident}],
                "status": "current",
                "docStatus": "final" if signed else "preliminary",
                "subject": ref(role),
                "date": f"{today - dt.timedelta(days=days_ago)}T10:00:00+01:00",
                "type": {"text": template},
                "author": [{"display": "Astrid Exempelsson"}],
                "context": {"practiceSetting": {"text": "läkare"}},
                "extension": unit(hsa),
                "content": [
                    {"attachment": {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}}
                ],
            }
        )

    journal = [
        note(
            "tolvan-1",
            "patient",
            lindangen_hsa,
            40,
            "Besöksanteckning",
            True,
            "Söker för halsont sedan en vecka. Ingen feber. Rådgivning om egenvård.",
        ),
        note(
            "tolvan-2",
            "patient",
            hud_hsa,
            200,
            "Mottagningsanteckning",
            True,
            "Eksem på händerna. Fortsatt behandling med mjukgörande kräm.",
        ),
        note(
            "tolvan-3",
            "patient",
            lindangen_hsa,
            2,
            "Telefonkontakt",
            False,
            "Ringt patienten om provsvar. Ej signerad ännu.",
        ),
        note(
            "liam-1",
            "child",
            lindangen_hsa,
            90,
            "Besöksanteckning",
            True,
            "Öronvärk sedan två dagar. Trumhinnan rodnad. Avvaktar.",
        ),
        note(
            "gunnel-1", "elderly", lindangen_hsa, 15, "Besöksanteckning", True, "Uppföljning av blodtryck. Välinställt."
        ),
    ]
    lab = [
        entry(
            {
                "resourceType": "Observation",
                "identifier": [{"system": "urn:demo:lab", "value": f"tolvan-glukos-{n}"}],
                "status": "final",
                "code": {"text": "P-Glukos"},
                "subject": ref("patient"),
                "extension": unit(lindangen_hsa),
                "effectiveDateTime": f"{today - dt.timedelta(days=days_ago)}T08:00:00+01:00",
                "valueQuantity": {"value": value, "unit": "mmol/L"},
                "referenceRange": [{"low": {"value": 4.0}, "high": {"value": 6.0}}],
                "interpretation": [{"coding": [{"code": "H" if value > 6.0 else "N"}]}],
            }
        )
        for n, (value, days_ago) in enumerate([(5.4, 300), (6.1, 120), (7.2, 10)])
    ]
    pharmacy = [
        entry(
            {
                "resourceType": "MedicationDispense",
                "identifier": [{"system": "urn:demo:pharmacy", "value": "tolvan-levaxin"}],
                "status": "completed",
                "medicationCodeableConcept": {"text": "Levaxin 50 mikrogram"},
                "subject": ref("patient"),
                "whenHandedOver": f"{today - dt.timedelta(days=60)}T12:00:00+01:00",
                "dosageInstruction": [{"text": "1 tablett på morgonen"}],
                "authorizingPrescription": [{"display": "Astrid Exempelsson"}],
                "extension": [*unit(lindangen_hsa), {"url": RENEWABLE_EXTENSION, "valueBoolean": True}],
            }
        )
    ]
    return {
        name: {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        for name, entries in (("demo-journal", journal), ("demo-lab", lab), ("demo-pharmacy", pharmacy))
    }


# --- Fees (issue 19 §1, docs/fees.md) -------------------------------------------------------------

# The demo region's fee rules: the statutory ceiling, free under 20 and from 85, cancel 24 hours
# before (as BOOKING_TERMS says).
FEE_RULES = {"ceiling": Decimal(1400), "free_under_age": 20, "free_from_age": 85, "missed_visit_hours": 24}
# (fee kind, kind of unit or "" for every other kind, kronor, counts toward the ceiling), in force
# from 1 January of the year the demo is loaded (regions decide their fees by the calendar year).
FEE_SCHEDULE: list[tuple[str, str, int, bool]] = [
    (FeeKind.DOCTOR, "", 200, True),  # primary care and every unit without a fee of its own
    (FeeKind.DOCTOR, UnitKind.SPECIALIST_CLINIC, 300, True),
    (FeeKind.OTHER_PROFESSION, "", 100, True),
    (FeeKind.VIDEO, "", 100, True),
    (FeeKind.PHONE, "", 100, True),
    (FeeKind.GROUP, "", 100, True),
    (FeeKind.MISSED_VISIT, "", 400, False),
]


# --- Online booking (Tidbok online) -------------------------------------------------------------

BOOKING_TERMS = (
    "Boka inte tid här för akuta besvär: ring 1177 eller, vid fara för livet, 112. "
    "Avboka senast 24 timmar före besöket, annars kan du få betala avgiften."
)
# Each visit type's blocks are held, at each unit, by its first member (in HSA-id order) whose
# profession may hold the visit type.
VISIT_TYPES: list[dict[str, Any]] = [
    {
        "name": "Hälsosamtal med sjuksköterska",
        "fields": {
            "duration_minutes": 30,
            "professions": [Profession.NURSE, Profession.DISTRICT_NURSE],
            "bookable_online": True,
            "rebookable_online": True,
        },
        "blocks": [
            {"weekday": 0, "start": dt.time(9), "end": dt.time(12), "place": "Mottagningsrum 2"},
            {"weekday": 2, "start": dt.time(13), "end": dt.time(16), "place": "Mottagningsrum 2"},
            {
                "weekday": 4,
                "start": dt.time(8),
                "end": dt.time(10),
                "place": "Mottagningsrum 2",
                "phone_only": True,
            },
        ],
    },
    {
        "name": "Läkarbesök",
        "fields": {
            "duration_minutes": 20,
            "professions": [Profession.DOCTOR],
            "fee_kronor": 200,  # shown only where the region's schedule had no doctor's fee
            "fee_kind": FeeKind.DOCTOR,
            "bookable_online": True,
            "rebookable_online": False,
        },
        "blocks": [
            {"weekday": 1, "start": dt.time(8), "end": dt.time(11), "place": "Mottagningsrum 5"},
            {
                "weekday": 3,
                "start": dt.time(13),
                "end": dt.time(15),
                "place": "Mottagningsrum 5",
                "series": True,
            },
        ],
    },
]
