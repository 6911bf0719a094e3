"""Tidbok online as the unit's staff meet it: the set-up, the appointment book, booking by phone,
overbooking with a reason, and the share of times open online (SPEC §6)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests.booking.helpers import (
    at,
    block_form,
    clock_at,
    make_slot,
    setup_url,
    staff_client,
    sv,
    text_of,
    weekly_block,
)
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.coverage import coverage_by_unit, unit_coverage
from vardkontakt.booking.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    Channel,
    ExceptionReason,
    HeldBack,
    HolidayOpening,
    ScheduleException,
    ScheduleTemplate,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import slots_generate
from vardkontakt.booking.services import (
    Refusal,
    booking_cancel,
    booking_create_by_staff,
    booking_create_online,
    booking_move_online,
    submission_key,
)
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)  # a Wednesday
MONDAY = dt.date(2026, 11, 30)
TOLVAN_NUMBER = "19121212-1212"


clock = clock_at(NOW)


@pytest.fixture
def visit(unit) -> VisitType:
    """Held by nurses, district nurses (staff X) and doctors (the unit administrator)."""
    return VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["nurse", "district_nurse", "doctor"],
        bookable_online=True,
        rebookable_online=True,
    )


@pytest.fixture
def monday(unit, visit, personas) -> list[Slot]:
    """Monday 30 November 09:00-11:00 with staff X: four half-hour times, published online."""
    weekly_block(unit, personas.staff_x, visit, weekday=0)
    slots_generate(unit, today=NOW.date())
    return list(Slot.objects.filter(unit=unit, starts_at__lt=at(MONDAY, 12)).order_by("starts_at"))


def book_url(unit: CareUnit, day: dt.date = MONDAY, view: str = "day") -> str:
    return f"/staff/units/{unit.pk}/appointments/?date={day.isoformat()}&view={view}"


def slot_url(unit: CareUnit, slot: Slot, action: str = "") -> str:
    return f"/staff/units/{unit.pk}/appointments/slots/{slot.pk}/{action}"


# --- who may do what ------------------------------------------------------------------------------


def test_another_units_staff_find_nothing_and_members_may_book_but_not_set_up(personas, unit, monday):
    outsider = staff_client(personas.nurse)  # staff of Vårdcentralen Kärnan
    assert outsider.get(book_url(unit)).status_code == 404
    assert outsider.get(slot_url(unit, monday[0])).status_code == 404
    assert outsider.get(setup_url(unit)).status_code == 404
    member = staff_client(personas.staff_x)
    assert member.get(book_url(unit)).status_code == 200
    for odd in ("?date=0001-01-01&view=week", "?date=9999-12-31", "?date=igår&view=year"):
        assert member.get(f"/staff/units/{unit.pk}/appointments/{odd}").status_code == 200
    assert member.get(setup_url(unit)).status_code == 403
    assert member.post(setup_url(unit, "roll/")).status_code == 403
    assert member.get(f"/staff/units/{unit.pk}/booking-coverage/").status_code == 403
    admin = staff_client(personas.unit_admin)
    assert admin.get(setup_url(unit)).status_code == 200
    # A time of unit X asked for under another unit's address is not found either.
    other = personas.nurse.memberships.get().unit
    assert staff_client(personas.nurse).get(slot_url(other, monday[0])).status_code == 404


# --- the set-up -----------------------------------------------------------------------------------


def rules(**changes: str) -> dict[str, str]:
    return {
        "horizon_weeks": "12",
        "release_hours": "48",
        "reminder_hours": "24",
        "terms_text": "Ring 112 vid fara.",
        "self_assessment_url": "https://www.1177.se/",
        **changes,
    }


def test_the_unit_admin_sets_the_rules_and_bad_numbers_are_explained(personas, unit):
    admin = staff_client(personas.unit_admin)
    assert admin.post(setup_url(unit), rules()).status_code == 302
    saved = BookingSettings.objects.get(unit=unit)
    assert (saved.horizon_weeks, saved.terms_text, saved.self_assessment_url) == (
        12,
        "Ring 112 vid fara.",
        "https://www.1177.se/",
    )
    response = admin.post(setup_url(unit), rules(horizon_weeks="10", release_hours="-1", reminder_hours="24"))
    assert response.status_code == 400
    assert sv("There is a problem") in text_of(response)
    saved.refresh_from_db()
    assert (saved.horizon_weeks, saved.release_hours) == (12, 48)


def visit_type(**changes: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "name": "Mottagningsbesök",
        "duration_minutes": "20",
        "professions": ["doctor"],
        "bookable_online": "on",
        "cancellation_deadline_hours": "24",
        "active": "on",
        **changes,
    }


def test_visit_types_are_checked_then_saved_and_can_be_put_out_of_use(personas, unit, visit):
    admin = staff_client(personas.unit_admin)
    short = admin.post(setup_url(unit, "visit-types/new/"), visit_type(duration_minutes="4"))
    assert short.status_code == 400 and sv("A visit is at least 5 minutes long.") in text_of(short)
    twice = admin.post(setup_url(unit, "visit-types/new/"), visit_type(name="hälsosamtal"))
    assert twice.status_code == 400 and sv("The unit already has a visit type with this name.") in text_of(twice)
    assert VisitType.objects.filter(unit=unit).count() == 1

    assert admin.post(setup_url(unit, "visit-types/new/"), visit_type()).status_code == 302
    created = VisitType.objects.get(unit=unit, name="Mottagningsbesök")
    assert (created.duration_minutes, created.bookable_online, created.rebookable_online) == (20, True, False)
    edit = setup_url(unit, f"visit-types/{visit.pk}/")
    assert "Hälsosamtal" in admin.get(edit).text
    assert admin.post(edit, visit_type(name="Hälsosamtal", active="")).status_code == 302
    visit.refresh_from_db()
    assert not visit.active
    # Another unit's visit type is not found at this unit's address.
    other = VisitType.objects.create(
        unit=personas.nurse.memberships.get().unit,
        name="Annat",
        duration_minutes=15,
        professions=["nurse", "district_nurse"],
    )
    assert admin.get(setup_url(unit, f"visit-types/{other.pk}/")).status_code == 404


def test_weekly_blocks_must_end_after_they_start_and_never_overlap(personas, unit, visit):
    admin = staff_client(personas.unit_admin)
    url = setup_url(unit, "blocks/new/")
    backwards = admin.post(url, block_form(personas.staff_x, visit, start_time="11:00", end_time="09:00"))
    assert backwards.status_code == 400 and sv("The block must end after it starts.") in text_of(backwards)
    outsider = admin.post(url, block_form(personas.nurse, visit))  # not a member of the unit
    assert outsider.status_code == 400
    assert admin.post(url, block_form(personas.staff_x, visit)).status_code == 302
    overlap = admin.post(url, block_form(personas.staff_x, visit, start_time="10:30", end_time="12:00"))
    assert overlap.status_code == 400
    assert sv("This overlaps the practitioner's block %(start)s–%(end)s the same weekday.") % {
        "start": "09:00",
        "end": "11:00",
    } in text_of(overlap)
    # The same hours on another weekday, or for another practitioner, are fine.
    assert admin.post(url, block_form(personas.staff_x, visit, weekday="2")).status_code == 302
    assert admin.post(url, block_form(personas.unit_admin, visit)).status_code == 302
    assert ScheduleTemplate.objects.filter(unit=unit).count() == 3


def test_rolling_makes_the_times_and_an_absence_takes_free_ones_out(personas, unit, visit):
    admin = staff_client(personas.unit_admin)
    admin.post(setup_url(unit, "blocks/new/"), block_form(personas.staff_x, visit, weekday="0"))
    assert not Slot.objects.exists()
    assert admin.post(setup_url(unit, "roll/")).status_code == 302
    assert Slot.objects.filter(unit=unit).count() == 8 * 4  # Mondays 09-11, eight weeks ahead
    first = Slot.objects.filter(unit=unit).order_by("starts_at")[0]
    booking_create_online(slot_id=first.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)

    backwards = admin.post(
        setup_url(unit, "absences/new/"),
        {
            "practitioner": str(personas.staff_x.pk),
            "reason": "training",
            "starts_at": "2026-11-30T12:00",
            "ends_at": "2026-11-30T08:00",
        },
    )
    assert backwards.status_code == 400 and sv("The absence must end after it starts.") in text_of(backwards)
    assert not ScheduleException.objects.exists()

    response = admin.post(
        setup_url(unit, "absences/new/"),
        {
            "practitioner": str(personas.staff_x.pk),
            "reason": ExceptionReason.ABSENCE,
            "starts_at": "2026-11-30T08:00",
            "ends_at": "2026-11-30T17:00",
        },
        follow=True,
    )
    assert response.status_code == 200
    # Three free times leave the book; Tolvan's stays, and the unit is told to contact her.
    assert Slot.objects.filter(unit=unit, starts_at__lt=at(MONDAY, 23)).count() == 1
    with translation.override("sv"):
        told = translation.ngettext(
            "%(count)d booked time is kept: contact the patient.",
            "%(count)d booked times are kept: contact the patients.",
            1,
        ) % {"count": 1}
    assert told in text_of(response)
    assert admin.post(setup_url(unit, "roll/")).status_code == 302
    assert Slot.objects.filter(unit=unit, starts_at__lt=at(MONDAY, 23)).count() == 1  # the absence holds


# --- the appointment book -------------------------------------------------------------------------


def test_the_book_shows_every_booking_who_made_it_and_what_patients_changed_online(
    personas, unit, visit, monday, django_assert_max_num_queries
):
    tolvan, other, anna, liam = personas.tolvan, personas.other_patient, personas.guardian, personas.child_9
    first, second, third, fourth = monday
    with time_machine.travel(NOW - dt.timedelta(days=1)):
        cancelled = booking_create_online(slot_id=first.pk, unit=unit, subject=tolvan, actor=tolvan)
        booking_cancel(booking_id=cancelled.pk, by_patient=tolvan)
        moved = booking_create_online(slot_id=second.pk, unit=unit, subject=other, actor=other)
        booking_move_online(booking_id=moved.pk, new_slot_id=third.pk, actor=other)
    booking_create_online(slot_id=fourth.pk, unit=unit, subject=liam, actor=anna)
    phone_only = make_slot(unit, visit, personas.unit_admin, at(MONDAY, 13), channel=Channel.PHONE_ONLY)
    booking_create_by_staff(slot_id=phone_only.pk, unit=unit, patient=personas.principal, staff=personas.staff_x)
    make_slot(unit, visit, personas.unit_admin, at(MONDAY, 14), held_back=HeldBack.CO_PLANNED)

    client = staff_client(personas.staff_x)
    with django_assert_max_num_queries(25):
        response = client.get(book_url(unit))
    page = text_of(response)
    assert response.status_code == 200
    for shown in (tolvan.full_name, tolvan.personnummer_display, other.full_name, liam.full_name):
        assert shown in page
    assert sv("Cancelled online by the patient") in page
    assert sv("Moved online by the patient") in page
    assert sv("Booked online by the patient") in page
    with translation.override("sv"):
        assert gettext("Booked online by %(name)s, guardian") % {"name": anna.full_name} in page
        assert gettext("Booked by phone by %(name)s") % {"name": personas.staff_x.full_name} in page
        assert gettext("co-planned visit (e.g. with an interpreter)").capitalize() in page
    assert sv("Phone only") in page and sv("Held back") in page
    # Each patient shown is a read, in the patient's own "who has read" list.
    reads = AuditEntry.objects.filter(action="booking.read", actor_id=str(personas.staff_x.pk))
    assert {e.patient_id for e in reads} == {str(p.pk) for p in (tolvan, other, liam, personas.principal)}

    week = text_of(client.get(book_url(unit, MONDAY + dt.timedelta(days=2), view="week")))
    assert tolvan.full_name in week and "2026-11-23" in week and "2026-12-07" in week  # previous, next week


def test_the_book_days_of_the_clock_changes(personas, unit, visit):
    spring, autumn = dt.date(2027, 3, 28), dt.date(2026, 10, 25)
    # The spring night is also Easter Day, a public holiday: the unit works it.
    HolidayOpening.objects.create(unit=unit, day=spring, opened_at=timezone.now())
    for day in (spring, autumn):
        weekly_block(unit, personas.staff_x, visit, weekday=6, start=dt.time(1), end=dt.time(4))
        slots_generate(unit, today=day)
        ScheduleTemplate.objects.all().delete()
    client = staff_client(personas.staff_x)
    spring_page = text_of(client.get(book_url(unit, spring)))
    assert "01:30 CET–03:00 CEST" in spring_page and "03:00 CEST–03:30 CEST" in spring_page
    assert "02:30 CET" not in spring_page and "02:30 CEST" not in spring_page
    with translation.override("sv"):
        assert (
            "23" in spring_page
            and translation.ngettext(
                "This day has %(hours)s hour: the clocks change. Times show their time zone.",
                "This day has %(hours)s hours: the clocks change. Times show their time zone.",
                23,
            )
            % {"hours": 23}
            in spring_page
        )
    autumn_page = text_of(client.get(book_url(unit, autumn)))
    assert "02:00 CEST–02:30 CEST" in autumn_page and "02:00 CET–02:30 CET" in autumn_page
    assert (
        Slot.objects.filter(starts_at__gte=at(autumn, 0), starts_at__lt=at(autumn + dt.timedelta(days=1), 0)).count()
        == 8
    )


def post_booking(
    client, unit: CareUnit, slot: Slot, personnummer: str, key: str, *, reason: str | None = None, **extra
):
    """The slot page's booking form as staff send it; with ``reason``, the overbooking form."""
    data = {"personnummer": personnummer, "submission_key": key, **extra}
    if reason is None:
        return client.post(slot_url(unit, slot), data)
    return client.post(slot_url(unit, slot, "overbook/"), {**data, "reason": reason})


