"""External appointments in "Mina bokningar": beside the platform's own bookings, marked with the
booking system they come from; a resident's cancel or rebook request goes back to that system and
the appointment says "Avbokning begärd" until the system answers by updating it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.booking.helpers import sv, text_of
from tests.helpers import login_as
from vardkontakt.access.audit import Actor
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.external import ExternalSent, external_appointments_upsert
from vardkontakt.booking.external_models import (
    AppointmentChange,
    ExternalAppointment,
    ExternalAppointmentRequest,
    RequestStatus,
)
from vardkontakt.identity.models import Patient, User

pytestmark = pytest.mark.django_db
SOURCE = Actor("system", "pasis", "Källsystem PASiS (pasis)")


def resident(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def publish(
    patient: Patient, unit, *, identifier: str = "urn:pasis|1", status: str = "booked", days: float = 10, **more
):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=days)
    sent = ExternalSent(
        identifier=identifier,
        patient=patient,
        unit=unit,
        status=status,
        starts_at=more.pop("starts_at", start),
        ends_at=more.pop("ends_at", start + dt.timedelta(minutes=30)),
        service_type="Röntgen, lungor",
        practitioner_role="Röntgensjuksköterska",
        **more,
    )
    (done,) = external_appointments_upsert(
        source_system="pasis", source_name="PASiS", sent=[sent], units=None, actor=SOURCE
    )
    return done.row


@pytest.fixture
def lindangen(personas):
    return personas.unit_admin.memberships.get().unit


def ask(
    client: Client, appointment: ExternalAppointment, kind: str = "cancel", form_key: str | None = None, note: str = ""
):
    return client.post(
        reverse("booking:external_request", args=[appointment.pk]),
        {"kind": kind, "form_key": form_key or uuid.uuid4().hex, "note": note},
    )


def test_mina_bokningar_shows_the_external_appointment_with_its_source(personas, lindangen):
    publish(personas.tolvan, lindangen)
    page = text_of(resident(personas.tolvan).get(reverse("booking:mine")))
    assert "Röntgen, lungor" in page
    assert sv("From %(source)s") % {"source": "PASiS"} in page  # "Från PASiS"
    assert lindangen.name in page
    entry = AuditEntry.objects.filter(action="booking.list.read").latest("sequence")
    assert entry.patient_id == str(personas.tolvan.pk)


def test_an_appointment_withdrawn_as_entered_in_error_is_not_shown(personas, lindangen):
    publish(personas.tolvan, lindangen, status="entered-in-error")
    page = text_of(resident(personas.tolvan).get(reverse("booking:mine")))
    assert "Röntgen, lungor" not in page


def test_its_page_is_logged_and_another_residents_is_not_found(personas, lindangen):
    appointment = publish(personas.tolvan, lindangen)
    mine = resident(personas.tolvan).get(reverse("booking:external_detail", args=[appointment.pk]))
    assert mine.status_code == 200
    assert "PASiS" in text_of(mine)
    assert AuditEntry.objects.filter(action="booking.external.read", object_id=str(appointment.pk)).count() == 1
    theirs = resident(personas.other_patient).get(reverse("booking:external_detail", args=[appointment.pk]))
    assert theirs.status_code == 404
    assert ask(resident(personas.other_patient), appointment).status_code == 404
    assert not ExternalAppointmentRequest.objects.exists()


def test_a_guardian_sees_and_asks_for_a_child_under_the_age(personas, lindangen):
    appointment = publish(personas.child_9, lindangen)
    guardian = resident(personas.guardian)
    assert guardian.get(reverse("booking:external_detail", args=[appointment.pk])).status_code == 200
    assert ask(guardian, appointment).status_code == 302
    request = ExternalAppointmentRequest.objects.get()
    assert request.asked_by == personas.guardian
    entry = AuditEntry.objects.get(action="booking.external.request")
    assert (entry.patient_id, entry.on_behalf_of_id) == (str(personas.child_9.pk), str(personas.child_9.pk))


def test_a_cancel_request_shows_until_the_source_cancels(personas, lindangen):
    appointment = publish(personas.tolvan, lindangen)
    client = resident(personas.tolvan)
    answer = ask(client, appointment, "cancel")
    assert answer.status_code == 302
    page = text_of(client.get(reverse("booking:mine")))
    assert sv("Cancellation requested") in page
    detail = text_of(client.get(reverse("booking:external_detail", args=[appointment.pk])))
    assert sv("Cancellation requested") in detail
    assert sv("Send the request") not in detail  # asked once; nothing more to ask until answered
    change = AppointmentChange.objects.get()
    assert (change.kind, change.external, change.source_system) == ("cancel-requested", appointment, "pasis")
    # The source confirms by cancelling: the request is done and the appointment cancelled.
    publish(
        personas.tolvan, lindangen, status="cancelled", starts_at=appointment.starts_at, ends_at=appointment.ends_at
    )
    request = ExternalAppointmentRequest.objects.get()
    assert request.status == RequestStatus.DONE
    assert request.answered_at is not None
    page = text_of(client.get(reverse("booking:mine")))
    assert sv("Cancellation requested") not in page


def test_a_rebook_request_is_done_when_the_source_moves_it(personas, lindangen):
    appointment = publish(personas.tolvan, lindangen)
    ask(resident(personas.tolvan), appointment, "rebook", note="Helst tisdagar")
    request = ExternalAppointmentRequest.objects.get()
    assert (request.kind, request.note) == ("rebook", "Helst tisdagar")
    # An update that does not move it leaves the request open.
    publish(
        personas.tolvan,
        lindangen,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        patient_instruction="Fasta",
    )
    assert ExternalAppointmentRequest.objects.get().status == RequestStatus.OPEN
    later = appointment.starts_at + dt.timedelta(days=2)
    publish(personas.tolvan, lindangen, starts_at=later, ends_at=later + dt.timedelta(minutes=30))
    assert ExternalAppointmentRequest.objects.get().status == RequestStatus.DONE


def test_a_double_click_asks_once_and_a_second_request_is_refused_in_words(personas, lindangen):
    appointment = publish(personas.tolvan, lindangen)
    client = resident(personas.tolvan)
    key = uuid.uuid4().hex
    assert ask(client, appointment, form_key=key).status_code == 302
    assert ask(client, appointment, form_key=key).status_code == 302
    assert ExternalAppointmentRequest.objects.count() == 1
    assert AppointmentChange.objects.count() == 1
    again = ask(client, appointment, "rebook")
    assert again.status_code == 400
    assert sv("You have already asked the unit about this appointment. The unit answers by changing it.") in text_of(
        again
    )
    assert ExternalAppointmentRequest.objects.count() == 1


def test_nothing_is_asked_of_a_cancelled_or_past_appointment(personas, lindangen):
    cancelled = publish(personas.tolvan, lindangen, identifier="urn:pasis|c", status="cancelled")
    past = publish(personas.tolvan, lindangen, identifier="urn:pasis|p", days=-1)
    client = resident(personas.tolvan)
    for appointment in (cancelled, past):
        answer = ask(client, appointment)
        assert answer.status_code == 400
        assert sv("The appointment is no longer coming, so there is nothing to cancel or move.") in text_of(answer)
    assert not ExternalAppointmentRequest.objects.exists()
    assert ask(client, publish(personas.tolvan, lindangen, identifier="urn:pasis|k"), kind="drop").status_code == 404


def test_the_request_pages_refuse_get_and_staff(personas, lindangen):
    appointment = publish(personas.tolvan, lindangen)
    assert resident(personas.tolvan).get(reverse("booking:external_request", args=[appointment.pk])).status_code == 405
    staff = login_as(Client(), User.objects.get_or_create_for_staff(personas.staff_x))
    assert staff.get(reverse("booking:external_detail", args=[appointment.pk])).status_code == 403
