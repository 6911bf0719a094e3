"""What residents and staff hit in the appointment book (issue 16, items 17-22; issue 14, section 7):
a week of times at a time with filters and the first free time; the limit of web bookings said
before booking; a move asked for and kept as the same calendar event; the fee; the calendar file's
details and alarm; calendar links made with a fresh login, minimal by default, expiring and listed;
phone booking that names the patient first; phone-only times opened to the web by hand."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.booking.helpers import online_visit  # noqa: F401 (fixture: visit)
from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    CalendarFeed,
    Channel,
    HeldBack,
    ScheduleTemplate,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import slots_generate
from vardkontakt.booking.services import BookingRefused, booking_create_by_staff, booking_create_online
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.middleware import AUTHENTICATED_AT
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)  # a Wednesday


@pytest.fixture(autouse=True)
def clock(request):
    if "transactional_db" in request.fixturenames:  # the PostgreSQL race runs on the real clock
        yield
        return
    with time_machine.travel(NOW, tick=False):
        yield


def patient_client(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def staff_client(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


@pytest.fixture
def unit(personas) -> CareUnit:
    unit = personas.staff_x.memberships.get().unit
    CareUnit.objects.filter(pk=unit.pk).update(phone="040-12 34 50")
    unit.refresh_from_db()
    BookingSettings.objects.create(unit=unit)
    return unit


@pytest.fixture
def slots(unit, visit, personas) -> list[Slot]:
    """Thursdays 09-10 with staff X, Fridays 09-10 with nurse Y (a member for the test): eight weeks."""
    Staff.objects.filter(pk=personas.nurse.pk).update(profession="nurse")
    other = Staff.objects.get(pk=personas.nurse.pk)
    other.memberships.create(unit=unit)
    for weekday, practitioner in ((3, personas.staff_x), (4, other)):
        ScheduleTemplate.objects.create(
            unit=unit,
            practitioner=practitioner,
            visit_type=visit,
            weekday=weekday,
            start_time=dt.time(9),
            end_time=dt.time(10),
            place="Rum 4",
        )
    slots_generate(unit, today=NOW.date())
    return list(Slot.objects.filter(unit=unit).order_by("starts_at"))


def book(client: Client, unit: CareUnit, slot: Slot, key: str = "k1"):
    return client.post(f"/bookings/book/{unit.pk}/slot/{slot.pk}/", {"submission_key": key})


def slots_url(unit: CareUnit, visit: VisitType) -> str:
    return f"/bookings/book/{unit.pk}/{visit.pk}/"


def days_shown(page: str) -> list[str]:
    """The days the list of free times shows (each a heading), not the day filter's choices."""
    return re.findall(r'<h2 class="nhsuk-heading-s">([^<]+)</h2>', page)


def with_x(slots: list[Slot], personas) -> list[Slot]:
    return [slot for slot in slots if slot.practitioner_id == personas.staff_x.pk]


# --- 17: a week at a time ---------------------------------------------------------------------------


def test_the_free_times_come_a_week_at_a_time_with_filters_and_the_first_free_time(personas, unit, visit, slots):
    tolvan = patient_client(personas.tolvan)
    page = tolvan.get(slots_url(unit, visit)).text
    assert "Första lediga tid" in page and "torsdag 26 november, 09:00" in page
    assert "Vecka 48, 23 november – 29 november 2026" in page
    assert page.count("/slot/") == 4 + 1  # this week's four times, and the first free time
    assert "Föregående vecka" not in page  # nothing to book before this week
    later = tolvan.get(slots_url(unit, visit) + "?week=2026-12-07").text
    assert "Vecka 50" in later and days_shown(later) == ["torsdag 10 december", "fredag 11 december"]
    friday = tolvan.get(slots_url(unit, visit) + "?week=2026-12-07&day=2026-12-11").text
    assert days_shown(friday) == ["fredag 11 december"]
    with_y = tolvan.get(slots_url(unit, visit) + f"?week=2026-12-07&practitioner={personas.nurse.pk}").text
    assert days_shown(with_y) == ["fredag 11 december"] and "Föregående vecka" in with_y
    # Beyond the horizon, or nonsense: the nearest week there is, never an error.
    assert "Nästa vecka" not in tolvan.get(slots_url(unit, visit) + "?week=2031-01-01").text
    assert tolvan.get(slots_url(unit, visit) + "?week=nonsense&day=x&practitioner=y").status_code == 200