def refused_with(response, refusal: Refusal) -> bool:
    """The page names the refusal, in Swedish."""
    with translation.override("sv"):
        return str(refusal.value) in text_of(response)


# --- booking by phone -----------------------------------------------------------------------------


def test_staff_booking_before_the_release_is_refused_with_the_reason(personas, unit, monday):
    client = staff_client(personas.staff_x)
    page = text_of(client.get(slot_url(unit, monday[0])))
    assert sv("The time is kept for patients to book online. Staff may book it from %(at)s.").split("%")[0] in page
    response = post_booking(client, unit, monday[0], TOLVAN_NUMBER, "k1")
    assert response.status_code == 400 and refused_with(response, Refusal.NOT_RELEASED)
    assert not Booking.objects.exists()


def test_staff_book_by_personnummer_once_however_often_they_click(personas, unit, visit):
    slot = make_slot(unit, visit, personas.staff_x, at(MONDAY, 13), channel=Channel.PHONE_ONLY)
    client = staff_client(personas.staff_x)
    invalid = post_booking(client, unit, slot, "19121212-1213", "k1")
    assert invalid.status_code == 400
    with translation.override("sv"):
        assert gettext("This personal identity number is not valid: check the last digit.") in text_of(invalid)
    unknown = post_booking(client, unit, slot, "19800101-0001", "k1")
    assert unknown.status_code == 400 and sv("No patient with this number is registered here.") in text_of(unknown)
    assert not Booking.objects.exists()

    check = client.post(slot_url(unit, slot), {"personnummer": "191212121212", "submission_key": "k2"})
    assert check.status_code == 200 and personas.tolvan.full_name in text_of(check)  # "stämmer det?"
    assert not Booking.objects.exists()
    for _ in range(2):  # a double click
        response = post_booking(client, unit, slot, "191212121212", "k2", sms_reminder="on", confirm="yes")
        assert response.status_code == 302 and "date=2026-11-30" in response["Location"]
    booking = Booking.objects.get()
    assert (booking.patient, booking.channel, booking.booked_by_staff) == (personas.tolvan, "phone", personas.staff_x)
    assert AuditEntry.objects.filter(action="booking.staff_book", patient_id=str(personas.tolvan.pk)).exists()
    page = text_of(client.get(book_url(unit)))
    with translation.override("sv"):
        assert gettext("Booked by phone by %(name)s") % {"name": personas.staff_x.full_name} in page


