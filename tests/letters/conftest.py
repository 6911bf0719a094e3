"""What the letter tests share: unit X with an online visit type, free times next week, a print
folder of the test's own, and the run of a day at a given Swedish time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from vardkontakt.booking.models import BookingSettings, Slot, VisitType
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.organisation.models import CareUnit


@pytest.fixture
def unit(personas) -> CareUnit:
    unit = personas.staff_x.memberships.get().unit
    BookingSettings.objects.create(unit=unit, online_bookings_per_visit_type=5)
    return unit


@pytest.fixture
def visit(unit) -> VisitType:
    return VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal",
        name_en="Health check",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        rebookable_online=True,
        fee_kronor=200,
    )


def slots_from(unit: CareUnit, visit: VisitType, practitioner, first: dt.datetime, count: int = 6) -> list[Slot]:
    return [
        Slot.objects.create(
            unit=unit,
            practitioner=practitioner,
            visit_type=visit,
            place="Rum 4",
            starts_at=first + dt.timedelta(minutes=30 * n),
            ends_at=first + dt.timedelta(minutes=30 * (n + 1)),
        )
        for n in range(count)
    ]


@pytest.fixture
def print_dir(tmp_path: Path, settings) -> Path:
    settings.LETTERS_PRINT_DIR = str(tmp_path / "print")
    return tmp_path / "print"


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def at(when: dt.datetime) -> time_machine.travel:
    """The clock stands at ``when`` inside the block."""
    return time_machine.travel(when, tick=False)
