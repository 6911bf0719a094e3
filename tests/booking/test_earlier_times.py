"""Earlier-time offers (issue 17 part 3): the waiting list of a visit type, offers in order of
asking, the claim window, expiry to the next in line, and the claim that moves the booking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.conf import settings
from django.http import Http404
from django.test import Client
from django.utils import translation

from tests.booking.helpers import at, clock_at, make_slot, sv, text_of
from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    Channel,
    EarlierTimeOffer,
    EarlierTimeRequest,
    EarlierTimeRequestStatus,
    OfferStatus,
    Slot,
    VisitType,
)
from vardkontakt.booking.offers import (
    earlier_time_offer_claim,
    earlier_time_request_create,
    earlier_time_request_withdraw,
)
from vardkontakt.booking.services import (
    BookingRefused,
    Refusal,
    booking_cancel,
    booking_create_by_staff,
    booking_create_online,
)
from vardkontakt.booking.waiting_list import offers_renew_all
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, User
from vardkontakt.notifications.messages import render
from vardkontakt.notifications.models import Delivery, Notification, NotificationKind
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM)  # a Monday morning
DAY = NOW.date()

clock = clock_at(NOW)


@pytest.fixture
def unit(personas) -> CareUnit:
    unit = personas.staff_x.memberships.get().unit
    BookingSettings.objects.create(unit=unit, offer_claim_hours=2, online_bookings_per_visit_type=2)
    return unit


@pytest.fixture
def visit(unit) -> VisitType:
    """Held by district nurses (staff X) and doctors (the unit administrator)."""
    return VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["district_nurse", "doctor"],
        bookable_online=True,
        rebookable_online=True,
    )


@pytest.fixture
def now_commits(django_capture_on_commit_callbacks) -> Callable[..., object]:
    """Run a service as its request would: what it asks to happen after its commit happens."""

    def run(service: Callable[..., object], **kwargs: object) -> object:
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def slot_on(unit, visit, practitioner, days: int, hour: int, minute: int = 0, **extra) -> Slot:
    return make_slot(unit, visit, practitioner, at(DAY + dt.timedelta(days=days), hour, minute), **extra)


def booked(unit, slot: Slot, patient: Patient, actor: Patient | None = None) -> Booking:
    return booking_create_online(slot_id=slot.pk, unit=unit, subject=patient, actor=actor or patient)


def offer_of(booking: Booking) -> EarlierTimeOffer:
    """The open offer the booking holds (there must be one)."""
    return EarlierTimeOffer.objects.get(request__booking=booking, status=OfferStatus.OPEN)


def offered(booking: Booking) -> bool:
    return EarlierTimeOffer.objects.filter(request__booking=booking, status=OfferStatus.OPEN).exists()


@pytest.fixture
def line(unit, visit, personas, now_commits):
    """Sofia holds Thursday 09:00; Tolvan (asked first) holds the 14th day and the other patient
    (asked second) the 15th, both waiting for an earlier time."""
    early = slot_on(unit, visit, personas.staff_x, 3, 9)
    sofias = booked(unit, early, personas.sealed)
    tolvans = booked(unit, slot_on(unit, visit, personas.staff_x, 14, 9), personas.tolvan)
    others = booked(unit, slot_on(unit, visit, personas.staff_x, 15, 9), personas.other_patient)
    now_commits(earlier_time_request_create, booking_id=tolvans.pk, actor=personas.tolvan)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        now_commits(earlier_time_request_create, booking_id=others.pk, actor=personas.other_patient)
    return early, sofias, tolvans, others


def test_a_freed_time_is_offered_to_the_first_in_line_with_a_neutral_message(line, personas, now_commits):
    early, sofias, tolvans, others = line
    assert not offered(tolvans) and not offered(others)  # nothing earlier is free yet
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    offer = offer_of(tolvans)
    assert offer is not None and offer.slot == early and not offered(others)
    assert offer.expires_at == NOW + dt.timedelta(hours=2)  # the unit's claim window
    notice = Notification.objects.get(recipient=personas.tolvan, kind=NotificationKind.EARLIER_TIME_OFFERED)
    sms = render(notice.kind, language="sv", context=notice.context).body
    assert "12:00" in sms  # when to answer by
    assert "Hälsosamtal" not in sms and "Lindängen" not in sms and "09:00" not in sms  # nothing of the visit
    assert Delivery.objects.filter(notification=notice).exists() or not (
        personas.tolvan.notify_by_sms or personas.tolvan.notify_by_email
    )


def test_an_offer_not_taken_in_time_passes_to_the_next_and_a_late_claim_is_refused_clearly(line, personas, now_commits):
    early, sofias, tolvans, others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    first = offer_of(tolvans)
    assert first is not None
    with time_machine.travel(NOW + dt.timedelta(hours=2, minutes=1), tick=False):
        offers_renew_all()  # the worker's round
        first.refresh_from_db()
        assert first.status == OfferStatus.EXPIRED
        second = offer_of(others)
        assert second is not None and second.slot == early
        with pytest.raises(BookingRefused) as refused:
            earlier_time_offer_claim(offer_id=first.pk, actor=personas.tolvan)
        assert refused.value.refusal is Refusal.OFFER_EXPIRED
        with translation.override("en"):
            assert "offered to the next in line. You are still on the waiting list" in str(refused.value)
        assert "nästa i kön" in str(refused.value)  # in Swedish, the interface's first language
        # Tolvan keeps her time and her place for the next one; the other patient takes this one.
        tolvans.refresh_from_db()
        assert tolvans.status == BookingStatus.ACTIVE
        assert EarlierTimeRequest.objects.get(booking=tolvans).status == EarlierTimeRequestStatus.WAITING
        moved = earlier_time_offer_claim(offer_id=second.pk, actor=personas.other_patient)
        assert moved.slot == early


def test_an_offer_run_out_passes_on_when_someone_looks_before_the_worker_does(line, personas, now_commits):
    early, sofias, _tolvans, others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        client = login_as(Client(), User.objects.get_or_create_for_patient(personas.other_patient))
        page = client.get(f"/bookings/{others.pk}/")
        assert page.status_code == 200
        assert sv("An earlier time is offered to you") in text_of(page)
        assert offer_of(others).slot == early


def test_a_claim_after_expiry_passes_the_time_on_at_once(line, personas, now_commits):
    early, sofias, tolvans, others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    first = offer_of(tolvans)
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):  # the window's last instant is gone
        with pytest.raises(BookingRefused) as refused:
            earlier_time_offer_claim(offer_id=first.pk, actor=personas.tolvan)
        assert refused.value.refusal is Refusal.OFFER_EXPIRED
        assert offer_of(others).slot == early


def test_claiming_moves_the_booking_once_however_often_it_is_sent(line, personas, now_commits):
    early, sofias, tolvans, others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    offer = offer_of(tolvans)
    first = now_commits(earlier_time_offer_claim, offer_id=offer.pk, actor=personas.tolvan)
    again = now_commits(earlier_time_offer_claim, offer_id=offer.pk, actor=personas.tolvan)
    assert first == again and first.slot == early and first.rebooked_from == tolvans
    tolvans.refresh_from_db()
    assert tolvans.status == BookingStatus.REBOOKED
    assert Booking.objects.filter(slot=early, status=BookingStatus.ACTIVE).count() == 1
    assert AuditEntry.objects.filter(action="booking.earlier.claim").count() == 1
    assert EarlierTimeRequest.objects.get(booking=tolvans).status == EarlierTimeRequestStatus.FULFILLED
    # The time Tolvan gave up (day 14) is earlier than the other patient's (day 15): offered to them.
    assert offer_of(others).slot == tolvans.slot


def test_asking_twice_is_asking_once_and_keeps_the_place_in_line(line, personas, now_commits):
    _early, _sofias, tolvans, _others = line
    again = now_commits(earlier_time_request_create, booking_id=tolvans.pk, actor=personas.tolvan)
    assert EarlierTimeRequest.objects.filter(booking=tolvans).count() == 1
    assert again.asked_at == NOW
    assert AuditEntry.objects.filter(action="booking.earlier.ask", patient_id=personas.tolvan.pk).count() == 1


def test_the_held_time_is_taken_to_nobody_else_until_the_offer_runs_out(line, unit, personas, now_commits):
    early, sofias, _tolvans, others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    with pytest.raises(BookingRefused) as refused:
        booked(unit, early, personas.guardian)
    assert refused.value.refusal is Refusal.TAKEN
    EarlierTimeRequest.objects.filter(booking=others).delete()  # nobody else waits
    with time_machine.travel(NOW + dt.timedelta(hours=2, minutes=1), tick=False):
        assert booked(unit, early, personas.guardian).slot == early


def test_withdrawing_or_cancelling_ends_the_wait_and_an_offer_passes_on(line, personas, now_commits):
    early, sofias, tolvans, others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    now_commits(earlier_time_request_withdraw, booking_id=tolvans.pk, actor=personas.tolvan)
    assert EarlierTimeRequest.objects.get(booking=tolvans).status == EarlierTimeRequestStatus.WITHDRAWN
    assert offer_of(others).slot == early
    now_commits(booking_cancel, booking_id=others.pk, by_patient=personas.other_patient)
    assert EarlierTimeRequest.objects.get(booking=others).status == EarlierTimeRequestStatus.ENDED
    assert not EarlierTimeOffer.objects.filter(status=OfferStatus.OPEN).exists()


def test_only_the_same_practitioner_when_asked_so(unit, visit, personas, now_commits):
    tolvans = booked(unit, slot_on(unit, visit, personas.staff_x, 14, 9), personas.tolvan)
    now_commits(earlier_time_request_create, booking_id=tolvans.pk, actor=personas.tolvan, same_practitioner=True)
    doctors = slot_on(unit, visit, personas.unit_admin, 2, 13)
    nurses = slot_on(unit, visit, personas.staff_x, 4, 13)
    offers_renew_all()
    assert offer_of(tolvans).slot == nurses
    assert doctors.pk != nurses.pk


def test_the_rules_of_online_booking_still_decide_what_is_offered(unit, visit, personas, now_commits):
    tolvans = booked(unit, slot_on(unit, visit, personas.staff_x, 14, 9), personas.tolvan)
    now_commits(earlier_time_request_create, booking_id=tolvans.pk, actor=personas.tolvan)
    slot_on(unit, visit, personas.staff_x, 2, 9, channel=Channel.PHONE_ONLY)  # phone only
    slot_on(unit, visit, personas.staff_x, 2, 10, held_back="medical")  # held back
    # A practitioner whose profession may not hold the visit (a nurse, not a district nurse).
    nurse = personas.nurse
    nurse.profession = "nurse"
    nurse.save(update_fields=["profession"])
    slot_on(unit, visit, nurse, 2, 11)
    later = slot_on(unit, visit, personas.staff_x, 20, 9)  # later than Tolvan's
    offers_renew_all()
    assert not offered(tolvans)
    assert later.pk


def test_a_visit_type_moved_only_by_phone_takes_no_waiting_list(unit, visit, personas):
    visit.rebookable_online = False
    visit.save(update_fields=["rebookable_online"])
    tolvans = booked(unit, slot_on(unit, visit, personas.staff_x, 14, 9), personas.tolvan)
    with pytest.raises(BookingRefused) as refused:
        earlier_time_request_create(booking_id=tolvans.pk, actor=personas.tolvan)
    assert refused.value.refusal is Refusal.NOT_ASKABLE
    assert not EarlierTimeRequest.objects.exists()


def test_the_limit_of_web_bookings_applies_to_the_claim(unit, visit, personas, now_commits):
    """A booking made by phone moved by a claim becomes a web booking: the unit's limit counts it."""
    BookingSettings.objects.filter(unit=unit).update(online_bookings_per_visit_type=1)
    by_phone = booking_create_by_staff(
        slot_id=slot_on(unit, visit, personas.staff_x, 14, 9, channel=Channel.PHONE_ONLY).pk,
        unit=unit,
        patient=personas.tolvan,
        staff=personas.staff_x,
    ).booking
    booked(unit, slot_on(unit, visit, personas.staff_x, 20, 9), personas.tolvan)  # her one web booking
    now_commits(earlier_time_request_create, booking_id=by_phone.pk, actor=personas.tolvan)
    slot_on(unit, visit, personas.staff_x, 2, 9)
    offers_renew_all()
    with pytest.raises(BookingRefused) as refused:
        earlier_time_offer_claim(offer_id=offer_of(by_phone).pk, actor=personas.tolvan)
    assert refused.value.refusal is Refusal.LIMIT_REACHED
    by_phone.refresh_from_db()
    assert by_phone.status == BookingStatus.ACTIVE