def test_overbooking_only_on_purpose_with_a_reason_and_it_is_marked(personas, unit, visit):
    slot = make_slot(unit, visit, personas.staff_x, at(MONDAY, 13), channel=Channel.PHONE_ONLY)
    booking_create_by_staff(slot_id=slot.pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x)
    client = staff_client(personas.staff_x)
    assert sv("Overbook the time") in text_of(client.get(slot_url(unit, slot)))
    # The ordinary form on a taken time books no one.
    taken = post_booking(client, unit, slot, personas.other_patient.personnummer, "a")
    assert taken.status_code == 409 and refused_with(taken, Refusal.TAKEN)
    no_reason = post_booking(client, unit, slot, personas.other_patient.personnummer, "b", reason="  ")
    assert no_reason.status_code == 400 and refused_with(no_reason, Refusal.OVERBOOK_REASON)
    assert Booking.objects.filter(slot=slot).count() == 1

    done = post_booking(
        client, unit, slot, personas.other_patient.personnummer, "c", reason="Akut, kläms in", confirm="yes"
    )
    assert done.status_code == 302
    extra = Booking.objects.get(slot=slot, patient=personas.other_patient)
    assert extra.overbooked and extra.overbook_reason == "Akut, kläms in"
    logged = AuditEntry.objects.get(action="booking.staff_book", patient_id=str(personas.other_patient.pk))
    assert (logged.actor_id, logged.object_id, logged.detail) == (str(personas.staff_x.pk), str(extra.pk), "overbooked")
    page = text_of(client.get(book_url(unit)))
    assert sv("Overbooked") in page and "Akut, kläms in" in page


