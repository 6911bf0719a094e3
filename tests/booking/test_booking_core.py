"""The appointment book's core: slots from templates (DST included), and every booking rule."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.booking.helpers import at, make_slot, weekly_block
from vardkontakt.booking.availability import online_slots
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
    BookingRefused,
    Refusal,
    booking_cancel,
    booking_create_by_staff,
    booking_create_online,
    booking_move_online,
)
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import Notification, NotificationKind
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2026, 11, 30)


@pytest.fixture
def unit(personas) -> CareUnit:
    return personas.staff_x.memberships.get().unit


@pytest.fixture
def clinic_visit(unit) -> VisitType:
    """A visit doctors and district nurses hold (staff X is a district nurse, the unit admin a doctor)."""
    return VisitType.objects.create(
        unit=unit,
        name="Mottagningsbesök",
        duration_minutes=30,
        professions=["doctor", "district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )


def template(unit, staff, visit_type, **changes) -> ScheduleTemplate:
    return weekly_block(unit, staff, visit_type, **{"place": "Mottagning 2", **changes})


def local(slot: Slot) -> str:
    return slot.starts_at.astimezone(STOCKHOLM).strftime("%H:%M%z")


@pytest.fixture
def week(unit, clinic_visit, personas):
    """Monday 09-11 at Lindängen with staff X: four 30-minute slots a week, eight weeks ahead."""
    template(unit, personas.staff_x, clinic_visit)
    slots_generate(unit, today=MONDAY - dt.timedelta(days=1))
    return list(Slot.objects.filter(unit=unit).order_by("starts_at"))


# --- slots ------------------------------------------------------------------------------------


def test_the_template_rolls_forward_to_the_horizon_once(unit, week):
    assert len(week) == 8 * 4
    assert [local(s) for s in week[:4]] == ["09:00+0100", "09:30+0100", "10:00+0100", "10:30+0100"]
    assert slots_generate(unit, today=MONDAY - dt.timedelta(days=1)).created == 0  # idempotent
    unit.booking_settings.horizon_weeks = 12
    unit.booking_settings.save()
    assert slots_generate(unit, today=MONDAY - dt.timedelta(days=1)).created == 4 * 4


def test_an_absence_leaves_no_slots(unit, clinic_visit, personas):
    template(unit, personas.staff_x, clinic_visit)
    ScheduleException.objects.create(
        practitioner=personas.staff_x,
        unit=unit,
        starts_at=at(MONDAY, 9, 30),
        ends_at=at(MONDAY, 10, 30),
        reason=ExceptionReason.TRAINING,
    )
    result = slots_generate(unit, today=MONDAY)
    first_day = [local(s) for s in Slot.objects.filter(starts_at__lt=at(MONDAY, 23))]
    assert first_day == ["09:00+0100", "10:30+0100"] and result.skipped_for_exceptions == 2


def test_the_spring_night_has_no_half_past_two(unit, clinic_visit, personas):
    spring = dt.date(2027, 3, 28)  # last Sunday of March: 02:00 → 03:00
    template(unit, personas.staff_x, clinic_visit, weekday=6, start=dt.time(1), end=dt.time(4))
    # It is also Easter Day, a public holiday: the unit works it, or the schedule makes no times.
    HolidayOpening.objects.create(unit=unit, day=spring, opened_at=timezone.now())
    slots_generate(unit, today=spring)
    night = Slot.objects.filter(starts_at__lt=at(spring, 12)).order_by("starts_at")
    assert [local(s) for s in night] == ["01:00+0100", "01:30+0100", "03:00+0200", "03:30+0200"]


def test_the_autumn_hour_that_happens_twice_gives_two_distinct_slots(unit, clinic_visit, personas):
    autumn = dt.date(2027, 10, 31)  # last Sunday of October: 03:00 → 02:00
    template(unit, personas.staff_x, clinic_visit, weekday=6, start=dt.time(1), end=dt.time(4))
    slots_generate(unit, today=autumn)
    night = list(Slot.objects.filter(starts_at__lt=at(autumn, 12)).order_by("starts_at"))
    assert [local(s) for s in night] == [
        "01:00+0200",
        "01:30+0200",
        "02:00+0200",
        "02:30+0200",
        "02:00+0100",
        "02:30+0100",
        "03:00+0100",
        "03:30+0100",
    ]
    assert len({s.starts_at for s in night}) == 8


# --- booking online ---------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 11, 29, 12, tzinfo=STOCKHOLM))
def test_book_once_and_the_second_gets_alternatives(unit, week, personas):
    slot = week[5]
    booking = booking_create_online(
        slot_id=slot.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan, idempotency_key="k1"
    )
    assert booking.status == BookingStatus.ACTIVE
    again = booking_create_online(
        slot_id=slot.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan, idempotency_key="k1"
    )
    assert again.pk == booking.pk and Booking.objects.count() == 1
    with pytest.raises(BookingRefused) as refused:
        booking_create_online(slot_id=slot.pk, unit=unit, subject=personas.other_patient, actor=personas.other_patient)
    assert refused.value.refusal is Refusal.TAKEN and str(refused.value) == "Tiden är inte längre ledig."
    assert refused.value.alternatives and slot not in refused.value.alternatives
    assert all(s.visit_type_id == slot.visit_type_id for s in refused.value.alternatives)
    assert slot not in online_slots(unit)


@time_machine.travel(dt.datetime(2026, 11, 29, 12, tzinfo=STOCKHOLM))
@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"channel": Channel.PHONE_ONLY}, Refusal.PHONE_ONLY),
        ({"held_back": HeldBack.CO_PLANNED}, Refusal.HELD_BACK),
        (
            {
                "starts_at": dt.datetime(2026, 11, 28, 9, tzinfo=STOCKHOLM),
                "ends_at": dt.datetime(2026, 11, 28, 9, 30, tzinfo=STOCKHOLM),
            },
            Refusal.PAST,
        ),
    ],
)
def test_a_crafted_online_booking_is_refused_and_changes_nothing(unit, week, personas, change, refusal):
    slot = week[0]
    Slot.objects.filter(pk=slot.pk).update(**change)
    with pytest.raises(BookingRefused) as refused:
        booking_create_online(slot_id=slot.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    assert refused.value.refusal is refusal and Booking.objects.count() == 0


@time_machine.travel(dt.datetime(2026, 11, 29, 12, tzinfo=STOCKHOLM))
def test_another_units_slot_and_a_visit_type_not_online(unit, week, clinic_visit, personas):
    other = CareUnit.objects.exclude(pk=unit.pk).first()
    assert other is not None
    with pytest.raises(BookingRefused) as refused:
        booking_create_online(slot_id=week[0].pk, unit=other, subject=personas.tolvan, actor=personas.tolvan)
    assert refused.value.refusal is Refusal.OTHER_UNIT
    VisitType.objects.filter(pk=clinic_visit.pk).update(bookable_online=False)
    with pytest.raises(BookingRefused) as refused:
        booking_create_online(slot_id=week[0].pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    assert refused.value.refusal is Refusal.NOT_ONLINE
    assert Booking.objects.count() == 0


# --- staff booking and the release rule ---------------------------------------------------------


def test_staff_book_an_online_slot_only_after_its_release(unit, week, personas):
    slot = week[0]  # Monday 30 Nov 09:00
    with time_machine.travel(slot.starts_at - dt.timedelta(hours=48, minutes=1)):
        with pytest.raises(BookingRefused) as refused:
            booking_create_by_staff(slot_id=slot.pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x)
        assert refused.value.refusal is Refusal.NOT_RELEASED
    with time_machine.travel(slot.starts_at - dt.timedelta(hours=47)):
        booking = booking_create_by_staff(
            slot_id=slot.pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x
        ).booking
    assert booking.channel == "phone" and booking.booked_by_staff == personas.staff_x


@time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=STOCKHOLM))
def test_staff_book_a_phone_only_slot_any_time_and_overbook_only_with_a_reason(unit, week, personas):
    slot = week[0]
    Slot.objects.filter(pk=slot.pk).update(channel=Channel.PHONE_ONLY)
    booking_create_by_staff(slot_id=slot.pk, unit=unit, patient=personas.tolvan, staff=personas.staff_x)
    with pytest.raises(BookingRefused) as refused:
        booking_create_by_staff(slot_id=slot.pk, unit=unit, patient=personas.other_patient, staff=personas.staff_x)
    assert refused.value.refusal is Refusal.TAKEN
    extra = booking_create_by_staff(
        slot_id=slot.pk,
        unit=unit,
        patient=personas.other_patient,
        staff=personas.staff_x,
        overbook_reason="Akut, hinner klämmas in",
    ).booking
    assert extra.overbooked and Booking.objects.filter(slot=slot, status="active").count() == 2


def test_the_database_refuses_a_second_active_booking(unit, week, personas):
    slot = week[0]
    now = timezone.now()
    Booking.objects.create(
        slot=slot, patient=personas.tolvan, channel="online", booked_by_patient=personas.tolvan, created_at=now
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            slot=slot, patient=personas.other_patient, channel="phone", booked_by_staff=personas.staff_x, created_at=now
        )


# --- cancelling and rebooking -----------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 11, 25, 12, tzinfo=STOCKHOLM))
def test_cancel_online_up_to_the_deadline_then_call(unit, week, personas):
    first, second = week[0], week[1]  # Monday 09:00 and 09:30
    BookingSettings.objects.update_or_create(unit=unit, defaults={"online_bookings_per_visit_type": 2})
    early = booking_create_online(slot_id=first.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    late = booking_create_online(slot_id=second.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    assert booking_cancel(booking_id=early.pk, by_patient=personas.tolvan).ended_online
    with time_machine.travel(second.starts_at - dt.timedelta(hours=23)):
        with pytest.raises(BookingRefused) as refused:
            booking_cancel(booking_id=late.pk, by_patient=personas.tolvan)
        assert refused.value.refusal is Refusal.TOO_LATE_TO_CANCEL
        assert not booking_cancel(booking_id=late.pk, by_staff=personas.staff_x).ended_online
    assert first in online_slots(unit)


@time_machine.travel(dt.datetime(2026, 11, 25, 12, tzinfo=STOCKHOLM))
def test_rebooking_keeps_kind_practitioner_and_length_and_is_atomic(unit, week, clinic_visit, personas):
    booking = booking_create_online(slot_id=week[0].pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    moved = booking_move_online(booking_id=booking.pk, new_slot_id=week[4].pk, actor=personas.tolvan)
    booking.refresh_from_db()
    assert (booking.status, moved.rebooked_from, moved.slot) == (BookingStatus.REBOOKED, booking, week[4])

    other_doctor = template(unit, personas.unit_admin, clinic_visit, weekday=1)
    slots_generate(unit, today=MONDAY)
    theirs = Slot.objects.filter(template=other_doctor).first()
    assert theirs is not None
    with pytest.raises(BookingRefused) as refused:
        booking_move_online(booking_id=moved.pk, new_slot_id=theirs.pk, actor=personas.tolvan)
    assert refused.value.refusal is Refusal.NOT_SAME_KIND
    booking_create_online(slot_id=week[8].pk, unit=unit, subject=personas.other_patient, actor=personas.other_patient)
    with pytest.raises(BookingRefused):
        booking_move_online(booking_id=moved.pk, new_slot_id=week[8].pk, actor=personas.tolvan)
    moved.refresh_from_db()
    assert moved.status == BookingStatus.ACTIVE  # the old booking is never lost
    VisitType.objects.filter(pk=clinic_visit.pk).update(rebookable_online=False)
    with pytest.raises(BookingRefused) as refused:
        booking_move_online(booking_id=moved.pk, new_slot_id=week[12].pk, actor=personas.tolvan)
    assert refused.value.refusal is Refusal.NOT_REBOOKABLE


# --- the rush -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.many_connections
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case")
def test_fifty_people_race_for_one_slot_and_exactly_one_wins(personas):
    slot = vaccination_slot(personas, starts_at=timezone.now() + dt.timedelta(days=3))
    unit = slot.unit
    people = list(Patient.objects.all()[:50])
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def attempt(person: Patient) -> None:
        try:
            barrier.wait(timeout=30)
            booking_create_online(slot_id=slot.pk, unit=unit, subject=person, actor=person)
            outcomes.append("booked")
        except BookingRefused as refused:
            outcomes.append(refused.refusal.name)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(people) == 50
    assert outcomes.count("booked") == 1 and outcomes.count("TAKEN") == 49
    assert Booking.objects.filter(slot=slot, status="active").count() == 1


def vaccination_slot(personas, *, starts_at: dt.datetime, online: bool = True) -> Slot:
    """One ten-minute time with staff X at Lindängen, for many to reach for at once."""
    unit = personas.staff_x.memberships.get().unit
    visit = VisitType.objects.create(
        unit=unit,
        name="Vaccination",
        duration_minutes=10,
        professions=["nurse", "district_nurse"],
        bookable_online=online,
    )
    return make_slot(unit, visit, personas.staff_x, starts_at, place="Rum 1")


def at_once(copies: int, submit: Callable[[], Booking]) -> list[object]:
    """Run ``submit`` in ``copies`` threads released together; each answer is the booking's id
    or the refusal's name."""
    barrier = threading.Barrier(copies)
    answers: list[object] = []

    def one() -> None:
        try:
            barrier.wait(timeout=30)
            answers.append(submit().pk)
        except BookingRefused as refused:
            answers.append(refused.refusal.name)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case")