def test_someone_else_can_neither_ask_nor_claim(line, personas, now_commits):
    _early, sofias, tolvans, others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    with pytest.raises(Http404):
        earlier_time_request_create(booking_id=others.pk, actor=personas.tolvan)
    with pytest.raises(Http404):
        earlier_time_offer_claim(offer_id=offer_of(tolvans).pk, actor=personas.other_patient)
    assert offer_of(tolvans).status == OfferStatus.OPEN


def test_a_guardian_asks_and_claims_for_a_child(unit, visit, personas, now_commits):
    liams = booked(unit, slot_on(unit, visit, personas.staff_x, 14, 9), personas.child_9, personas.guardian)
    now_commits(earlier_time_request_create, booking_id=liams.pk, actor=personas.guardian)
    early = slot_on(unit, visit, personas.staff_x, 3, 9)
    offers_renew_all()
    offer = offer_of(liams)
    assert offer.slot == early
    told = set(
        Notification.objects.filter(kind=NotificationKind.EARLIER_TIME_OFFERED).values_list("recipient", flat=True)
    )
    assert personas.guardian.pk in told
    moved = now_commits(earlier_time_offer_claim, offer_id=offer.pk, actor=personas.guardian)
    assert moved.patient == personas.child_9 and moved.booked_by_patient == personas.guardian


