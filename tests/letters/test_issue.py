"""The day's letters: made after the region's issue hour from each appointment's state at the cutoff,
one letter per change of a day, around midnight and over the clock changes."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.letters.conftest import at, local, slots_from
from vardkontakt.booking.models import Booking
from vardkontakt.booking.services import booking_cancel, booking_create_online, booking_move_online
from vardkontakt.letters.models import Letter, LetterKind, LetterRun, LetterSettings, Paper, PaperReason
from vardkontakt.letters.services import cutoff_of, letters_issue_due
from vardkontakt.notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db

MONDAY = (2026, 11, 30)  # an ordinary Monday in winter time (UTC+1)


@pytest.fixture
def week(unit, visit, personas):
    """Free times the Monday after, 09:00-12:00."""
    return slots_from(unit, visit, personas.staff_x, local(2026, 12, 7, 9))


def book(unit, slot, patient, actor=None) -> Booking:
    return booking_create_online(slot_id=slot.pk, unit=unit, subject=patient, actor=actor or patient)


def test_a_booking_gets_its_letter_at_the_issue_hour_not_before(unit, week, personas):
    with at(local(*MONDAY, 10)):
        booking = book(unit, week[0], personas.tolvan)
    with at(local(*MONDAY, 17, 59)):
        assert letters_issue_due() == 0
    with at(local(*MONDAY, 18)):
        assert letters_issue_due() == 1
    letter = Letter.objects.get()
    assert (letter.kind, letter.booking, letter.patient) == (LetterKind.APPOINTMENT, booking, personas.tolvan)
    assert "Vårdcentralen Lindängen" in letter.html_sv and "Hälsosamtal" in letter.html_sv and "09:00" in letter.html_sv
    assert "200 kronor" in letter.html_sv and "Health check" in letter.html_en
    assert bytes(letter.pdf).startswith(b"%PDF") and letter.read_at is None
    # Nobody chose digital letters: on paper (Tolvan has no registered address in the demo: held back, named).
    assert (letter.paper, letter.paper_reason) == (Paper.NO_ADDRESS, PaperReason.NOT_DIGITAL)
    notice = Notification.objects.get(kind=NotificationKind.NEW_LETTER)
    assert notice.recipient == personas.tolvan and notice.about_id == str(letter.pk)
    with at(local(*MONDAY, 18, 30)):
        assert letters_issue_due() == 0  # the day has run


def test_two_changes_in_a_day_make_one_letter_then_a_change_then_a_cancellation(unit, week, personas):
    with at(local(*MONDAY, 9)):
        first = book(unit, week[0], personas.tolvan)
    with at(local(*MONDAY, 12)):
        second = booking_move_online(booking_id=first.pk, new_slot_id=week[1].pk, actor=personas.tolvan)
    with at(local(*MONDAY, 15)):
        third = booking_move_online(booking_id=second.pk, new_slot_id=week[2].pk, actor=personas.tolvan)
    with at(local(*MONDAY, 18, 5)):
        assert letters_issue_due() == 1
    assert list(Letter.objects.values_list("kind", "booking")) == [(LetterKind.APPOINTMENT, third.pk)]
    with at(local(2026, 12, 1, 10)):
        fourth = booking_move_online(booking_id=third.pk, new_slot_id=week[3].pk, actor=personas.tolvan)
    with at(local(2026, 12, 1, 18)):
        assert letters_issue_due() == 1
    change = Letter.objects.get(kind=LetterKind.CHANGE)
    assert change.booking == fourth and "10:30" in change.html_sv
    assert Letter.objects.filter(current=True).get() == change
    with at(local(2026, 12, 2, 8)):
        booking_cancel(booking_id=fourth.pk, by_patient=personas.tolvan)
    with at(local(2026, 12, 2, 19)):
        assert letters_issue_due() == 1
    assert Letter.objects.filter(kind=LetterKind.CANCELLATION, booking=fourth).exists()
    assert Letter.objects.count() == 3


def test_booked_and_cancelled_in_one_day_sends_nothing(unit, week, personas):
    with at(local(*MONDAY, 9)):
        booking = book(unit, week[0], personas.tolvan)
    with at(local(*MONDAY, 11)):
        booking_cancel(booking_id=booking.pk, by_patient=personas.tolvan)
    with at(local(*MONDAY, 18)):
        assert letters_issue_due() == 0
    assert not Letter.objects.exists()


def test_a_change_after_the_hour_and_around_midnight_leaves_with_the_next_day(unit, week, personas):
    with at(local(*MONDAY, 18, 30)):
        booking = book(unit, week[0], personas.tolvan)  # after Monday's cutoff
    with at(local(*MONDAY, 18, 45)):
        assert letters_issue_due() == 0
    with at(local(*MONDAY, 23, 59)):
        moved = booking_move_online(booking_id=booking.pk, new_slot_id=week[1].pk, actor=personas.tolvan)
    with at(local(2026, 12, 1, 0, 1)):
        moved = booking_move_online(booking_id=moved.pk, new_slot_id=week[2].pk, actor=personas.tolvan)
        assert letters_issue_due() == 0  # Tuesday's cutoff has not come
    with at(local(2026, 12, 1, 18)):
        assert letters_issue_due() == 1
    assert Letter.objects.get().booking == moved


def test_the_cutoff_is_the_swedish_hour_in_summer_and_winter_time():
    # The spring change (29 March 2026) and the autumn change (25 October 2026): 18:00 in Sweden.
    assert cutoff_of(dt.date(2026, 3, 28), 18) == dt.datetime(2026, 3, 28, 17, tzinfo=dt.UTC)
    assert cutoff_of(dt.date(2026, 3, 29), 18) == dt.datetime(2026, 3, 29, 16, tzinfo=dt.UTC)
    assert cutoff_of(dt.date(2026, 10, 25), 18) == dt.datetime(2026, 10, 25, 17, tzinfo=dt.UTC)
    assert cutoff_of(dt.date(2026, 10, 25), 0) == dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC)


def test_on_the_spring_change_day_the_run_waits_for_18_swedish_time(unit, visit, personas):
    slots = slots_from(unit, visit, personas.staff_x, local(2026, 4, 6, 9))
    with at(local(2026, 3, 29, 10)):
        book(unit, slots[0], personas.tolvan)
    with at(dt.datetime(2026, 3, 29, 15, 59, tzinfo=dt.UTC)):  # 17:59 summer time
        assert letters_issue_due() == 0
    with at(dt.datetime(2026, 3, 29, 16, 0, tzinfo=dt.UTC)):  # 18:00 summer time
        assert letters_issue_due() == 1


def test_the_regions_own_hour_and_a_stopped_worker_catches_up(unit, week, personas):
    LetterSettings.objects.create(region=unit.administration.region, issue_hour=15)
    with at(local(*MONDAY, 9)):
        book(unit, week[0], personas.tolvan)
    with at(local(*MONDAY, 15)):
        assert letters_issue_due() == 1
    with at(local(2026, 12, 1, 10)):
        book(unit, week[1], personas.other_patient)
    # The worker was down from Tuesday morning to Wednesday night: Tuesday's run is made up.
    with at(local(2026, 12, 2, 22)):
        assert letters_issue_due() == 1
    assert set(LetterRun.objects.values_list("day", flat=True)) == {
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 2),
    }


def test_a_run_whose_worker_died_is_taken_up_again_without_sending_twice(unit, week, personas):
    with at(local(*MONDAY, 9)):
        book(unit, week[0], personas.tolvan)
        book(unit, week[1], personas.other_patient)
    with at(local(*MONDAY, 18)):
        assert letters_issue_due() == 2
    # The worker died after its letters but before it marked the run done.
    LetterRun.objects.update(finished_at=None)
    with at(local(*MONDAY, 18, 10)):
        assert letters_issue_due() == 0  # another worker may still be at it
    with at(local(*MONDAY, 18, 45)):
        assert letters_issue_due() == 0
    assert Letter.objects.count() == 2 and Notification.objects.filter(kind=NotificationKind.NEW_LETTER).count() == 2


def test_a_visit_today_after_the_cutoff_is_not_lettered_when_it_has_passed(unit, visit, personas):
    slots = slots_from(unit, visit, personas.staff_x, local(*MONDAY, 17), count=2)
    with at(local(*MONDAY, 12)):
        book(unit, slots[0], personas.tolvan)  # 17:00, before the cutoff
        book(unit, slots[1], personas.other_patient)  # 17:30
    with at(local(*MONDAY, 18)):
        assert letters_issue_due() == 0
