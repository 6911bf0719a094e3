"""Reading back what residents did online: the numbered change feed (Appointment/_history) and the
search by patient and time, each only for the client's units and its own appointments; and on
PostgreSQL, writers committing out of order with a follower that never misses a change."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from tests.booking.helpers import make_slot
from tests.fhir.appointment_helpers import an_appointment, booking_system
from tests.fhir.test_api import Integration
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.external import external_request_create
from vardkontakt.booking.external_models import AppointmentChange, ExternalAppointment
from vardkontakt.booking.models import BookingSettings, VisitType
from vardkontakt.booking.services import booking_cancel, booking_create_online, booking_move_online
from vardkontakt.identity.models import Patient

FEED = "/fhir/Appointment/_history"


@pytest.fixture
def lindangen(personas):
    return personas.unit_admin.memberships.get().unit


@pytest.fixture
def karnan(personas):
    return personas.nurse.memberships.get().unit


@pytest.fixture
def visit(lindangen):
    BookingSettings.objects.get_or_create(unit=lindangen, defaults={"online_bookings_per_visit_type": 60})
    return VisitType.objects.create(
        unit=lindangen,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )


def slot_in(days: int, visit, personas, minutes: int = 0):
    start = timezone.now().replace(microsecond=0, second=0) + dt.timedelta(days=days, minutes=minutes)
    return make_slot(visit.unit, visit, personas.staff_x, start)


def page(system: Integration, since: int = 0, count: int = 100) -> dict:
    answer = system.get(f"{FEED}?_since={since}&_count={count}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def numbers(bundle: dict) -> list[int]:
    return [int(e["extension"][0]["valueString"]) for e in bundle["entry"]]


def kinds(bundle: dict) -> list[str]:
    return [e["extension"][1]["valueCode"] for e in bundle["entry"]]


@pytest.mark.django_db
def test_the_feed_tells_what_a_resident_booked_moved_and_cancelled_in_order(personas, lindangen, visit):
    pmo = booking_system("pmo-lindangen", [lindangen])
    booked = booking_create_online(
        slot_id=slot_in(7, visit, personas).pk, unit=lindangen, subject=personas.tolvan, actor=personas.tolvan
    )
    moved = booking_move_online(booking_id=booked.pk, new_slot_id=slot_in(8, visit, personas).pk, actor=personas.tolvan)
    booking_cancel(booking_id=moved.pk, by_patient=personas.tolvan)
    bundle = page(pmo)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "history"
    assert kinds(bundle) == ["booked", "moved", "cancelled"]
    first, second, third = numbers(bundle)
    assert first < second < third
    # One Appointment for the calendar event: a move keeps its id.
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert ids == {str(booked.event_uid)}
    assert bundle["entry"][2]["resource"]["status"] == "cancelled"
    # The next link reads on from the last number given; nothing new yet.
    follow = bundle["link"][1]["url"]
    assert follow.endswith(f"_since={third}&_count=100")
    assert page(pmo, since=third)["entry"] == []
    # Each patient shown is logged as read by the system.
    read = AuditEntry.objects.filter(action="fhir.read", patient_id=str(personas.tolvan.pk))
    assert read.count() == 1


@pytest.mark.django_db
def test_the_feed_pages_by_count_and_never_repeats(personas, lindangen, visit):
    pmo = booking_system("pmo-lindangen", [lindangen])
    people = list(Patient.objects.order_by("personnummer")[:5])
    for n, person in enumerate(people):
        booking_create_online(
            slot_id=slot_in(7, visit, personas, 30 * n).pk, unit=lindangen, subject=person, actor=person
        )
    seen: list[int] = []
    since = 0
    for _ in range(3):
        bundle = page(pmo, since, count=2)
        seen += numbers(bundle)
        since = int(bundle["link"][1]["url"].split("_since=")[1].split("&")[0])
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.django_db
def test_a_system_sees_its_units_and_its_own_requests_only(personas, lindangen, karnan, visit):
    pasis = booking_system("pasis-lindangen", [lindangen])
    pmo = booking_system("pmo-lindangen", [lindangen])
    elsewhere = booking_system("pasis-karnan", [karnan])
    pasis.post("/fhir/Appointment", an_appointment(unit_hsa=lindangen.hsa_id))
    appointment = ExternalAppointment.objects.get()
    external_request_create(appointment_id=appointment.pk, actor=personas.tolvan, kind="cancel")
    booking_create_online(
        slot_id=slot_in(7, visit, personas).pk, unit=lindangen, subject=personas.tolvan, actor=personas.tolvan
    )
    assert kinds(page(pasis)) == ["cancel-requested", "booked"]
    request_entry = page(pasis)["entry"][0]["resource"]
    assert request_entry["id"] == str(appointment.pk)
    assert request_entry["identifier"] == an_appointment(unit_hsa="x")["identifier"]
    assert request_entry["extension"][0]["extension"][0] == {"url": "kind", "valueCode": "cancel"}
    assert kinds(page(pmo)) == ["booked"]  # another system's request is not its business
    assert page(elsewhere)["entry"] == []  # another unit's book neither


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["_since=-1", "_since=abc", "_count=x", "since=3", "_since=1234567890123456789012"])
def test_bad_feed_parameters_are_refused(personas, lindangen, query):
    pmo = booking_system("pmo-lindangen", [lindangen])
    answer = pmo.get(f"{FEED}?{query}")
    assert answer.status_code == 400
    assert answer.json()["resourceType"] == "OperationOutcome"


@pytest.mark.django_db
def test_the_feed_needs_a_token_and_the_read_scope(personas, lindangen):
    from django.test import Client

    assert Client().get(FEED).status_code == 401
    writer = booking_system("pasis-writer", [lindangen], scopes=["system/Appointment.write"])
    assert writer.get(FEED).status_code == 403


@pytest.mark.django_db
def test_search_by_patient_and_last_updated(personas, lindangen, visit):
    pasis = booking_system("pasis-lindangen", [lindangen])
    booking_create_online(
        slot_id=slot_in(7, visit, personas).pk, unit=lindangen, subject=personas.tolvan, actor=personas.tolvan
    )
    pasis.post("/fhir/Appointment", an_appointment(unit_hsa=lindangen.hsa_id))
    everything = pasis.get(f"/fhir/Appointment?patient=Patient/{personas.tolvan.pk}")
    assert everything.status_code == 200
    Bundle.model_validate(everything.json())
    assert everything.json()["total"] == 2
    later = (timezone.now() + dt.timedelta(seconds=1)).isoformat()
    nothing_since = pasis.get(
        "/fhir/Appointment?" + urlencode({"patient": str(personas.tolvan.pk), "_lastUpdated": f"gt{later}"})
    )
    assert nothing_since.json()["total"] == 0
    someone_else = pasis.get(f"/fhir/Appointment?patient={personas.other_patient.pk}")
    assert someone_else.json()["total"] == 0
    for bad in ("patient=191212121212", "patient=x&_lastUpdated=gt2026", "", "name=Tolvan"):
        assert pasis.get(f"/fhir/Appointment?{bad}").status_code == 400, bad
    assert (
        pasis.get(
            "/fhir/Appointment?"
            + urlencode({"patient": str(personas.tolvan.pk), "_lastUpdated": "lt2026-01-01T00:00:00Z"})
        ).status_code
        == 400
    )
    assert (
        pasis.get(
            "/fhir/Appointment?"
            + urlencode({"patient": str(personas.tolvan.pk), "_lastUpdated": "gt2026-01-01T00:00:00"})
        ).status_code
        == 400
    )


@pytest.mark.django_db
def test_a_platform_booking_reads_by_its_event_id_at_the_clients_units_only(personas, lindangen, karnan, visit):
    booked = booking_create_online(
        slot_id=slot_in(7, visit, personas).pk, unit=lindangen, subject=personas.tolvan, actor=personas.tolvan
    )
    mine = booking_system("pmo-lindangen", [lindangen])
    read = mine.get(f"/fhir/Appointment/{booked.event_uid}")
    assert read.status_code == 200
    assert read.json()["status"] == "booked"
    assert booking_system("pmo-karnan", [karnan]).get(f"/fhir/Appointment/{booked.event_uid}").status_code == 404
    assert mine.get(f"/fhir/Appointment/{uuid.uuid4()}").status_code == 404
    assert mine.get("/fhir/Appointment/not-an-id").status_code == 404


# --- PostgreSQL: writers committing out of order, a follower that never misses ----------------------

WRITERS = 24
on_postgresql = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.many_connections,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case"),
]


def follow_while(system: Integration, since: int, writers: list[threading.Thread]) -> list[int]:
    """Start the writers and follow the feed from ``since`` all along, page by page from the last
    number given, until the writers are done and a page after that is empty: the numbers seen."""
    done = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        cursor = since
        try:
            while True:
                finished = done.is_set()  # read before the page: a page after the end sees everything
                got = numbers(page(system, cursor, count=5))
                seen.extend(got)
                if got:
                    cursor = got[-1]
                elif finished:
                    return
        finally:
            connection.close()

    follower = threading.Thread(target=follow)
    follower.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    follower.join(timeout=120)
    return seen


def all_at_once(work) -> tuple[list[threading.Thread], list[BaseException]]:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            work(n)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    return [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)], errors


def jitter(most: float) -> None:
    time.sleep(random.uniform(0, most))  # noqa: S311 (a test's jitter, not a secret)


@pytest.mark.usefixtures("personas")
@pytest.mark.parametrize("_", [pytest.param(None, marks=on_postgresql)])
def test_numbers_commit_in_order_however_the_transactions_interleave(lindangen, visit, personas, _):
    """The numbering on its own: two dozen transactions each take a number at a random moment and
    linger a random while before they commit (nothing else orders them). The follower must see
    every change exactly once, in order, with no gaps. With numbers from a plain sequence this
    fails: a lingering transaction's smaller number commits after the follower has passed it."""
    from vardkontakt.booking.changes import booking_change_record
    from vardkontakt.booking.external_models import ChangeKind

    pmo = booking_system("pmo-lindangen", [lindangen])
    people = list(Patient.objects.order_by("personnummer")[:WRITERS])
    bookings = [
        booking_create_online(slot_id=slot_in(7, visit, personas, 30 * n).pk, unit=lindangen, subject=p, actor=p)
        for n, p in enumerate(people)
    ]
    start = AppointmentChange.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def work(n: int) -> None:
        jitter(1.0)  # spread over a second, while the follower reads page after page
        with transaction.atomic():
            booking_change_record(booking=bookings[n], kind=ChangeKind.CANCELLED, now=timezone.now())
            jitter(0.2)

    writers, errors = all_at_once(work)
    seen = follow_while(pmo, start, writers)
    assert not errors, errors
    committed = list(AppointmentChange.objects.filter(seq__gt=start).order_by("seq").values_list("seq", flat=True))
    assert committed == list(range(start + 1, start + 1 + WRITERS))  # every number, no gaps
    assert seen == committed  # every change seen once, in order


@pytest.mark.usefixtures("personas")
@pytest.mark.parametrize("_", [pytest.param(None, marks=on_postgresql)])
def test_a_follower_never_misses_a_booking_made_at_once_by_many(lindangen, visit, personas, _):
    """End to end: two dozen residents book at once, each inside a caller's transaction that
    lingers after the booking; a booking system following the feed sees each booking once, in order."""
    pmo = booking_system("pmo-lindangen", [lindangen])
    people = list(Patient.objects.order_by("personnummer")[:WRITERS])
    slots = [slot_in(7, visit, personas, 30 * n) for n in range(WRITERS)]

    def work(n: int) -> None:
        with transaction.atomic():
            booking_create_online(slot_id=slots[n].pk, unit=lindangen, subject=people[n], actor=people[n])
            jitter(0.05)

    writers, errors = all_at_once(work)
    seen = follow_while(pmo, 0, writers)
    assert not errors, errors
    committed = list(AppointmentChange.objects.order_by("seq").values_list("seq", flat=True))
    assert len(committed) == WRITERS
    assert seen == committed