def test_one_submission_sent_many_times_at_once_books_once_and_every_answer_is_that_booking(personas):
    """A double (or tenfold) click: the copies wait on the slot's lock behind the first, then find
    its booking by the submission key; none of them is told the time has gone."""
    slot = vaccination_slot(personas, starts_at=timezone.now() + dt.timedelta(days=3))
    unit = slot.unit
    answers = at_once(
        10,
        lambda: booking_create_online(
            slot_id=slot.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan, idempotency_key="same-form"
        ),
    )
    booking = Booking.objects.get(slot=slot)
    assert answers == [booking.pk] * 10
    assert Notification.objects.filter(cause=f"{NotificationKind.BOOKING_CONFIRMED}:{booking.pk}").count() == 1
    from vardkontakt.access.models import AuditEntry

    assert list(AuditEntry.objects.filter(action="booking.book").values_list("object_id", flat=True)) == [
        str(booking.pk)
    ]  # logged once, in the booking's own transaction


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case")
def test_staff_sending_one_form_many_times_at_once_book_once_and_the_log_says_once(personas):
    """The phone channel's double click, as the slot page sends it (the form's key made into the
    submission's): every copy is answered with the one booking, logged once."""
    from vardkontakt.access.models import AuditEntry
    from vardkontakt.booking.services import submission_key

    # A time not open online, three hours ahead: staff may book it.
    slot = vaccination_slot(personas, starts_at=timezone.now() + dt.timedelta(hours=3), online=False)
    unit = slot.unit
    answers = at_once(
        8,
        lambda: (
            booking_create_by_staff(
                slot_id=slot.pk,
                unit=unit,
                patient=personas.tolvan,
                staff=personas.staff_x,
                idempotency_key=submission_key("staff", personas.staff_x.pk, personas.tolvan.pk, slot.pk, "same-form"),
            ).booking
        ),
    )
    booking = Booking.objects.get(slot=slot)
    assert answers == [booking.pk] * 8
    assert AuditEntry.objects.filter(action="booking.staff_book").count() == 1
