"""Issue 16 §3: the schedule makes no times on Swedish public holidays and de facto days off unless
the unit opens the day; times already made on such a day are shown to staff, who open the day or
take the free times out.

The clock stands on Wednesday 16 December 2026: ahead lie julafton (Thu 24), juldagen (Fri 25),
annandag jul (Sat 26), nyårsafton (Thu 31), nyårsdagen (Fri 1 Jan) and trettondedag jul (Wed 6 Jan).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from tests.booking.helpers import (
    clock_at,
    setup_url,
    staff_client,
    sv,
    text_of,
    weekly_block,
)
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.coverage import unit_coverage
from vardkontakt.booking.models import (
    Booking,
    BookingStatus,
    Channel,
    HolidayOpening,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import local_instant, slots_generate
from vardkontakt.booking.services import booking_create_by_staff
from vardkontakt.core.calendar import STOCKHOLM, day_off_name, is_day_off
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 16, 12, 0, tzinfo=STOCKHOLM)
JULAFTON, JULDAGEN, TRETTONDEDAGEN = dt.date(2026, 12, 24), dt.date(2026, 12, 25), dt.date(2027, 1, 6)


clock = clock_at(NOW)


@pytest.fixture
def visit(unit) -> VisitType:
    return VisitType.objects.create(
        unit=unit, name="Hälsosamtal", duration_minutes=30, professions=["district_nurse"], bookable_online=True
    )


@pytest.fixture
def schedule(unit, visit, personas) -> None:
    """Staff X: phone-only times on Thursdays and Fridays, web-bookable times on Wednesdays, 09-10."""
    for weekday, channel in ((3, Channel.PHONE_ONLY), (4, Channel.PHONE_ONLY), (2, Channel.ONLINE_AND_PHONE)):
        weekly_block(unit, personas.staff_x, visit, weekday=weekday, end=dt.time(10), channel=channel)


def days_with_times(unit: CareUnit) -> set[dt.date]:
    return {s.starts_at.astimezone(STOCKHOLM).date() for s in Slot.objects.filter(unit=unit)}


def admin(personas) -> Client:
    return staff_client(personas.unit_admin)


def old_times_on(unit, visit, staff, day: dt.date, *, channel: str = Channel.ONLINE_AND_PHONE) -> list[Slot]:
    """Two times on a day off, as the schedule made them before it skipped such days."""
    return [
        Slot.objects.create(
            unit=unit,
            practitioner=staff,
            visit_type=visit,
            place="Rum 4",
            channel=channel,
            starts_at=local_instant(day, dt.time(9, minute)),
            ends_at=local_instant(day, dt.time(9, minute)) + dt.timedelta(minutes=30),
        )
        for minute in (0, 30)
    ]


def test_the_calendar_knows_the_days_off_by_name():
    assert all(is_day_off(d) for d in (JULAFTON, JULDAGEN, TRETTONDEDAGEN, dt.date(2026, 6, 19)))
    assert not is_day_off(dt.date(2026, 12, 23)) and not is_day_off(dt.date(2026, 12, 27))  # a Sunday is no holiday
    with translation.override("sv"):
        assert (day_off_name(JULDAGEN), day_off_name(TRETTONDEDAGEN)) == ("Juldagen", "Trettondedag jul")
    with translation.override("en"):
        assert day_off_name(JULDAGEN) == "Christmas Day"
    assert day_off_name(dt.date(2026, 12, 23)) == ""


def test_the_schedule_makes_no_times_on_public_holidays_and_days_off(unit, schedule):
    generated = slots_generate(unit, today=NOW.date())
    made = days_with_times(unit)
    for day_off in (JULAFTON, JULDAGEN, dt.date(2026, 12, 31), dt.date(2027, 1, 1), TRETTONDEDAGEN):
        assert day_off not in made, day_off
    # The ordinary days around them keep their times.
    assert {dt.date(2026, 12, 17), dt.date(2026, 12, 18), dt.date(2026, 12, 23), dt.date(2027, 1, 7)} <= made
    assert generated.skipped_days_off >= 6


def test_coverage_counts_no_times_on_the_days_off(unit, schedule):
    slots_generate(unit, today=NOW.date())
    weeks = {week.starts_on: week for week in unit_coverage(unit, today=NOW.date())}
    ordinary = weeks[dt.date(2026, 12, 14)]  # Wed 16 (online), Thu 17, Fri 18 (phone)
    christmas = weeks[dt.date(2026, 12, 21)]  # Wed 23 only: julafton and juldagen are off
    epiphany = weeks[dt.date(2027, 1, 4)]  # Thu 7 and Fri 8 only: trettondedag jul is off
    assert (ordinary.slots, ordinary.open_online) == (6, 2)
    assert (christmas.slots, christmas.open_online) == (2, 2)
    assert (epiphany.slots, epiphany.open_online) == (4, 0)


def test_a_unit_that_opens_juldagen_gets_its_times_that_day(unit, schedule, personas):
    response = admin(personas).post(setup_url(unit, "days-off/"), {"day": JULDAGEN.isoformat(), "action": "open"})
    assert response.status_code == 302
    assert HolidayOpening.objects.filter(unit=unit, day=JULDAGEN).exists()
    assert JULDAGEN in days_with_times(unit)
    assert JULAFTON not in days_with_times(unit)  # only the day opened
    assert AuditEntry.objects.filter(action="booking_setup.change", detail__startswith="day off 2026-12-25").exists()
    page = text_of(admin(personas).get(setup_url(unit)))
    juldagen = page.split("Juldagen, fredag 25 december 2026")[1].split("</tr>")[0]
    assert ">Öppen</strong>" in juldagen and "Stäng dagen" in juldagen
    julafton = page.split("Julafton, torsdag 24 december 2026")[1].split("</tr>")[0]
    assert "Stängd" in julafton and "Öppna tidboken denna dag" in julafton
    # The nightly roll keeps making them.
    slots_generate(unit, today=NOW.date())
    assert JULDAGEN in days_with_times(unit)


def test_closing_an_opened_day_takes_its_free_times_out_and_keeps_the_booked(unit, schedule, personas):
    admin(personas).post(setup_url(unit, "days-off/"), {"day": JULDAGEN.isoformat(), "action": "open"})
    first = (
        Slot.objects.filter(unit=unit)
        .order_by("starts_at")
        .filter(starts_at__gte=local_instant(JULDAGEN, dt.time()))
        .first()
    )
    assert first is not None
    booking_create_by_staff(slot_id=first.pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x)
    response = admin(personas).post(
        setup_url(unit, "days-off/"), {"day": JULDAGEN.isoformat(), "action": "close"}, follow=True
    )
    assert "Tidboken är stängd på Juldagen." in text_of(response)
    assert not HolidayOpening.objects.exists()
    on_the_day = Slot.objects.filter(
        unit=unit,
        starts_at__gte=local_instant(JULDAGEN, dt.time()),
        starts_at__lt=local_instant(JULAFTON + dt.timedelta(days=2), dt.time()),
    )
    assert list(on_the_day) == [first]  # the booked time stays: the unit calls the patient
    assert Booking.objects.get(slot=first).status == BookingStatus.ACTIVE


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"day": "2026-12-22", "action": "open"}, "tisdag 22 december 2026 är varken en helgdag"),
        ({"day": "2026-12-08", "action": "open"}, "Välj i dag eller en senare dag."),
        ({"day": "25 december", "action": "open"}, "Välj en dag."),
        ({"day": JULDAGEN.isoformat(), "action": "both"}, "Välj om dagen ska öppnas eller stängas."),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(unit, schedule, personas, data, error):
    response = admin(personas).post(setup_url(unit, "days-off/"), data)
    assert response.status_code == 400
    assert error in text_of(response)
    assert not HolidayOpening.objects.exists()
    assert not Slot.objects.exists()


def test_times_made_earlier_on_a_closed_day_off_are_flagged_for_staff(unit, visit, personas):
    phone = old_times_on(unit, visit, personas.staff_x, JULDAGEN, channel=Channel.PHONE_ONLY)
    old_times_on(unit, visit, personas.staff_x, TRETTONDEDAGEN)
    booking_create_by_staff(slot_id=phone[0].pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x)

    setup = text_of(admin(personas).get(setup_url(unit)))
    assert sv("Times on days the unit has not opened") in setup
    assert "Juldagen, fredag 25 december 2026: 2 tider, 1 bokade" in setup
    assert "Trettondedag jul, onsdag 6 januari 2027: 2 tider, 0 bokade" in setup
    assert "Stängd, men har tider" in setup
    coverage = text_of(admin(personas).get(f"/staff/units/{unit.id}/booking-coverage/"))
    assert sv("Times on days the unit has not opened") in coverage

    # Every member sees it in the book on the day; the administrator gets the way to the set-up.
    member = staff_client(personas.staff_x)
    book = text_of(member.get(f"/staff/units/{unit.id}/appointments/?date=2026-12-25&view=day"))
    assert "Juldagen: mottagningen har inte öppnat tidboken denna dag, men den har tider." in book
    assert "Säg till mottagningens administratör" in book
    quiet = text_of(member.get(f"/staff/units/{unit.id}/appointments/?date=2026-12-24&view=day"))
    assert "Julafton: helgdag eller ledig dag, inga tider görs." in quiet

    # Taking the free times out keeps the booked one, and the flag goes with the free times.
    admin(personas).post(setup_url(unit, "days-off/"), {"day": TRETTONDEDAGEN.isoformat(), "action": "close"})
    admin(personas).post(setup_url(unit, "days-off/"), {"day": JULDAGEN.isoformat(), "action": "close"})
    assert list(Slot.objects.filter(unit=unit)) == [phone[0]]
    setup = text_of(admin(personas).get(setup_url(unit)))
    assert "Juldagen, fredag 25 december 2026: 1 tid, 1 bokade" in setup  # still there: call the patient


def test_opening_a_flagged_day_keeps_its_times_and_ends_the_flag(unit, visit, personas):
    old_times_on(unit, visit, personas.staff_x, TRETTONDEDAGEN)
    admin(personas).post(setup_url(unit, "days-off/"), {"day": TRETTONDEDAGEN.isoformat(), "action": "open"})
    assert Slot.objects.filter(unit=unit).count() == 2
    setup = text_of(admin(personas).get(setup_url(unit)))
    assert sv("Times on days the unit has not opened") not in setup
