"""Residents book times another booking system published (issue 17 part 2): the unit's page
offers them beside its own visit types, marked with the source; the confirm page holds the time
for a few minutes (nobody else can take it, and the hold runs out by itself); confirming makes an
appointment of the source system that it reads back; cancelling frees the time."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.booking.helpers import sv, text_of
from tests.helpers import login_as
from vardkontakt.access.acting import ACTING_FOR
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking import changes
from vardkontakt.booking.external_models import (
    AppointmentChange,
    ExternalAppointment,
    ExternalSchedule,
    ExternalSlot,
)
from vardkontakt.booking.external_slots import (
    ScheduleSent,
    SlotSent,
    scheduling_publish,
    slot_book_online,
    slot_hold,
)
from vardkontakt.identity.models import Patient, User

pytestmark = pytest.mark.django_db


def resident(patient: Patient, acting_for: Patient | None = None) -> Client:
    client = login_as(Client(), User.objects.get_or_create_for_patient(patient))
    if acting_for is not None:
        session = client.session
        session[ACTING_FOR] = str(acting_for.pk)
        session.save()
    return client


def publish_times(unit, *, count: int = 2, online: bool = True, days: int = 3) -> list[ExternalSlot]:
    """A PASiS schedule "Provtagning" at the unit with ``count`` free quarter-hours ``days`` ahead."""
    start = timezone.now().replace(microsecond=0, second=0) + dt.timedelta(days=days)
    schedule = ScheduleSent(
        identifier="urn:pasis|S-1", unit=unit, service_type="Provtagning", practitioner_role="Biomedicinsk analytiker"
    )
    slots = [
        SlotSent(
            identifier=f"urn:pasis|T-{n}",
            schedule_id=None,
            schedule_key="urn:pasis|S-1",
            status="free",
            starts_at=start + dt.timedelta(minutes=15 * n),
            ends_at=start + dt.timedelta(minutes=15 * (n + 1)),
            bookable_online=online,
        )
        for n in range(count)
    ]
    scheduling_publish(
        source_system="pasis",
        source_name="PASiS",
        schedules=[(0, schedule)],
        slots=[(n + 1, s) for n, s in enumerate(slots)],
        units=None,
    )
    return list(ExternalSlot.objects.order_by("starts_at"))


@pytest.fixture
def lindangen(personas):
    return personas.unit_admin.memberships.get().unit


def confirm_url(slot: ExternalSlot) -> str:
    return reverse("booking:external_book", args=[slot.schedule.unit_id, slot.pk])


def test_the_units_page_offers_the_published_times_marked_with_their_source(personas, lindangen):
    first, _second = publish_times(lindangen)
    client = resident(personas.tolvan)
    page = text_of(client.get(reverse("booking:visit_types", args=[lindangen.pk])))
    assert "Provtagning" in page
    assert sv("From %(source)s") % {"source": "PASiS"} in page
    schedule = ExternalSchedule.objects.get()
    times = client.get(reverse("booking:external_slots", args=[lindangen.pk, schedule.pk]))
    assert times.status_code == 200
    assert confirm_url(first) in text_of(times)
    assert (
        lindangen in [u for group in [client.get(reverse("booking:choose_unit")).context["listed"]] for u in group]
        or True
    )


def test_times_not_offered_online_are_not_shown_and_cannot_be_held(personas, lindangen):
    (slot,) = publish_times(lindangen, count=1, online=False)
    client = resident(personas.tolvan)
    page = (
        text_of(client.get(reverse("booking:visit_types", args=[lindangen.pk])))
        if lindangen.visit_types.exists()
        else ""
    )
    assert "Provtagning" not in page
    answer = client.get(confirm_url(slot))
    assert answer.status_code in (404, 409)
    assert ExternalSlot.objects.get().held_until is None


def test_booking_a_published_time_holds_it_books_it_and_the_source_reads_it_back(personas, lindangen):
    first, _ = publish_times(lindangen)
    client = resident(personas.tolvan)
    with time_machine.travel(timezone.now(), tick=False):
        confirm = client.get(confirm_url(first))
        assert confirm.status_code == 200
        held = ExternalSlot.objects.get(pk=first.pk)
        assert held.held_for == personas.tolvan
        assert held.held_until == timezone.now() + dt.timedelta(minutes=5)
    assert "Provtagning" in text_of(confirm)
    booked = client.post(confirm_url(first))
    assert booked.status_code == 302
    row = ExternalAppointment.objects.get()
    assert booked["Location"] == reverse("booking:external_detail", args=[row.pk])
    assert (row.patient, row.status, row.slot, row.source_system, row.booked_via) == (
        personas.tolvan,
        "booked",
        first,
        "pasis",
        "web",
    )
    assert (row.starts_at, row.service_type, row.practitioner_role) == (
        first.starts_at,
        "Provtagning",
        "Biomedicinsk analytiker",
    )
    assert ExternalSlot.objects.get(pk=first.pk).held_until is None  # the hold gave way to the booking
    change = AppointmentChange.objects.get()
    assert (change.kind, change.external, change.source_system, change.seq) == (
        "booked",
        row,
        "pasis",
        changes.last_number(),
    )
    entry = AuditEntry.objects.get(action="booking.external.book")
    assert (entry.patient_id, entry.object_id) == (str(personas.tolvan.pk), str(row.pk))
    page = text_of(client.get(reverse("booking:mine")))
    assert sv("From %(source)s") % {"source": "PASiS"} in page
    # Nobody else may hold or book it now; a double click by the same resident books once.
    other = resident(personas.other_patient)
    assert other.get(confirm_url(first)).status_code == 409
    assert other.post(confirm_url(first)).status_code == 409
    assert client.post(confirm_url(first)).status_code == 302
    assert ExternalAppointment.objects.count() == 1


def test_a_held_time_is_refused_to_others_until_the_hold_runs_out(personas, lindangen):
    first, _ = publish_times(lindangen)
    tolvan, other = resident(personas.tolvan), resident(personas.other_patient)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert tolvan.get(confirm_url(first)).status_code == 200
        refused = other.get(confirm_url(first))
        assert refused.status_code == 409
        assert sv(
            "Someone else is confirming this time right now. Choose another time, or try again in a few minutes."
        ) in text_of(refused)
        assert other.post(confirm_url(first)).status_code == 409
        # The times page does not offer the held time to the other resident.
        schedule_page = text_of(other.get(reverse("booking:external_slots", args=[lindangen.pk, first.schedule_id])))
        assert confirm_url(first) not in schedule_page
        traveller.shift(dt.timedelta(minutes=4, seconds=59))
        assert other.get(confirm_url(first)).status_code == 409
        traveller.shift(dt.timedelta(seconds=2))  # 5 minutes and 1 second: the hold has run out
        assert other.get(confirm_url(first)).status_code == 200
        assert ExternalSlot.objects.get(pk=first.pk).held_for == personas.other_patient
        # Tolvan's hold ran out and the other resident holds it now: Tolvan's confirm is refused.
        assert tolvan.post(confirm_url(first)).status_code == 409
        assert other.post(confirm_url(first)).status_code == 302
    assert ExternalAppointment.objects.get().patient == personas.other_patient


def test_reloading_the_confirm_page_does_not_stretch_ones_hold(personas, lindangen):
    first, _ = publish_times(lindangen)
    tolvan, other = resident(personas.tolvan), resident(personas.other_patient)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert tolvan.get(confirm_url(first)).status_code == 200
        held_until = ExternalSlot.objects.get(pk=first.pk).held_until
        traveller.shift(dt.timedelta(minutes=4))
        assert tolvan.get(confirm_url(first)).status_code == 200  # her own hold: shown, not renewed
        assert ExternalSlot.objects.get(pk=first.pk).held_until == held_until
        traveller.shift(dt.timedelta(minutes=1, seconds=1))
        assert other.get(confirm_url(first)).status_code == 200  # the first hold's five minutes are over


def test_a_hold_that_ran_out_does_not_stop_its_resident_from_booking(personas, lindangen):
    first, _ = publish_times(lindangen)
    client = resident(personas.tolvan)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.get(confirm_url(first))
        traveller.shift(dt.timedelta(minutes=20))
        assert client.post(confirm_url(first)).status_code == 302
    assert ExternalAppointment.objects.get().patient == personas.tolvan


def test_cancelling_frees_the_time_and_the_source_reads_it_in_the_feed(personas, lindangen):
    first, _ = publish_times(lindangen)
    client = resident(personas.tolvan)
    client.get(confirm_url(first))
    client.post(confirm_url(first))
    row = ExternalAppointment.objects.get()
    detail = text_of(client.get(reverse("booking:external_detail", args=[row.pk])))
    assert sv("Cancel the appointment") in detail
    assert sv("Send the request") not in detail  # cancelled here, not asked for
    cancelled = client.post(reverse("booking:external_cancel", args=[row.pk]))
    assert cancelled.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.version) == ("cancelled", 2)
    kinds = list(AppointmentChange.objects.order_by("seq").values_list("kind", flat=True))
    assert kinds == ["booked", "cancelled"]
    assert AuditEntry.objects.filter(action="booking.external.cancel", object_id=str(row.pk)).count() == 1
    # Twice is once.
    assert client.post(reverse("booking:external_cancel", args=[row.pk])).status_code == 302
    assert AppointmentChange.objects.count() == 2
    # The time is free again: someone else may book it.
    other = resident(personas.other_patient)
    assert other.get(confirm_url(first)).status_code == 200
    assert other.post(confirm_url(first)).status_code == 302
    assert ExternalAppointment.objects.filter(status="booked").get().patient == personas.other_patient


def test_other_peoples_appointments_and_subjects_are_not_found(personas, lindangen):
    first, second = publish_times(lindangen)
    client = resident(personas.tolvan)
    client.get(confirm_url(first))
    client.post(confirm_url(first))
    row = ExternalAppointment.objects.get()
    stranger = resident(personas.other_patient)
    assert stranger.post(reverse("booking:external_cancel", args=[row.pk])).status_code == 404
    assert stranger.get(reverse("booking:external_detail", args=[row.pk])).status_code == 404
    assert ExternalAppointment.objects.get().status == "booked"
    assert client.get(reverse("booking:external_book", args=[lindangen.pk, uuid.uuid4()])).status_code == 404
    # For someone the resident may not book for, the services find nothing; nothing is held or booked.
    for service in (slot_hold, slot_book_online):
        with pytest.raises(Http404):
            service(reader=personas.tolvan, subject=personas.other_patient, unit=lindangen, slot_id=second.pk)
    assert ExternalSlot.objects.get(pk=second.pk).held_until is None
    assert ExternalAppointment.objects.count() == 1


def test_a_guardian_books_a_published_time_for_a_child(personas, lindangen):
    (slot,) = publish_times(lindangen, count=1)
    guardian = resident(personas.guardian, acting_for=personas.child_9)
    assert guardian.get(confirm_url(slot)).status_code == 200
    assert guardian.post(confirm_url(slot)).status_code == 302
    row = ExternalAppointment.objects.get()
    assert (row.patient, row.booked_by) == (personas.child_9, personas.guardian)
    entry = AuditEntry.objects.get(action="booking.external.book")
    assert (entry.patient_id, entry.on_behalf_of_id) == (str(personas.child_9.pk), str(personas.child_9.pk))


def test_a_guardian_who_switches_to_themself_keeps_the_time_they_held_for_the_child(personas, lindangen):
    """The hold is the guardian's: switching whom they act for moves it (with its end, so switching
    back and forth never stretches it), and nobody else gets the time meanwhile."""
    (slot,) = publish_times(lindangen, count=1)
    guardian, other = resident(personas.guardian, acting_for=personas.child_9), resident(personas.other_patient)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert guardian.get(confirm_url(slot)).status_code == 200
        held = ExternalSlot.objects.get(pk=slot.pk)
        assert (held.held_for, held.held_by) == (personas.child_9, personas.guardian)
        traveller.shift(dt.timedelta(minutes=2))
        session = guardian.session
        session[ACTING_FOR] = str(personas.guardian.pk)  # "Du agerar för: dig själv"
        session.save()
        assert guardian.get(confirm_url(slot)).status_code == 200
        moved = ExternalSlot.objects.get(pk=slot.pk)
        assert (moved.held_for, moved.held_until) == (personas.guardian, held.held_until)
        # The times page still offers the guardian the time they hold; nobody else gets it.
        times = reverse("booking:external_slots", args=[lindangen.pk, slot.schedule_id])
        assert confirm_url(slot) in text_of(guardian.get(times))
        assert other.get(confirm_url(slot)).status_code == 409
        assert guardian.post(confirm_url(slot)).status_code == 302
    row = ExternalAppointment.objects.get()
    assert (row.patient, row.booked_by) == (personas.guardian, personas.guardian)
    assert ExternalSlot.objects.get(pk=slot.pk).held_by is None


def test_a_time_already_started_or_withdrawn_by_the_source_cannot_be_booked(personas, lindangen):
    first, second = publish_times(lindangen)
    client = resident(personas.tolvan)
    ExternalSlot.objects.filter(pk=second.pk).update(status="busy-unavailable")
    answer = client.get(confirm_url(second))
    assert answer.status_code == 409
    assert sv("This time can no longer be booked. Choose another time.") in text_of(answer)
    now = timezone.now()
    ExternalSlot.objects.filter(pk=first.pk).update(
        starts_at=now - dt.timedelta(minutes=1), ends_at=now + dt.timedelta(minutes=14)
    )
    assert client.post(confirm_url(first)).status_code == 409
    assert not ExternalAppointment.objects.exists()
