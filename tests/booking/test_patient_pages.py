"""Tidbok online as the resident meets it: book, see, cancel, move, for oneself and for others,
calendar files and the feed, reminders — and every crafted request refused without a change."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.test import Client

from tests.booking.helpers import ONLINE_NOW, book, client_for, clock_at, online_slots, online_unit, online_visit  # noqa: F401 (fixtures: unit, visit, slots)
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    CalendarFeed,
    Channel,
    HeldBack,
    Slot,
    VisitType,
)
from vardkontakt.booking.notices import send_due_reminders
from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import Delivery, Notification, NotificationKind
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
NOW = ONLINE_NOW
clock = clock_at(NOW)


def test_the_way_to_a_booking(personas, unit, visit, slots):
    tolvan = client_for(personas.tolvan)
    assert "Vårdcentralen Lindängen" in tolvan.get("/bookings/book/").text
    types = tolvan.get(f"/bookings/book/{unit.pk}/").text
    assert "Boka inte för akuta besvär." in types and "Hälsosamtal" in types
    page = tolvan.get(f"/bookings/book/{unit.pk}/{visit.pk}/").text
    assert "torsdag 26 november" in page and "09:00–09:30" in page and "Rum 4" in page
    confirm = tolvan.get(f"/bookings/book/{unit.pk}/slot/{slots[0].pk}/").text
    assert "Bekräfta bokningen" in confirm and 'name="submission_key"' in confirm
    answer = book(tolvan, unit, slots[0])
    booking = Booking.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/bookings/{booking.pk}/"
    assert book(tolvan, unit, slots[0]).status_code == 302 and Booking.objects.count() == 1  # a double click
    detail = tolvan.get(f"/bookings/{booking.pk}/").text
    assert "torsdag 26 november 2026, 09:00" in detail and "040-623 10 00" in detail
    after = tolvan.get(f"/bookings/book/{unit.pk}/{visit.pk}/").text
    assert f"/slot/{slots[0].pk}/" not in after
    assert Notification.objects.filter(recipient=personas.tolvan, kind=NotificationKind.BOOKING_CONFIRMED).exists()
    assert "Hälsosamtal" in tolvan.get("/bookings/").text


def test_the_second_person_is_told_and_offered_other_times(personas, unit, slots):
    book(client_for(personas.tolvan), unit, slots[0])
    late = book(client_for(personas.other_patient), unit, slots[0], key="other")
    assert late.status_code == 409
    assert "Tiden är inte längre ledig." in late.text and "Ingenting har ändrats." in late.text
    nearby = late.text.split("Lediga tider i närheten")[1]
    assert f"/slot/{slots[1].pk}/" in nearby and f"/slot/{slots[0].pk}/" not in nearby
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": Channel.PHONE_ONLY}, "bara bokas per telefon"),
        ({"held_back": HeldBack.MEDICAL}, "går inte att boka via webben"),
        ({"starts_at": NOW - dt.timedelta(hours=1), "ends_at": NOW - dt.timedelta(minutes=30)}, "redan passerat"),
    ],
)
def test_a_crafted_booking_is_refused_plainly_and_changes_nothing(personas, unit, slots, change, message):
    Slot.objects.filter(pk=slots[0].pk).update(**change)
    answer = book(client_for(personas.tolvan), unit, slots[0])
    assert answer.status_code == 400 and message in answer.text
    assert Booking.objects.count() == 0


def test_another_units_slot_or_unit_is_not_booked(personas, unit, slots):
    other_unit = CareUnit.objects.exclude(pk=unit.pk).first()
    assert other_unit is not None
    tolvan = client_for(personas.tolvan)
    assert book(tolvan, other_unit, slots[0]).status_code == 404  # a unit that takes no bookings online
    VisitType.objects.create(
        unit=other_unit,
        name="Annat",
        duration_minutes=15,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
    )
    refused = book(tolvan, other_unit, slots[0])
    assert refused.status_code == 400 and "en annan mottagning" in refused.text
    assert Booking.objects.count() == 0


def test_other_peoples_bookings_are_not_found(personas, unit, slots):
    book(client_for(personas.tolvan), unit, slots[0])
    booking = Booking.objects.get()
    stranger = client_for(personas.other_patient)
    for path in ("", "cancel/", "rebook/", "calendar.ics"):
        assert stranger.get(f"/bookings/{booking.pk}/{path}").status_code == 404
    assert stranger.post(f"/bookings/{booking.pk}/cancel/").status_code == 404
    assert stranger.post(f"/bookings/{booking.pk}/rebook/", {"slot": str(slots[1].pk)}).status_code == 404
    assert Booking.objects.get().status == BookingStatus.ACTIVE
    assert not AuditEntry.objects.filter(actor_id=str(personas.other_patient.pk)).exists()  # nothing read


def test_cancel_before_the_deadline_and_after_it_call(personas, unit, slots):
    tolvan = client_for(personas.tolvan)
    book(tolvan, unit, slots[0], key="a")
    book(tolvan, unit, slots[2], key="b")  # Friday 09:00
    first, second = Booking.objects.order_by("slot__starts_at")
    with time_machine.travel(first.slot.starts_at - dt.timedelta(hours=23), tick=False):
        page = tolvan.get(f"/bookings/{first.pk}/cancel/").text
        assert "för sent att avboka via webben" in page and "040-623 10 00" in page
        refused = tolvan.post(f"/bookings/{first.pk}/cancel/")
        assert refused.status_code == 400 and "Ring mottagningen" in refused.text
    assert tolvan.post(f"/bookings/{second.pk}/cancel/")["Location"] == "/bookings/"
    second.refresh_from_db()
    assert (second.status, second.ended_online) == (BookingStatus.CANCELLED, True)
    assert Notification.objects.filter(kind=NotificationKind.BOOKING_CANCELLED, cause__endswith=str(second.pk)).exists()


def test_move_to_the_same_kind_with_the_same_person(personas, unit, visit, slots):
    tolvan = client_for(personas.tolvan)
    book(tolvan, unit, slots[4])  # next week: well before the 24-hour limit
    booking = Booking.objects.get()
    other_visit = VisitType.objects.create(
        unit=unit,
        name="Vaccination",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
    )
    start = slots[5].starts_at + dt.timedelta(hours=5)  # 14:30, outside the templates
    foreign = Slot.objects.create(
        unit=unit,
        practitioner=personas.unit_admin,
        visit_type=visit,
        place="Rum 1",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
    )
    other_kind = Slot.objects.create(
        unit=unit,
        practitioner=personas.staff_x,
        visit_type=other_visit,
        place="Rum 4",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
    )
    page = tolvan.get(f"/bookings/{booking.pk}/rebook/").text
    assert str(slots[5].pk) in page and str(foreign.pk) not in page and str(other_kind.pk) not in page
    refused = tolvan.post(f"/bookings/{booking.pk}/rebook/", {"slot": str(foreign.pk), "submission_key": "r"})
    assert refused.status_code == 400 and Booking.objects.get().status == BookingStatus.ACTIVE
    moved = tolvan.post(f"/bookings/{booking.pk}/rebook/", {"slot": str(slots[5].pk), "submission_key": "r2"})
    new = Booking.objects.get(status=BookingStatus.ACTIVE)
    assert moved["Location"] == f"/bookings/{new.pk}/" and new.rebooked_from_id == booking.pk
    VisitType.objects.filter(pk=visit.pk).update(rebookable_online=False)
    assert "låter inte patienter boka om ”Hälsosamtal” via webben" in tolvan.get(f"/bookings/{new.pk}/rebook/").text


def test_a_guardian_books_for_the_young_child_and_a_proxy_with_the_bookings_scope(personas, unit, slots):
    anna = client_for(personas.guardian)
    anna.post("/acting-for/", {"subject": str(personas.child_9.pk)})
    book(anna, unit, slots[0])
    booking = Booking.objects.get()
    assert (booking.patient, booking.booked_by_patient) == (personas.child_9, personas.guardian)
    assert Notification.objects.filter(recipient=personas.guardian, kind=NotificationKind.BOOKING_CONFIRMED).exists()
    maria = client_for(personas.adult_proxy)
    maria.post("/acting-for/", {"subject": str(personas.principal.pk)})
    book(maria, unit, slots[1], key="m")
    assert Booking.objects.filter(patient=personas.principal, booked_by_patient=personas.adult_proxy).exists()
    kent = client_for(personas.revoked_proxy)
    assert kent.post("/acting-for/", {"subject": str(personas.principal.pk)}).status_code == 404
    assert kent.get(f"/bookings/{booking.pk}/").status_code == 404


def test_the_calendar_file_carries_what_the_visit_needs_and_an_alarm(personas, unit, slots):
    """One .ics, taken by the person for one booking: the visit type, the practitioner's profession,
    the unit's phone and cancellation rule, and an alarm."""
    CareUnit.objects.filter(pk=unit.pk).update(phone="040-12 34 50")
    tolvan = client_for(personas.tolvan)
    book(tolvan, unit, slots[0])
    ics = tolvan.get(f"/bookings/{Booking.objects.get().pk}/calendar.ics")
    body = ics.content.decode().replace("\r\n ", "")  # unfold RFC 5545's 75-octet lines
    assert ics["Content-Type"].startswith("text/calendar")
    assert "SUMMARY:Hälsosamtal på Vårdcentralen Lindängen" in body
    assert "distriktssköterska" in body  # staff X's profession, not her name
    assert "040-12 34 50" in body and "Avboka på webben senast 24 timmar före besöket" in body
    assert "BEGIN:VALARM" in body and "TRIGGER:-PT2H" in body
    assert "DTSTART;TZID=Europe/Stockholm:20261126T090000" in body or "DTSTART:20261126T080000Z" in body