def test_staff_cancel_and_the_book_says_the_unit_did(personas, unit, visit):
    slot = make_slot(unit, visit, personas.staff_x, at(MONDAY, 13), channel=Channel.PHONE_ONLY)
    booking = booking_create_by_staff(
        slot_id=slot.pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x
    ).booking
    client = staff_client(personas.staff_x)
    url = f"/staff/units/{unit.pk}/appointments/bookings/{booking.pk}/cancel/"
    assert personas.tolvan.full_name in text_of(client.get(url))
    assert staff_client(personas.nurse).post(url).status_code == 404
    assert client.post(url).status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and not booking.ended_online
    assert booking.ended_by_staff == personas.staff_x
    with translation.override("sv"):
        said = gettext("Cancelled by %(name)s at the unit") % {"name": personas.staff_x.full_name}
    assert said in text_of(client.get(book_url(unit)))


def test_the_book_names_who_cancelled_or_moved_for_the_patient(personas, unit, visit, monday):
    """Issue 14 §3: a booking ended online says who ended it, a guardian or a proxy by name."""
    anna, liam = personas.guardian, personas.child_9
    first, second, third, _fourth = monday
    with time_machine.travel(NOW - dt.timedelta(days=1)):
        cancelled = booking_create_online(slot_id=first.pk, unit=unit, subject=liam, actor=anna)
        booking_cancel(booking_id=cancelled.pk, by_patient=anna)
        moved = booking_create_online(slot_id=second.pk, unit=unit, subject=liam, actor=anna)
        booking_move_online(booking_id=moved.pk, new_slot_id=third.pk, actor=anna)
    cancelled.refresh_from_db()
    moved.refresh_from_db()
    assert (cancelled.ended_by_patient, cancelled.ended_by_staff) == (anna, None)
    assert moved.ended_by_patient == anna
    page = text_of(staff_client(personas.staff_x).get(book_url(unit)))
    with translation.override("sv"):
        assert gettext("Cancelled online by %(name)s for the patient") % {"name": anna.full_name} in page
        assert gettext("Moved online by %(name)s for the patient") % {"name": anna.full_name} in page
    assert sv("Cancelled online by the patient") not in page