def test_a_week_without_free_times_leads_to_the_first_free_one(personas, unit, visit, slots):
    Slot.objects.filter(starts_at__lt=dt.datetime(2026, 12, 7, tzinfo=STOCKHOLM)).delete()
    tolvan = patient_client(personas.tolvan)
    page = tolvan.get(slots_url(unit, visit) + "?week=2026-11-25").text
    assert "Inga lediga tider den här veckan." in page and "?week=2026-12-10" in page
    assert "Vecka 50" in tolvan.get(slots_url(unit, visit)).text  # unasked, the week of the first free time


# --- 19: the limit, said before booking ------------------------------------------------------------


def test_one_coming_web_booking_of_a_visit_type_said_before_and_refused_after(personas, unit, visit, slots):
    tolvan = patient_client(personas.tolvan)
    assert book(tolvan, unit, slots[2]).status_code == 302  # Friday: may still be cancelled online
    choices = tolvan.get(f"/bookings/book/{unit.pk}/").text
    assert "Redan bokad" in choices and slots_url(unit, visit) not in choices  # said before choosing a time
    assert "Redan bokad" in tolvan.get(slots_url(unit, visit)).text
    confirm = tolvan.get(f"/bookings/book/{unit.pk}/slot/{slots[8].pk}/").text
    assert "Redan bokad" in confirm and 'type="submit">Boka<' not in confirm
    refused = book(tolvan, unit, slots[8], key="k2")  # a crafted request is still refused
    assert refused.status_code == 400 and "Det finns redan en kommande tid av det här slaget" in refused.text
    assert Booking.objects.filter(patient=personas.tolvan, status=BookingStatus.ACTIVE).count() == 1
    # Liam's own limit is his: his guardian books him one although she has one herself.
    anna = patient_client(personas.guardian)
    assert book(anna, unit, slots[3], key="own").status_code == 302
    anna.post("/acting-for/", {"subject": str(personas.child_9.pk)})
    assert book(anna, unit, slots[4], key="liam").status_code == 302
    # A time the unit booked by phone does not count; cancelling frees the place.
    by_phone = Slot.objects.filter(pk=slots[5].pk)
    by_phone.update(channel=Channel.PHONE_ONLY)
    booking_create_by_staff(slot_id=slots[5].pk, unit=unit, patient=personas.other_patient, staff=personas.staff_x)
    other = patient_client(personas.other_patient)
    assert book(other, unit, slots[6]).status_code == 302
    mine = Booking.objects.get(patient=personas.tolvan, status=BookingStatus.ACTIVE)
    tolvan.post(f"/bookings/{mine.pk}/cancel/")
    assert book(tolvan, unit, slots[7], key="k3").status_code == 302


def test_the_unit_may_allow_more_than_one(personas, unit, visit, slots):
    BookingSettings.objects.filter(unit=unit).update(online_bookings_per_visit_type=2)
    tolvan = patient_client(personas.tolvan)
    assert [book(tolvan, unit, slots[n], key=str(n)).status_code for n in range(3)] == [302, 302, 400]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case")
def test_two_bookings_of_one_visit_type_sent_at_once_for_one_person_book_one(personas):
    """Two tabs, two times: both wait on the person's row, and the second finds the first."""
    unit = personas.staff_x.memberships.get().unit
    visit = VisitType.objects.create(
        unit=unit, name="Vaccination", duration_minutes=10, professions=["district_nurse"], bookable_online=True
    )
    start = timezone.now() + dt.timedelta(days=3)
    times = [
        Slot.objects.create(
            unit=unit,
            practitioner=personas.staff_x,
            visit_type=visit,
            place="Rum 1",
            starts_at=start + dt.timedelta(minutes=10 * n),
            ends_at=start + dt.timedelta(minutes=10 * (n + 1)),
        )
        for n in range(6)
    ]
    barrier = threading.Barrier(len(times))
    answers: list[str] = []

    def attempt(slot: Slot) -> None:
        try:
            barrier.wait(timeout=30)
            booking_create_online(slot_id=slot.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
            answers.append("booked")
        except BookingRefused as refused:
            answers.append(refused.refusal.name)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(slot,)) for slot in times]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == ["LIMIT_REACHED"] * 5 + ["booked"]
    assert Booking.objects.filter(patient=personas.tolvan, status=BookingStatus.ACTIVE).count() == 1


# --- 18: moving --------------------------------------------------------------------------------------


def _ics(client: Client, booking: Booking) -> str:
    return client.get(f"/bookings/{booking.pk}/calendar.ics").content.decode().replace("\r\n ", "")