def _made_link(client: Client, content: str = "minimal") -> str:
    made = client.post("/bookings/calendar/new/", {"content": content}).text
    url = re.search(r"http://testserver(/calendar/[^<\s]+\.ics)", made)
    assert url is not None
    assert f"webcal://testserver{url.group(1)}" in made  # opens in the calendar app
    return url.group(1)


def test_the_calendar_feed_covers_the_child_and_can_be_revoked(personas, unit, slots):
    anna = client_for(personas.guardian)
    book(anna, unit, slots[0], key="own")
    anna.post("/acting-for/", {"subject": str(personas.child_9.pk)})
    book(anna, unit, slots[1], key="liam")
    url = _made_link(anna, "details")
    before = AuditEntry.objects.count()
    feed = Client().get(url).content.decode()
    assert feed.count("BEGIN:VEVENT") == 2 and "(Liam)" in feed
    # Nobody is logged in: the link's owner is the reader, of her own bookings and of Liam's for him.
    read = AuditEntry.objects.order_by("sequence")[before:]
    assert sorted((e.actor_id, e.on_behalf_of_id, e.patient_id, e.action, e.detail) for e in read) == sorted(
        [
            (str(personas.guardian.pk), "", str(personas.guardian.pk), "booking.feed.read", "calendar link, details"),
            (
                str(personas.guardian.pk),
                str(personas.child_9.pk),
                str(personas.child_9.pk),
                "booking.feed.read",
                "calendar link, details",
            ),
        ]
    )
    listed = anna.get("/bookings/calendar/").text
    assert url not in listed  # shown once only
    assert "Detaljer: mottagning, plats, besökstyp och namn" in listed and "25 november 2027" in listed
    second = _made_link(anna)
    assert Client().get(url).status_code == 200  # a second link (another calendar) leaves the first working
    first = CalendarFeed.objects.get(owner=personas.guardian, detailed=True)
    assert anna.post("/bookings/calendar/", {"feed": str(first.pk)}).status_code == 302
    assert Client().get(url).status_code == 404
    assert Client().get(second).status_code == 200
    # Someone else's link cannot be turned off by guessing its id.
    assert client_for(personas.tolvan).post("/bookings/calendar/", {"feed": str(first.pk)}).status_code == 404