# --- coverage -------------------------------------------------------------------------------------


def test_coverage_per_week_against_the_target(personas, unit, visit):
    not_online = VisitType.objects.create(
        unit=unit, name="Provtagning", duration_minutes=15, professions=["nurse", "district_nurse"]
    )
    staff = personas.staff_x
    # Week 49 (30 Nov - 6 Dec): 10 times, 6 open (1 phone only, 1 held back, 2 of a visit type not online).
    for n in range(6):
        make_slot(unit, visit, staff, at(MONDAY, 8) + dt.timedelta(hours=n))
    make_slot(unit, visit, staff, at(MONDAY, 15), channel=Channel.PHONE_ONLY)
    make_slot(unit, visit, staff, at(MONDAY, 16), held_back=HeldBack.MEDICAL)
    make_slot(unit, not_online, staff, at(MONDAY + dt.timedelta(days=1), 8))
    make_slot(unit, not_online, staff, at(MONDAY + dt.timedelta(days=1), 9))
    # Week 50: 4 open of 5, exactly the target.
    for n in range(4):
        make_slot(unit, visit, staff, at(MONDAY + dt.timedelta(weeks=1), 8) + dt.timedelta(hours=n))
    make_slot(unit, visit, staff, at(MONDAY + dt.timedelta(weeks=1), 14), channel=Channel.PHONE_ONLY)
    # Week 51 has no times. Another unit's times never count here.
    elsewhere = personas.nurse.memberships.get().unit
    make_slot(
        elsewhere,
        VisitType.objects.create(
            unit=elsewhere, name="X", duration_minutes=30, professions=["nurse", "district_nurse"]
        ),
        personas.nurse,
        at(MONDAY, 8),
        channel=Channel.PHONE_ONLY,
    )

    weeks = unit_coverage(unit, today=NOW.date())
    assert len(weeks) == 8 and [w.week for w in weeks] == [48, 49, 50, 51, 52, 53, 1, 2]
    this, w49, w50, w51 = weeks[:4]
    assert (this.slots, this.share, this.meets_target) == (0, None, False)
    assert (w49.starts_on, w49.slots, w49.open_online, w49.percent, w49.meets_target) == (MONDAY, 10, 6, 60, False)
    assert (w50.slots, w50.open_online, w50.percent, w50.meets_target) == (5, 4, 80, True)
    assert (w51.slots, w51.percent) == (0, None)
    assert coverage_by_unit(today=NOW.date())[elsewhere.pk][1].open_online == 0

    page = text_of(staff_client(personas.unit_admin).get(f"/staff/units/{unit.pk}/booking-coverage/"))
    assert "60 %" in page and "80 %" in page and sv("Not reached") in page and sv("Reached") in page