def test_the_wait_ends_when_the_booking_can_no_longer_be_moved_online(unit, visit, personas, now_commits):
    soon = booked(unit, slot_on(unit, visit, personas.staff_x, 2, 9), personas.tolvan)
    now_commits(earlier_time_request_create, booking_id=soon.pk, actor=personas.tolvan)
    with time_machine.travel(at(DAY + dt.timedelta(days=1), 9, 1), tick=False):  # less than 24 h before
        offers_renew_all()
    request = EarlierTimeRequest.objects.get(booking=soon)
    assert request.status == EarlierTimeRequestStatus.ENDED and request.ended_because == "too late to move online"


def test_an_offer_never_outlives_its_time(unit, visit, personas, now_commits):
    """A time starting within the claim window is held until it starts, not after."""
    tolvans = booked(unit, slot_on(unit, visit, personas.staff_x, 14, 9), personas.tolvan)
    now_commits(earlier_time_request_create, booking_id=tolvans.pk, actor=personas.tolvan)
    soon = make_slot(unit, visit, personas.staff_x, NOW + dt.timedelta(minutes=50))
    offers_renew_all()
    assert offer_of(tolvans).expires_at == soon.starts_at


# --- the clock: midnight and the spring night ----------------------------------------------------

SPRING_NIGHT = dt.datetime(2027, 3, 28, 1, 30, tzinfo=STOCKHOLM)  # 01:30 CET; at 02:00 it is 03:00 CEST