def test_the_sms_reminder_goes_once_and_never_after_a_cancellation(personas, unit, slots):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile="+46701234567")
    tolvan = client_for(personas.tolvan)
    book(tolvan, unit, slots[0], key="a", sms_reminder="on")
    book(tolvan, unit, slots[2], key="b", sms_reminder="on")
    kept, cancelled = Booking.objects.order_by("slot__starts_at")
    tolvan.post(f"/bookings/{cancelled.pk}/cancel/")
    with time_machine.travel(cancelled.slot.starts_at - dt.timedelta(hours=23), tick=False):
        assert send_due_reminders() == 0  # Thursday's is past its time; Friday's was cancelled
    with time_machine.travel(kept.slot.starts_at - dt.timedelta(hours=25), tick=False):
        assert send_due_reminders() == 0  # not yet
    with time_machine.travel(kept.slot.starts_at - dt.timedelta(hours=23), tick=False):
        assert send_due_reminders() == 1
        assert send_due_reminders() == 0  # once
    delivery = Delivery.objects.get(notification__kind=NotificationKind.BOOKING_REMINDER)
    assert (delivery.channel, delivery.address) == ("sms", "+46701234567")
    from vardkontakt.notifications.messages import render

    text = render(NotificationKind.BOOKING_REMINDER, context=delivery.notification.context).body
    assert "26 november" in text and "09:00" in text and "Lindängen" not in text and "Hälsosamtal" not in text


def test_a_queued_reminder_is_withdrawn_when_the_visit_is_cancelled(personas, unit, slots):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile="+46701234567")
    tolvan = client_for(personas.tolvan)
    book(tolvan, unit, slots[2], sms_reminder="on")
    booking = Booking.objects.get()
    with time_machine.travel(booking.slot.starts_at - dt.timedelta(hours=30), tick=False):
        BookingSettings.objects.filter(unit=unit).update(reminder_hours=48)
        assert send_due_reminders() == 1
        cancelled = client_for(personas.tolvan).post(f"/bookings/{booking.pk}/cancel/")  # a fresh login then
        assert cancelled.status_code == 302, cancelled.text
    assert Delivery.objects.get(notification__kind=NotificationKind.BOOKING_REMINDER).status == "withdrawn"