def test_move_here_asks_first_and_the_moved_booking_is_the_same_calendar_event(personas, unit, visit, slots):
    slots = with_x(slots, personas)  # a move keeps the practitioner
    tolvan = patient_client(personas.tolvan)
    book(tolvan, unit, slots[2])  # next week: long before the deadline
    first = Booking.objects.get()
    found = re.search(r"UID:(\S+)", _ics(tolvan, first))
    assert found is not None
    uid = found.group(1)
    offered = tolvan.get(f"/bookings/{first.pk}/rebook/").text
    assert f"?slot={slots[4].pk}" in offered
    asked = tolvan.get(f"/bookings/{first.pk}/rebook/?slot={slots[4].pk}").text
    assert "Boka om tiden?" in asked and "torsdag 3 december 2026, 09:00" in asked
    assert "torsdag 10 december 2026, 09:00" in asked
    assert Booking.objects.get().slot == slots[2]  # asking changed nothing
    moved = tolvan.post(f"/bookings/{first.pk}/rebook/", {"slot": str(slots[4].pk), "submission_key": "m"})
    assert moved.status_code == 302
    new = Booking.objects.get(status=BookingStatus.ACTIVE)
    ics = _ics(tolvan, new)
    assert f"UID:{uid}" in ics and "SEQUENCE:1" in ics
    # A second move: the same event again, one version later.
    tolvan.post(f"/bookings/{new.pk}/rebook/", {"slot": str(slots[6].pk), "submission_key": "m2"})
    last = Booking.objects.get(status=BookingStatus.ACTIVE)
    assert f"UID:{uid}" in _ics(tolvan, last) and "SEQUENCE:2" in _ics(tolvan, last)


def test_a_visit_type_that_cannot_be_moved_online_says_why(personas, unit, visit, slots):
    VisitType.objects.filter(pk=visit.pk).update(rebookable_online=False)
    tolvan = patient_client(personas.tolvan)
    book(tolvan, unit, slots[4])  # next week: long before the deadline
    booking = Booking.objects.get()
    for page in (tolvan.get(f"/bookings/{booking.pk}/").text, tolvan.get(f"/bookings/{booking.pk}/rebook/").text):
        assert "låter inte patienter boka om ”Hälsosamtal” via webben" in page
        assert "Ring mottagningen på 040-12 34 50 för att boka om den." in page
    assert f"/bookings/{booking.pk}/rebook/" not in tolvan.get(f"/bookings/{booking.pk}/").text


# --- 22: the fee, the way back, the calendar file -----------------------------------------------------


def test_the_confirmation_shows_the_fee_and_a_way_back(personas, unit, visit, slots):
    tolvan = patient_client(personas.tolvan)
    free = tolvan.get(f"/bookings/book/{unit.pk}/slot/{slots[0].pk}/").text
    assert "Avgiftsfritt" in free
    assert f"{slots_url(unit, visit)}?week=2026-11-26" in free and "Välj en annan tid" in free
    VisitType.objects.filter(pk=visit.pk).update(fee_kronor=200)
    paid = tolvan.get(f"/bookings/book/{unit.pk}/slot/{slots[0].pk}/").text
    assert "200 kronor" in paid and "Avgiftsfritt med frikort" in paid
    book(tolvan, unit, slots[0])
    assert "200 kronor" in tolvan.get(f"/bookings/{Booking.objects.get().pk}/").text


# --- 14.7: calendar links -------------------------------------------------------------------------------


def test_a_calendar_link_needs_a_fresh_login(personas, unit, slots):
    tolvan = patient_client(personas.tolvan)
    session = tolvan.session
    session[AUTHENTICATED_AT] = int(time.time()) - 3600
    session.save()
    assert "Bekräfta med e-legitimation" in tolvan.get("/bookings/calendar/new/").text
    refused = tolvan.post("/bookings/calendar/new/", {"content": "details"})
    assert refused.status_code == 401 and not CalendarFeed.objects.exists()


def test_a_double_click_on_make_the_link_makes_one_link_and_the_link_shown_works(personas, unit, slots):
    tolvan = patient_client(personas.tolvan)
    form = tolvan.get("/bookings/calendar/new/").text
    key = re.search(r'name="form_key" value="([^"]+)"', form)
    assert key is not None
    first = tolvan.post("/bookings/calendar/new/", {"content": "minimal", "form_key": key.group(1)}).text
    second = tolvan.post("/bookings/calendar/new/", {"content": "minimal", "form_key": key.group(1)}).text
    links = re.findall(r"http://testserver(/calendar/[^<\s]+\.ics)", first + second)
    assert len(links) == 2 and links[0] != links[1]
    assert CalendarFeed.objects.filter(owner=personas.tolvan).count() == 1
    assert Client().get(links[1]).status_code == 200  # the answer the browser shows last
    assert Client().get(links[0]).status_code == 404
    again = tolvan.get("/bookings/calendar/new/").text  # a new form makes a second link
    other_key = re.search(r'name="form_key" value="([^"]+)"', again)
    assert other_key is not None and other_key.group(1) != key.group(1)
    tolvan.post("/bookings/calendar/new/", {"content": "details", "form_key": other_key.group(1)})
    assert CalendarFeed.objects.filter(owner=personas.tolvan).count() == 2