@pytest.mark.parametrize(
    ("made", "claimed_at", "taken"),
    [
        (SPRING_NIGHT, dt.datetime(2027, 3, 28, 4, 29, tzinfo=STOCKHOLM), True),  # two real hours: 04:30 CEST
        (SPRING_NIGHT, dt.datetime(2027, 3, 28, 4, 31, tzinfo=STOCKHOLM), False),
        (dt.datetime(2026, 11, 23, 23, 30, tzinfo=STOCKHOLM), dt.datetime(2026, 11, 24, 1, 29, tzinfo=STOCKHOLM), True),
        (
            dt.datetime(2026, 11, 23, 23, 30, tzinfo=STOCKHOLM),
            dt.datetime(2026, 11, 24, 1, 31, tzinfo=STOCKHOLM),
            False,
        ),
    ],
    ids=["spring-night-in-time", "spring-night-too-late", "past-midnight-in-time", "past-midnight-too-late"],
)
def test_the_claim_window_is_real_hours_across_midnight_and_the_clock_change(
    unit, visit, personas, now_commits, made, claimed_at, taken
):
    with time_machine.travel(made, tick=False):
        start = made.astimezone(STOCKHOLM).date()
        tolvans = make_slot(unit, visit, personas.staff_x, at(start + dt.timedelta(days=10), 9))
        booking = booked(unit, tolvans, personas.tolvan)
        now_commits(earlier_time_request_create, booking_id=booking.pk, actor=personas.tolvan)
        make_slot(unit, visit, personas.staff_x, at(start + dt.timedelta(days=2), 9))
        offers_renew_all()
        offer = offer_of(booking)
        assert offer.expires_at - offer.made_at == dt.timedelta(hours=2)
        notice = Notification.objects.get(kind=NotificationKind.EARLIER_TIME_OFFERED)
        # Two real hours: added to the instant, not to the wall clock (which has no 02:00-03:00 that night).
        until = (made.astimezone(dt.UTC) + dt.timedelta(hours=2)).astimezone(STOCKHOLM)
        assert until.strftime("%H:%M") in render(notice.kind, context=notice.context).body
    with time_machine.travel(claimed_at, tick=False):
        if taken:
            assert earlier_time_offer_claim(offer_id=offer.pk, actor=personas.tolvan).slot.starts_at < tolvans.starts_at
        else:
            with pytest.raises(BookingRefused) as refused:
                earlier_time_offer_claim(offer_id=offer.pk, actor=personas.tolvan)
            assert refused.value.refusal is Refusal.OFFER_EXPIRED


