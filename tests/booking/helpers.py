"""What the booking tests share: a clock that stands still, the page as the person reads it, a
logged-in member of staff or resident, the unit with its booking rules, and times and weekly blocks;
and Tidbok online's own unit, visit type and times (test_patient_pages.py, test_booking_cost.py)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from tests.helpers import login_as
from vardkontakt.access.models import AuditHead
from vardkontakt.booking.external_models import ChangeSequence
from vardkontakt.booking.models import BookingSettings, ScheduleTemplate, Slot, VisitType
from vardkontakt.booking.schedule import local_instant, slots_generate
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit


def clock_at(now: dt.datetime) -> Callable[[], Iterator[None]]:
    """A module's clock: ``clock = clock_at(NOW)`` stops it at ``now`` for every test there."""

    @pytest.fixture(autouse=True)
    def clock() -> Iterator[None]:
        with time_machine.travel(now, tick=False):
            yield

    return clock


def sv(text: str) -> str:
    """What the page says in Swedish (the interface's first language), however far the catalogue is."""
    with translation.override("sv"):
        return gettext(text)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def staff_client(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


def unit_with_rules(personas) -> CareUnit:
    """Lindängen, the unit administrator's unit (a doctor; staff X is a district nurse there), with
    the default booking rules."""
    unit = personas.unit_admin.memberships.get().unit
    BookingSettings.objects.create(unit=unit)
    return unit


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return local_instant(day, dt.time(hour, minute))


def make_slot(
    unit: CareUnit, visit: VisitType, practitioner: Staff, start: dt.datetime, *, place: str = "Rum 4", **extra
) -> Slot:
    return Slot.objects.create(
        unit=unit,
        practitioner=practitioner,
        visit_type=visit,
        place=place,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=visit.duration_minutes),
        **extra,
    )


def weekly_block(
    unit: CareUnit,
    practitioner: Staff,
    visit: VisitType,
    *,
    weekday: int = 0,
    start: dt.time = dt.time(9),
    end: dt.time = dt.time(11),
    place: str = "Rum 4",
    **extra,
) -> ScheduleTemplate:
    """A block of the weekly schedule, written straight to the table (no set-up rules asked)."""
    return ScheduleTemplate.objects.create(
        unit=unit,
        practitioner=practitioner,
        visit_type=visit,
        weekday=weekday,
        start_time=start,
        end_time=end,
        place=place,
        **extra,
    )


def setup_url(unit: CareUnit, rest: str = "") -> str:
    """The unit's appointment book set-up, or one of its pages (``rest``: "days-off/", "blocks/new/")."""
    return f"/staff/units/{unit.pk}/booking-setup/{rest}"


def block_form(practitioner: Staff, visit: VisitType, **changes: str) -> dict[str, str]:
    """The set-up's form for a weekly block, as a member of staff fills it in: Tuesdays 09-11."""
    return {
        "practitioner": str(practitioner.pk),
        "visit_type": str(visit.pk),
        "weekday": "1",
        "start_time": "09:00",
        "end_time": "11:00",
        "place": "Rum 4",
        "channel": "online",
        "held_back": "",
        **changes,
    }


# Tidbok online as the resident meets it. A module that books online takes these fixtures by
# importing them (`from tests.booking.helpers import online_unit, online_visit, online_slots`);
# they are named `unit`, `visit` and `slots` there.
ONLINE_NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)  # a Wednesday


def client_for(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def book(client: Client, unit: CareUnit, slot: Slot, key: str = "k1", **extra: str):
    return client.post(f"/bookings/book/{unit.pk}/slot/{slot.pk}/", {"submission_key": key, **extra})


@pytest.fixture(name="unit")
def online_unit(personas) -> CareUnit:
    """Lindängen (staff X's unit) with terms, and several coming web bookings of a kind per patient,
    so these tests book twice; the default limit of one is tested in test_walkthrough_fixes.py."""
    unit = personas.staff_x.memberships.get().unit
    BookingSettings.objects.create(
        unit=unit, terms_text="Boka inte för akuta besvär.", online_bookings_per_visit_type=5
    )
    return unit


@pytest.fixture(name="visit")
def online_visit(unit) -> VisitType:
    return VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )


@pytest.fixture(name="slots")
def online_slots(unit, visit, personas) -> list[Slot]:
    """Thursday and Friday 09-10 with staff X: four slots in ONLINE_NOW's week, more the coming weeks."""
    for weekday in (3, 4):
        weekly_block(unit, personas.staff_x, visit, weekday=weekday, end=dt.time(10))
    slots_generate(unit, today=ONLINE_NOW.date())
    return list(Slot.objects.filter(unit=unit).order_by("starts_at"))


@pytest.fixture(name="chain_rows", autouse=True)
def chain_rows() -> None:
    """The rows a running installation has: the change feed's sequence (made by its migration) and
    the audit chain's head (made by the first entry). A transactional test run before this one in
    the same process empties every table, and the booking then makes them, in statements of their own."""
    ChangeSequence.objects.get_or_create(pk=1)
    AuditHead.objects.get_or_create(pk=1)