def test_a_calendar_link_shows_only_the_time_unless_details_are_chosen_and_it_expires(personas, unit, slots):
    anna = patient_client(personas.guardian)
    anna.post("/acting-for/", {"subject": str(personas.child_9.pk)})
    book(anna, unit, slots[0], key="liam")
    made = anna.post("/bookings/calendar/new/", {}).text  # nothing chosen: the minimal one
    link = re.search(r"http://testserver(/calendar/[^<\s]+\.ics)", made)
    assert link is not None
    url = link.group(1)
    assert "Den fungerar till 25 november 2027" in made and "webcal://" in made and "Kopiera länken" in made
    feed = Client().get(url).content.decode().replace("\r\n ", "")
    assert "SUMMARY:Vårdbesök" in feed and "BEGIN:VALARM" in feed
    for secret in ("Lindängen", "Hälsosamtal", "Liam", "Rum 4"):
        assert secret not in feed
    logged = AuditEntry.objects.filter(action="booking.feed.read").get()
    assert (logged.actor_id, logged.patient_id) == (str(personas.guardian.pk), str(personas.child_9.pk))
    assert AuditEntry.objects.filter(action="booking.feed.create", patient_id=str(personas.guardian.pk)).exists()
    listed = anna.get("/bookings/calendar/").text
    assert "Bara tiden och ”Vårdbesök”" in listed and "25 november 2027" in listed
    with time_machine.travel(NOW + dt.timedelta(days=366), tick=False):
        assert Client().get(url).status_code == 404
        listed = patient_client(personas.guardian).get("/bookings/calendar/").text
        assert "Du har ingen kalenderlänk som fungerar." in listed


# --- 21: phone booking names the patient first ------------------------------------------------------------


def _phone_slot(unit: CareUnit, visit: VisitType, staff: Staff) -> Slot:
    at = NOW + dt.timedelta(days=5)
    return Slot.objects.create(
        unit=unit,
        practitioner=staff,
        visit_type=visit,
        place="Rum 4",
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=30),
        channel=Channel.PHONE_ONLY,
    )


def test_phone_booking_asks_is_this_right_and_says_whether_a_reminder_goes(personas, unit, visit):
    slot = _phone_slot(unit, visit, personas.staff_x)
    nurse = staff_client(personas.staff_x)
    url = f"/staff/units/{unit.pk}/appointments/slots/{slot.pk}/"
    Patient.objects.filter(pk=personas.other_patient.pk).update(mobile="", notify_by_sms=False)
    check = nurse.post(url, {"personnummer": personas.other_patient.personnummer, "submission_key": "a"})
    assert check.status_code == 200 and "Stämmer det?" in check.text
    assert personas.other_patient.full_name in check.text and "Inget: ingen sms-påminnelse kan skickas" in check.text
    assert 'name="sms_reminder"' not in check.text and not Booking.objects.exists()
    looked = AuditEntry.objects.get(action="booking.patient_check")
    assert (looked.actor_id, looked.patient_id, looked.unit_id) == (
        str(personas.staff_x.pk),
        str(personas.other_patient.pk),
        str(unit.pk),
    )
    done = nurse.post(
        url,
        {"personnummer": personas.other_patient.personnummer, "submission_key": "a", "confirm": "yes"},
        follow=True,
    )
    assert "Ingen sms-påminnelse skickas: patienten har inget mobilnummer." in done.text
    assert not Booking.objects.get().sms_reminder


def test_phone_booking_offers_the_reminder_to_a_patient_with_a_mobile(personas, unit, visit):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile="070-123 45 67")
    slot = _phone_slot(unit, visit, personas.staff_x)
    nurse = staff_client(personas.staff_x)
    url = f"/staff/units/{unit.pk}/appointments/slots/{slot.pk}/"
    check = nurse.post(url, {"personnummer": "191212121212", "submission_key": "b"})
    assert 'name="sms_reminder"' in check.text
    done = nurse.post(
        url,
        {"personnummer": "191212121212", "submission_key": "b", "confirm": "yes", "sms_reminder": "on"},
        follow=True,
    )
    assert "En sms-påminnelse skickas 24 timmar före." in done.text and Booking.objects.get().sms_reminder


# --- 20: phone-only times opened to the web ---------------------------------------------------------------