def test_the_spring_night_offer_says_the_summer_time(unit, visit, personas, now_commits):
    with time_machine.travel(SPRING_NIGHT, tick=False):
        booking = booked(
            unit,
            make_slot(unit, visit, personas.staff_x, at(SPRING_NIGHT.date() + dt.timedelta(days=10), 9)),
            personas.tolvan,
        )
        now_commits(earlier_time_request_create, booking_id=booking.pk, actor=personas.tolvan)
        make_slot(unit, visit, personas.staff_x, at(SPRING_NIGHT.date() + dt.timedelta(days=2), 9))  # earlier: offered
        offers_renew_all()
        notice = Notification.objects.get(kind=NotificationKind.EARLIER_TIME_OFFERED)
        body = render(notice.kind, language="en", context=notice.context).body
    assert "04:30" in body and "28 March" in body
    assert settings.SITE_URL in body


# --- the pages ------------------------------------------------------------------------------------


def test_a_late_claim_on_the_page_says_why_and_changes_nothing(line, personas, now_commits):
    _early, sofias, tolvans, _others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    offer = offer_of(tolvans)
    with time_machine.travel(NOW + dt.timedelta(hours=2, minutes=30), tick=False):
        client = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
        page = client.post(f"/bookings/offers/{offer.pk}/claim/")
    assert page.status_code == 400
    assert sv(str(Refusal.OFFER_EXPIRED.value)) in text_of(page)
    tolvans.refresh_from_db()
    assert tolvans.status == BookingStatus.ACTIVE
    assert not AuditEntry.objects.filter(action="booking.earlier.claim").exists()


def test_staff_see_the_waiting_list_in_order_of_asking_and_each_read_is_logged(line, unit, personas, now_commits):
    from tests.booking.helpers import staff_client

    _early, sofias, _tolvans, _others = line
    now_commits(booking_cancel, booking_id=sofias.pk, by_patient=personas.sealed)
    page = staff_client(personas.staff_x).get(f"/staff/units/{unit.pk}/appointments/waiting-list/")
    text = text_of(page)
    assert page.status_code == 200
    assert text.index(personas.tolvan.full_name) < text.index(personas.other_patient.full_name)
    assert sv("Offered now") in text
    logged = AuditEntry.objects.filter(action="booking.waiting_list.read").values_list("patient_id", flat=True)
    assert set(logged) == {str(personas.tolvan.pk), str(personas.other_patient.pk)}
    elsewhere = staff_client(personas.nurse).get(f"/staff/units/{unit.pk}/appointments/waiting-list/")
    assert elsewhere.status_code == 404


def test_times_opened_to_the_web_or_made_by_the_roll_go_to_the_waiting_list(unit, visit, personas, now_commits):
    from tests.booking.helpers import weekly_block
    from vardkontakt.booking.staff_services import schedule_roll, slots_release_online

    tolvans = booked(unit, slot_on(unit, visit, personas.staff_x, 14, 9), personas.tolvan)
    others = booked(unit, slot_on(unit, visit, personas.staff_x, 15, 9), personas.other_patient)
    now_commits(earlier_time_request_create, booking_id=tolvans.pk, actor=personas.tolvan)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):  # asked second
        now_commits(earlier_time_request_create, booking_id=others.pk, actor=personas.other_patient)
    phone_only = slot_on(unit, visit, personas.staff_x, 3, 9, channel=Channel.PHONE_ONLY)
    assert not offered(tolvans)
    now_commits(slots_release_online, unit=unit, by=personas.unit_admin, slot=phone_only)
    assert offer_of(tolvans).slot == phone_only
    weekly_block(unit, personas.staff_x, visit, weekday=(DAY + dt.timedelta(days=2)).weekday(), end=dt.time(9, 30))
    now_commits(schedule_roll, unit=unit, by=personas.unit_admin)
    assert offer_of(others).slot.starts_at == at(DAY + dt.timedelta(days=2), 9)