def test_coverage_weeks_are_bounded_at_stockholm_midnight_across_the_clock_change(personas, unit, visit):
    staff = personas.staff_x
    spring_monday = dt.date(2027, 3, 22)  # the week of the spring change (Sunday 28 March)
    make_slot(unit, visit, staff, at(spring_monday, 0, 15))  # 23:15 UTC on Sunday 21: this week
    make_slot(unit, visit, staff, at(dt.date(2027, 3, 28), 23, 30), channel=Channel.PHONE_ONLY)  # 21:30 UTC: this week
    make_slot(unit, visit, staff, at(dt.date(2027, 3, 29), 0, 30))  # 22:30 UTC on Sunday 28: the next week
    weeks = unit_coverage(unit, today=dt.date(2027, 3, 24), weeks=2)
    assert [(w.week, w.slots, w.open_online) for w in weeks] == [(12, 2, 1), (13, 1, 1)]
    assert weeks[0].percent == 50 and weeks[1].percent == 100


@pytest.mark.parametrize(
    "monday",
    [dt.date(2027, 3, 22), dt.date(2027, 10, 25)],  # the weeks of the spring and the autumn change
    ids=["spring", "autumn"],
)
def test_coverage_weeks_begin_at_local_monday_midnight_and_end_at_the_horizon(personas, unit, visit, monday):
    staff = personas.staff_x
    last_moment = dt.timedelta(microseconds=1)
    sunday = monday + dt.timedelta(days=6)  # the clock changes in the night to this Sunday
    for start in [
        at(monday, 0) - last_moment,  # Sunday 23:59:59.999999 before the first week: not counted
        at(monday, 0),  # the first week's first instant
        at(sunday, 23, 59) + dt.timedelta(seconds=60) - last_moment,  # its last instant
        at(monday + dt.timedelta(weeks=1), 0),  # the second week's first instant
        at(sunday + dt.timedelta(weeks=1), 23, 59) + dt.timedelta(seconds=60) - last_moment,
        at(monday + dt.timedelta(weeks=2), 0),  # the horizon: not counted
    ]:
        make_slot(unit, visit, staff, start)
    make_slot(unit, visit, staff, at(sunday, 2, 30), channel=Channel.PHONE_ONLY)  # in the change's hour
    assert (at(monday + dt.timedelta(weeks=1), 0) - at(monday, 0)) / dt.timedelta(hours=1) in (167, 169)

    weeks = unit_coverage(unit, today=monday + dt.timedelta(days=2), weeks=2)
    assert [(w.starts_on, w.slots, w.open_online) for w in weeks] == [
        (monday, 3, 2),
        (monday + dt.timedelta(weeks=1), 2, 2),
    ]
    assert coverage_by_unit(today=monday, weeks=2)[unit.pk] == weeks


