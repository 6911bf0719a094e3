"""Tidbok online, the unit's side, in a browser: the unit administrator sets up a visit type and a
weekly block, rolls the schedule, opens the appointment book and books a patient by phone.
axe runs on every page.

Texts are looked up through the catalogue (the interface is Swedish first), and form fields by
their ids, so the test follows the wording instead of pinning it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import expect

from vardkontakt.booking.models import Booking, BookingSettings, ScheduleTemplate, Slot
from vardkontakt.core.calendar import is_day_off

pytestmark = pytest.mark.django_db(transaction=True)
TOLVAN_ID = "19121212-1212"


def sv(text: str) -> str:
    with translation.override("sv"):
        return gettext(text)


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(text)}$")


def test_the_unit_admin_sets_up_the_book_and_books_a_patient_by_phone(ui, personas, unit_x):
    admin, nurse, tolvan = personas.unit_admin, personas.staff_x, personas.tolvan
    BookingSettings.objects.create(unit=unit_x)
    day = timezone.localdate() + dt.timedelta(days=2)
    while is_day_off(day):  # the schedule makes no times on a public holiday the unit has not opened
        day += dt.timedelta(days=1)
    page = ui.page

    ui.login(admin.hsa_id, side="staff")
    ui.goto(f"/staff/units/{unit_x.id}/booking-setup/")

    # A visit type booked by phone only.
    ui.click(exactly(sv("Add a visit type")), role="link")
    page.locator("#id_name").fill("Telefonrådgivning")
    page.locator("#id_duration_minutes").fill("20")
    # Held by nurses and district nurses (issue 16 §4: a visit type names who may hold it).
    professions = page.get_by_role("group", name=sv("Professions that may hold the visit"))
    professions.get_by_role("checkbox", name=exactly(sv("nurse"))).check()
    professions.get_by_role("checkbox", name=exactly(sv("district nurse"))).check()
    ui.click(exactly(sv("Save")))
    expect(page.get_by_role("link", name="Telefonrådgivning")).to_be_visible()
    held_by = sv("%(first)s or %(last)s") % {"first": sv("nurse"), "last": sv("district nurse")}
    expect(page.get_by_role("row").filter(has_text="Telefonrådgivning")).to_contain_text(
        re.compile(re.escape(held_by), re.IGNORECASE)
    )

    # A weekly block for the doctor is refused in words; nothing is saved.
    ui.click(exactly(sv("Add a block")), role="link")
    page.locator("#id_practitioner").select_option(str(admin.pk))
    page.locator("#id_visit_type").select_option(label="Telefonrådgivning")
    page.locator("#id_weekday").select_option(str(day.weekday()))
    page.locator("#id_start_time").fill("09:00")
    page.locator("#id_end_time").fill("10:00")
    page.locator("#id_place").fill("Rum 4")
    ui.click(exactly(sv("Save")))
    refusal = sv("%(name)s (%(profession)s) may not hold “%(visit)s”. Professions that may: %(professions)s.") % {
        "name": admin.full_name,
        "profession": sv("doctor"),
        "visit": "Telefonrådgivning",
        "professions": sv("%(first)s or %(last)s") % {"first": sv("nurse"), "last": sv("district nurse")},
    }
    expect(page.get_by_role("alert")).to_contain_text(refusal)
    assert not ScheduleTemplate.objects.exists()

    # A weekly block for the nurse, the weekday two days from now, 09:00-10:00, phone only.
    page.locator("#id_practitioner").select_option(str(nurse.pk))
    page.locator("#id_visit_type").select_option(label="Telefonrådgivning")
    page.locator("#id_weekday").select_option(str(day.weekday()))
    page.locator("#id_start_time").fill("09:00")
    page.locator("#id_end_time").fill("10:00")
    page.locator("#id_place").fill("Rum 4")
    page.locator("#id_channel_1").check()  # only staff, by phone
    ui.click(exactly(sv("Save")))
    ui.click(exactly(sv("Roll the schedule now")))
    ui.click(exactly(sv("Share of times open online")), role="link")
    expect(page.get_by_role("table")).to_contain_text("0 %")  # phone only: none of the times is open online

    # The book of that day: three free 20-minute times; book the first for Tolvan.
    ui.goto(f"/staff/units/{unit_x.id}/appointments/?date={day.isoformat()}&view=day")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=re.compile(rf"^{re.escape(sv('Book'))}\s"))).to_have_count(3)
    ui.click(re.compile(rf"^{re.escape(sv('Book'))}\s+09:00"), role="link")
    page.locator("#id_personnummer").fill(TOLVAN_ID)
    ui.click(exactly(sv("Continue")))
    # "Stämmer det?": the patient's name before anything is booked (issue 16 §21).
    expect(main.get_by_role("heading", name=sv("Is this right?"))).to_be_visible()
    expect(main).to_contain_text(tolvan.full_name)
    assert not Booking.objects.exists()
    ui.click(exactly(sv("Yes, book the time for %(name)s") % {"name": tolvan.full_name}))
    expect(page.get_by_role("status")).to_contain_text(
        sv("The time is booked for %(name)s.") % {"name": tolvan.full_name}
    )

    expect(main).to_contain_text(tolvan.full_name)
    expect(main).to_contain_text(tolvan.personnummer_display)
    with translation.override("sv"):
        expect(main).to_contain_text(gettext("Booked by phone by %(name)s") % {"name": admin.full_name})
    booking = Booking.objects.get(patient=tolvan)
    assert (booking.channel, booking.booked_by_staff_id) == ("phone", admin.pk)


def test_times_on_a_public_holiday_are_flagged_and_the_admin_takes_the_free_ones_out(ui, personas, unit_x):
    """Issue 16 §3: the schedule had made times on Juldagen and Trettondedag jul. Times made so before
    are shown to staff on the day and in the set-up, and the administrator decides."""
    from vardkontakt.booking.models import VisitType
    from vardkontakt.booking.schedule import local_instant
    from vardkontakt.booking.services import booking_create_online
    from vardkontakt.core.calendar import day_off_name

    admin, page = personas.unit_admin, ui.page
    BookingSettings.objects.create(unit=unit_x)
    day = timezone.localdate() + dt.timedelta(days=1)
    while not is_day_off(day):  # the next public holiday or day off, whatever today is
        day += dt.timedelta(days=1)
    with translation.override("sv"):
        name = day_off_name(day)
    visit = VisitType.objects.create(
        unit=unit_x, name="Hälsosamtal", duration_minutes=30, professions=["district_nurse"], bookable_online=True
    )
    slots = [
        Slot.objects.create(
            unit=unit_x,
            practitioner=personas.staff_x,
            visit_type=visit,
            place="Rum 4",
            starts_at=local_instant(day, dt.time(hour)),
            ends_at=local_instant(day, dt.time(hour, 30)),
        )
        for hour in (9, 10, 11)
    ]
    booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)

    ui.login(admin.hsa_id, side="staff")
    ui.goto(f"/staff/units/{unit_x.id}/appointments/?date={day.isoformat()}&view=day")
    expect(page.get_by_role("main")).to_contain_text(
        sv("%(name)s: the unit has not opened its book this day, but it has times.") % {"name": name}
    )
    ui.click(exactly(sv("Open the day or take out the free times")), role="link")
    warning = page.locator(".nhsuk-warning-callout")
    expect(warning).to_contain_text(sv("Times on days the unit has not opened"))
    expect(warning).to_contain_text(name)
    row = page.get_by_role("row").filter(has_text=name)
    with page.expect_navigation():
        with translation.override("sv"):
            take_out = ngettext("Take out %(free)s free time", "Take out %(free)s free times", 2) % {"free": 2}
        row.get_by_role("button", name=re.compile(re.escape(take_out))).click()
    ui.check()
    expect(page.get_by_role("status")).to_contain_text(sv("The book is closed on %(day)s.") % {"day": name})
    assert list(Slot.objects.filter(unit=unit_x)) == [slots[0]]  # the booked time stays: call the patient
    expect(warning).to_contain_text(name)  # still flagged: one booked time on a closed day


def test_a_nurse_opens_a_phone_only_time_to_web_booking(ui, personas, unit_x):
    """Issue 16 §20: by hand, one time at a time (or a day), without touching the weekly schedule."""
    from vardkontakt.booking.models import VisitType
    from vardkontakt.booking.schedule import local_instant

    BookingSettings.objects.create(unit=unit_x)
    visit = VisitType.objects.create(
        unit=unit_x, name="Hälsosamtal", duration_minutes=30, professions=["district_nurse"], bookable_online=True
    )
    day = timezone.localdate() + dt.timedelta(days=3)
    slot = Slot.objects.create(
        unit=unit_x,
        practitioner=personas.staff_x,
        visit_type=visit,
        place="Rum 4",
        starts_at=local_instant(day, dt.time(9)),
        ends_at=local_instant(day, dt.time(9, 30)),
        channel="phone",
    )
    ui.login(personas.staff_x.hsa_id, side="staff")
    ui.goto(f"/staff/units/{unit_x.id}/appointments/slots/{slot.id}/")
    ui.click(exactly(sv("Open the time for web booking")))
    with translation.override("sv"):
        opened = ngettext("%(count)d time is open for web booking.", "%(count)d times are open for web booking.", 1) % {
            "count": 1
        }
    expect(ui.page.get_by_role("status")).to_contain_text(opened)
    slot.refresh_from_db()
    assert slot.channel == "online"