def test_the_form_as_the_page_sends_it_books_once_however_often_it_is_sent(personas, unit, slots):
    """The page's own submission key, whole, as a browser posts it (PostgreSQL checks the stored
    key's length; a key that does not fit was a 500 there and nowhere else)."""
    tolvan = client_for(personas.tolvan)
    path = f"/bookings/book/{unit.pk}/slot/{slots[0].pk}/"
    key = re.search(r'name="submission_key" value="([^"]+)"', tolvan.get(path).text)[1]  # type: ignore[index]
    answers = [tolvan.post(path, {"submission_key": key, "sms_reminder": "on"}) for _ in range(3)]
    booking = Booking.objects.get()
    assert [a.status_code for a in answers] == [302] * 3
    assert {a["Location"] for a in answers} == {f"/bookings/{booking.pk}/"}
    assert booking.sms_reminder is bool(personas.tolvan.mobile)
    assert list(AuditEntry.objects.filter(action="booking.book").values_list("object_id", flat=True)) == [
        str(booking.pk)
    ]  # logged once, as the one booking


def test_moving_twice_with_one_form_moves_once_and_logs_once(personas, unit, slots):
    tolvan = client_for(personas.tolvan)
    book(tolvan, unit, slots[4])
    booking = Booking.objects.get()
    moves = [
        tolvan.post(f"/bookings/{booking.pk}/rebook/", {"slot": str(slots[5].pk), "submission_key": "m"})
        for _ in range(2)
    ]
    moved = Booking.objects.get(status=BookingStatus.ACTIVE)
    assert {m["Location"] for m in moves} == {f"/bookings/{moved.pk}/"}
    logged = AuditEntry.objects.filter(action__startswith="booking.").exclude(action="booking.book")
    assert list(logged.values_list("action", "object_id")) == [("booking.rebook", str(moved.pk))]


def test_what_a_proxy_reads_and_changes_of_her_bookings_gunnel_finds_in_her_log(personas, unit, slots):
    """The proxy's every read and change of the principal's bookings is logged under the proxy's
    name, for the principal; the reads are in the principal's "who has read" list."""
    maria = client_for(personas.adult_proxy)
    maria.post("/acting-for/", {"subject": str(personas.principal.pk)})
    start = AuditEntry.objects.count()
    assert maria.get("/bookings/").status_code == 200
    book(maria, unit, slots[4], key="g")
    booking = Booking.objects.get(patient=personas.principal)
    assert maria.get(f"/bookings/{booking.pk}/").status_code == 200
    assert maria.get(f"/bookings/{booking.pk}/calendar.ics").status_code == 200
    moved_to = maria.post(f"/bookings/{booking.pk}/rebook/", {"slot": str(slots[5].pk), "submission_key": "r"})
    moved = Booking.objects.get(patient=personas.principal, status=BookingStatus.ACTIVE)
    assert moved_to["Location"] == f"/bookings/{moved.pk}/"
    assert maria.post(f"/bookings/{moved.pk}/cancel/")["Location"] == "/bookings/"
    trail = AuditEntry.objects.order_by("sequence")[start:]
    assert {(e.actor_id, e.on_behalf_of_id, e.patient_id) for e in trail} == {
        (str(personas.adult_proxy.pk), str(personas.principal.pk), str(personas.principal.pk))
    }
    assert [e.action for e in trail] == [
        "booking.list.read",
        "booking.book",
        "booking.detail.read",
        "booking.ics.read",
        "booking.rebook",
        "booking.cancel",
    ]
    gunnels_log = client_for(personas.principal).get("/record/access-log/").text
    assert "Maria Omsorgsdotter" in gunnels_log
    for label in ("Såg de bokade tiderna", "Såg en bokad tid", "Sparade en bokad tid i en kalender"):
        assert label in gunnels_log


def test_a_time_that_no_longer_exists_is_refused_in_words_not_an_error(personas, unit, visit, slots):
    """A time taken out of the book after the page was shown (or an id made up): booking or moving
    to it is refused with a message, never a server error."""
    tolvan = client_for(personas.tolvan)
    gone = uuid.uuid4()
    refused = tolvan.post(f"/bookings/book/{unit.pk}/slot/{gone}/", {"submission_key": "k1"})
    assert refused.status_code in (400, 409) and "Tiden är inte längre ledig" in refused.text
    assert book(tolvan, unit, slots[0], "k2").status_code == 302
    booking = Booking.objects.get(slot=slots[0])
    moved = tolvan.post(f"/bookings/{booking.pk}/rebook/", {"slot": str(gone), "submission_key": "k3"})
    assert moved.status_code in (400, 404, 409)
    assert Booking.objects.get(pk=booking.pk).status == "active"