def test_coverage_of_several_units_counts_each_units_own_open_times(personas, unit, visit):
    staff = personas.staff_x
    retired = VisitType.objects.create(
        unit=unit,
        name="Gammal mottagning",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        active=False,
    )
    make_slot(unit, visit, staff, at(MONDAY, 8))
    make_slot(unit, visit, staff, at(MONDAY, 9))
    make_slot(unit, retired, staff, at(MONDAY, 10))  # published, but of a visit type no longer in use
    make_slot(unit, visit, staff, at(MONDAY + dt.timedelta(weeks=6, days=6), 23, 30))  # the eighth week's Sunday
    make_slot(unit, visit, staff, at(MONDAY + dt.timedelta(weeks=7), 0))  # beyond the horizon
    elsewhere = personas.nurse.memberships.get().unit
    other_visit = VisitType.objects.create(
        unit=elsewhere, name="X", duration_minutes=30, professions=["nurse", "district_nurse"], bookable_online=True
    )
    make_slot(elsewhere, other_visit, personas.nurse, at(MONDAY, 8))
    without_times = CareUnit.objects.exclude(slots__isnull=False).first()
    assert without_times is not None

    given = coverage_by_unit([elsewhere, without_times, unit], today=NOW.date())
    assert list(given) == [elsewhere.pk, without_times.pk, unit.pk]
    assert [(w.slots, w.open_online) for w in given[unit.pk]] == [(0, 0), (3, 2), *[(0, 0)] * 5, (1, 1)]
    assert [(w.slots, w.open_online) for w in given[elsewhere.pk]] == [(0, 0), (1, 1), *[(0, 0)] * 6]
    assert [w.slots for w in given[without_times.pk]] == [0] * 8
    assert [w.week for w in given[unit.pk]] == [48, 49, 50, 51, 52, 53, 1, 2]

    every = coverage_by_unit(today=NOW.date())
    assert unit.pk in every and elsewhere.pk in every and without_times.pk not in every
    assert list(every) == sorted(every, key=str)
    assert every[unit.pk] == given[unit.pk] and every[elsewhere.pk] == given[elsewhere.pk]
    assert coverage_by_unit([], today=NOW.date()) == {}


def test_the_same_form_sent_twice_books_once_and_is_audited_once(personas, unit, visit):
    """The second answer is the booking the first made, not 'taken', and the log holds one
    booking. (The race itself, the second waiting on the slot's lock, is the PostgreSQL test in
    test_booking_core.py.)"""
    slot = make_slot(unit, visit, personas.staff_x, at(MONDAY, 13), channel=Channel.PHONE_ONLY)
    first = _phone_book(unit, slot, personas.staff_x, personas.tolvan, form_key="k9")
    second = _phone_book(unit, slot, personas.staff_x, personas.tolvan, form_key="k9")
    assert second.pk == first.pk and Booking.objects.count() == 1
    assert AuditEntry.objects.filter(action="booking.staff_book").count() == 1


def _phone_book(unit, slot, staff, patient, *, form_key: str) -> Booking:
    """What the slot page's POST does: the form's key made into the submission's key."""
    key = submission_key("staff", staff.pk, patient.pk, slot.pk, form_key)
    return booking_create_by_staff(
        slot_id=slot.pk, unit=unit, patient=patient, staff=staff, idempotency_key=key
    ).booking


def test_the_form_sent_again_for_another_patient_is_not_answered_with_the_first_booking(personas, unit, visit):
    """Back in the browser, another personal number in the same form: that is another
    submission. The time is the first patient's, so the second is refused, not told 'booked'."""
    from vardkontakt.booking.services import BookingRefused

    slot = make_slot(unit, visit, personas.staff_x, at(MONDAY, 13), channel=Channel.PHONE_ONLY)
    _phone_book(unit, slot, personas.staff_x, personas.tolvan, form_key="k9")
    with pytest.raises(BookingRefused) as refused:
        _phone_book(unit, slot, personas.staff_x, personas.other_patient, form_key="k9")
    assert refused.value.refusal is Refusal.TAKEN
    assert list(Booking.objects.values_list("patient", flat=True)) == [personas.tolvan.pk]