def test_staff_open_a_phone_only_time_and_a_day_to_the_web_and_the_schedule_stays(personas, unit, visit):
    block = ScheduleTemplate.objects.create(
        unit=unit,
        practitioner=personas.staff_x,
        visit_type=visit,
        weekday=3,
        start_time=dt.time(9),
        end_time=dt.time(11),
        place="Rum 4",
        channel=Channel.PHONE_ONLY,
    )
    slots_generate(unit, today=NOW.date())
    thursday = list(Slot.objects.filter(starts_at__date=dt.date(2026, 11, 26)).order_by("starts_at"))
    thursday[3].held_back = HeldBack.MEDICAL
    thursday[3].save(update_fields=["held_back"])
    nurse = staff_client(personas.staff_x)
    release = f"/staff/units/{unit.pk}/appointments/release/"
    assert (
        "Öppna tiden för webbokning" in nurse.get(f"/staff/units/{unit.pk}/appointments/slots/{thursday[0].pk}/").text
    )
    assert nurse.post(release, {"slot": str(thursday[0].pk)}).status_code == 302
    assert Slot.objects.get(pk=thursday[0].pk).channel == Channel.ONLINE_AND_PHONE
    tolvan = patient_client(personas.tolvan)
    assert f"/slot/{thursday[0].pk}/" in tolvan.get(slots_url(unit, visit)).text
    book_page = nurse.get(f"/staff/units/{unit.pk}/appointments/?date=2026-11-26").text
    assert "Öppna 2 telefontider för webbokning" in book_page  # the held-back time is not offered
    nurse.post(release, {"day": "2026-11-26"})
    channels = [Slot.objects.get(pk=s.pk).channel for s in thursday]
    assert channels == [Channel.ONLINE_AND_PHONE] * 3 + [Channel.PHONE_ONLY]
    block.refresh_from_db()
    assert block.channel == Channel.PHONE_ONLY  # later weeks stay phone-only
    assert Slot.objects.filter(starts_at__date=dt.date(2026, 12, 3), channel=Channel.PHONE_ONLY).count() == 4
    logged = AuditEntry.objects.filter(action="booking_setup.change", unit_id=str(unit.pk))
    assert [e.patient_id for e in logged] == ["", ""] and "day 2026-11-26" in logged.order_by("sequence")[1].detail
    # Another unit's staff find nothing.
    assert staff_client(personas.nurse_elsewhere).post(release, {"slot": str(thursday[3].pk)}).status_code == 404


def test_staff_release_a_time_kept_for_patients_to_phone_booking_early(personas, unit, visit, slots):
    """The 48-hour rule releases web times to staff by itself; staff may release one time, or a day,
    earlier by hand. The time stays open online."""
    book_page = staff_client(personas.staff_x).get(f"/staff/units/{unit.pk}/appointments/?date=2026-12-04").text
    assert "Släpp 2 webbtider till telefonbokning nu" in book_page
    nurse = staff_client(personas.staff_x)
    kept = Slot.objects.filter(starts_at__date=dt.date(2026, 12, 3)).order_by("starts_at")[0]  # next Thursday
    page = nurse.get(f"/staff/units/{unit.pk}/appointments/slots/{kept.pk}/").text
    assert "Släpp tiden till telefonbokning nu" in page
    url = f"/staff/units/{unit.pk}/appointments/slots/{kept.pk}/"
    before = nurse.post(url, {"personnummer": "191212121212", "submission_key": "a", "confirm": "yes"})
    assert before.status_code == 400 and not Booking.objects.exists()  # kept for patients: refused
    release = f"/staff/units/{unit.pk}/appointments/release/"
    assert nurse.post(release, {"slot": str(kept.pk), "to": "phone"}).status_code == 302
    assert nurse.post(url, {"personnummer": "191212121212", "submission_key": "b", "confirm": "yes"}).status_code == 302
    assert Booking.objects.get().slot == kept
    # A day: the rest of next Thursday's and Friday's times are untouched until released.
    nurse.post(release, {"day": "2026-12-04", "to": "phone"})
    released = Slot.objects.filter(released_to_staff=True).order_by("starts_at")
    assert [s.starts_at.astimezone(STOCKHOLM).date() for s in released] == [dt.date(2026, 12, 3)] + [
        dt.date(2026, 12, 4)
    ] * 2
    assert all(s.channel == Channel.ONLINE_AND_PHONE for s in released)  # still open online
    details = list(AuditEntry.objects.filter(action="booking_setup.change").values_list("detail", flat=True))
    assert any("time" in d for d in details) and any("day 2026-12-04" in d for d in details)
