"""Letters and reminders of the appointments other booking systems publish (booking.external): the
same day's run, digital or paper, Brev and reminders as the platform's own bookings, with what the
source sent; none from the platform for a source that sends its own letters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from tests.helpers import login_as
from tests.letters.conftest import at, local
from vardkontakt.access.audit import Actor
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.external import ExternalSent, external_appointments_upsert
from vardkontakt.booking.external_models import ExternalAppointment, ExternalStatus
from vardkontakt.booking.models import BookingSettings, VisitType
from vardkontakt.booking.notices import send_due_reminders
from vardkontakt.fees.models import FeeKind, FeeRules, FeeSchedule
from vardkontakt.identity.models import Patient, User
from vardkontakt.letters.models import Letter, LetterKind, Paper, PaperReason, SourceLetters
from vardkontakt.letters.services import letters_issue_due, print_batch_create
from vardkontakt.notifications.messages import render
from vardkontakt.notifications.models import Delivery, Notification, NotificationKind

pytestmark = pytest.mark.django_db

MONDAY = (2026, 11, 30)  # an ordinary Monday in winter time
VISIT = local(2026, 12, 7, 9)  # the Monday after, 09:00
PASIS = Actor("system", "pasis", "Källsystem PASiS (pasis)")


def publish(
    patient: Patient,
    unit,
    *,
    identifier: str = "urn:pasis|1",
    status: str = ExternalStatus.BOOKED,
    starts_at: dt.datetime = VISIT,
    source: str = "pasis",
    service_type: str = "Röntgen, lungor",
    role: str = "Röntgensjuksköterska",
) -> ExternalAppointment:
    """As the source's FHIR send does (fhir/appointments reads it into this), at the frozen clock."""
    sent = ExternalSent(
        identifier=identifier,
        patient=patient,
        unit=unit,
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        service_type=service_type,
        practitioner_role=role,
        patient_instruction="Kom 15 minuter före och ta med legitimation.",
    )
    (done,) = external_appointments_upsert(
        source_system=source, source_name=source.upper(), sent=[sent], units=None, actor=PASIS
    )
    return done.row


def client_for(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def issue(*when: int) -> int:
    with at(local(*when)):
        return letters_issue_due()


def test_a_published_appointment_gets_its_letter_at_the_issue_hour(unit, personas):
    unit.phone = "040-123 45 67"
    unit.save(update_fields=["phone"])
    with at(local(*MONDAY, 10)):
        row = publish(personas.tolvan, unit)
    assert issue(*MONDAY, 17, 59) == 0
    assert issue(*MONDAY, 18) == 1
    letter = Letter.objects.get()
    assert (letter.kind, letter.external, letter.booking, letter.patient) == (
        LetterKind.APPOINTMENT,
        row,
        None,
        personas.tolvan,
    )
    assert (letter.event_uid, letter.external_version, letter.appointment_at) == (row.pk, 1, VISIT)
    page = letter.html_sv
    for said in (unit.name, "Röntgen, lungor", "Röntgensjuksköterska", "09:00", "040-123 45 67", "Kom 15 minuter"):
        assert said in page, said
    # The platform cannot move it: call the unit, or ask in the e-services (the request goes to the source).
    assert "Ring oss" in page and "avboka" in page.lower()
    # The service names no fee kind: the letter claims no fee at all (not "free of charge").
    assert "Avgift" not in page and "Avgiftsfritt" not in page and "Fee" not in letter.html_en
    assert bytes(letter.pdf).startswith(b"%PDF")
    # Nobody chose digital letters and Tolvan has no registered address: held back from print, named.
    assert (letter.paper, letter.paper_reason) == (Paper.NO_ADDRESS, PaperReason.NOT_DIGITAL)
    notice = Notification.objects.get(kind=NotificationKind.NEW_LETTER)
    assert notice.recipient == personas.tolvan and notice.about_id == str(letter.pk)
    assert issue(*MONDAY, 18, 30) == 0  # the day has run


def test_a_move_the_same_day_is_one_letter_then_a_change_then_a_cancellation(unit, personas):
    with at(local(*MONDAY, 9)):
        publish(personas.tolvan, unit)
    with at(local(*MONDAY, 12)):
        publish(personas.tolvan, unit, starts_at=VISIT + dt.timedelta(hours=1))  # moved by the source
    with at(local(*MONDAY, 15)):
        row = publish(personas.tolvan, unit, starts_at=VISIT + dt.timedelta(hours=2))
    assert issue(*MONDAY, 18, 5) == 1
    first = Letter.objects.get()
    assert first.kind == LetterKind.APPOINTMENT and "11:00" in first.html_sv and "09:00" not in first.html_sv
    assert first.external_version == row.version == 3
    # The source sends the same again the next day: no change, no letter.
    with at(local(2026, 12, 1, 9)):
        publish(personas.tolvan, unit, starts_at=VISIT + dt.timedelta(hours=2))
    assert issue(2026, 12, 1, 18) == 0
    with at(local(2026, 12, 2, 10)):
        publish(personas.tolvan, unit, starts_at=VISIT + dt.timedelta(hours=3))
    assert issue(2026, 12, 2, 18) == 1
    change = Letter.objects.get(kind=LetterKind.CHANGE)
    assert "12:00" in change.html_sv and Letter.objects.filter(current=True).get() == change
    first.refresh_from_db()
    assert first.paper == Paper.SUPERSEDED  # its unprinted paper copy is replaced by the change
    with at(local(2026, 12, 3, 8)):
        publish(personas.tolvan, unit, status=ExternalStatus.CANCELLED, starts_at=VISIT + dt.timedelta(hours=3))
    assert issue(2026, 12, 3, 19) == 1
    cancellation = Letter.objects.get(kind=LetterKind.CANCELLATION)
    assert "inställd" in cancellation.html_sv.lower() or "avbokad" in cancellation.html_sv.lower()
    assert Letter.objects.count() == 3
    assert issue(2026, 12, 4, 18) == 0  # nothing more to tell


def test_published_and_cancelled_within_the_day_or_not_yet_booked_sends_nothing(unit, personas):
    with at(local(*MONDAY, 9)):
        publish(personas.tolvan, unit)
        publish(personas.tolvan, unit, identifier="urn:pasis|2", status=ExternalStatus.PROPOSED)
    with at(local(*MONDAY, 11)):
        publish(personas.tolvan, unit, status=ExternalStatus.CANCELLED)
    assert issue(*MONDAY, 18) == 0
    assert not Letter.objects.exists()


def test_a_source_that_sends_its_own_letters_gets_none_from_the_platform(unit, personas, capsys):
    call_command("letters_source", "flexbok", "--own-letters")
    assert "sends its own letters" in capsys.readouterr().out
    entry = AuditEntry.objects.filter(action="letters.source.change").get()
    assert entry.detail == "the source sends its own letters"
    with at(local(*MONDAY, 10)):
        publish(personas.tolvan, unit, source="flexbok")
        publish(personas.other_patient, unit, source="pasis", identifier="urn:pasis|9")
    assert issue(*MONDAY, 18) == 1
    assert Letter.objects.get().patient == personas.other_patient
    # Asking again changes nothing and logs nothing; turning it back on applies to the next run.
    call_command("letters_source", "flexbok", "--own-letters")
    assert AuditEntry.objects.filter(action="letters.source.change").count() == 1
    call_command("letters_source", "flexbok", "--platform-letters")
    assert SourceLetters.objects.get(source_system="flexbok").platform_sends_letters
    with at(local(2026, 12, 1, 10)):
        publish(personas.tolvan, unit, source="flexbok", starts_at=VISIT + dt.timedelta(hours=1))
    assert issue(2026, 12, 1, 18) == 1
    assert Letter.objects.filter(patient=personas.tolvan, kind=LetterKind.APPOINTMENT).exists()


def test_the_letter_opened_from_brev_is_read_logged_and_says_call_the_unit(unit, personas):
    unit.phone = "040-123 45 67"
    unit.save(update_fields=["phone"])
    with at(local(*MONDAY, 10)):
        row = publish(personas.tolvan, unit)
    issue(*MONDAY, 18)
    letter = Letter.objects.get()
    client = client_for(personas.tolvan)
    with at(local(2026, 12, 1, 9)):
        assert "Oläst" in client.get("/letters/").text
        page = client.get(f"/letters/{letter.pk}/")
        assert page.status_code == 200
        assert "Oläst" not in client.get("/letters/").text
        pdf = client.get(f"/letters/{letter.pk}/letter.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    letter.refresh_from_db()
    assert letter.read_at == local(2026, 12, 1, 9)
    opened = AuditEntry.objects.filter(action__in=["letter.open", "letter.pdf"], patient_id=personas.tolvan.pk)
    assert sorted(opened.values_list("action", flat=True)) == ["letter.open", "letter.pdf"]
    body = page.text
    assert 'href="tel:040-123 45 67"' in body
    assert f"/bookings/external/{row.pk}/" in body  # where the resident may ask the unit to cancel or move it
    assert "/cancel/" not in body and "/rebook/" not in body


def test_after_the_source_moves_it_the_old_letter_points_to_the_appointments(unit, personas):
    with at(local(*MONDAY, 10)):
        publish(personas.tolvan, unit)
    issue(*MONDAY, 18)
    letter = Letter.objects.get()
    with at(local(2026, 12, 1, 9)):
        publish(personas.tolvan, unit, starts_at=VISIT + dt.timedelta(days=1))
        page = client_for(personas.tolvan).get(f"/letters/{letter.pk}/")
    assert "/bookings/external/" not in page.text and 'href="/bookings/"' in page.text


def test_a_guardian_gets_the_childs_letter_and_a_stranger_gets_404(unit, personas):
    Patient.objects.filter(pk=personas.guardian.pk).update(digital_letters=True)
    with at(local(*MONDAY, 10)):
        publish(personas.child_9, unit)
    issue(*MONDAY, 18)
    letter = Letter.objects.get()
    assert letter.patient == personas.child_9 and letter.digital and letter.paper == Paper.NONE
    told = set(Notification.objects.filter(kind=NotificationKind.NEW_LETTER).values_list("recipient", flat=True))
    assert {personas.guardian.pk, personas.child_9.pk} <= told and personas.tolvan.pk not in told
    with at(local(2026, 12, 1, 9)):
        assert client_for(personas.guardian).get(f"/letters/{letter.pk}/").status_code == 200
    opened = AuditEntry.objects.get(action="letter.open")
    assert (opened.actor_id, opened.patient_id) == (str(personas.guardian.pk), str(personas.child_9.pk))
    before = AuditEntry.objects.count()
    for stranger in (personas.tolvan, personas.other_patient, personas.adult_proxy):
        assert client_for(stranger).get(f"/letters/{letter.pk}/").status_code == 404
        assert client_for(stranger).get(f"/letters/{letter.pk}/letter.pdf").status_code == 404
    assert AuditEntry.objects.count() == before


def test_paper_letters_of_external_appointments_go_in_the_print_batch(unit, personas, print_dir):
    Patient.objects.filter(pk=personas.tolvan.pk).update(
        street_address="Storgatan 1", postal_code="21145", city="Malmö"
    )
    with at(local(*MONDAY, 10)):
        publish(personas.tolvan, unit)
    issue(*MONDAY, 18)
    with at(local(*MONDAY, 19)):
        batch = print_batch_create()
    assert batch is not None and batch.letter_count == 1
    assert Letter.objects.get().paper == Paper.PRINTED


def test_the_fee_comes_from_the_schedule_where_the_service_maps_to_a_fee_kind(unit, personas):
    region = unit.administration.region
    FeeRules.objects.update_or_create(region=region, defaults={"free_under_age": 20, "free_from_age": 0})
    FeeSchedule.objects.update_or_create(
        region=region,
        kind=FeeKind.DOCTOR,
        unit_kind="",
        effective_from=dt.date(MONDAY[0], 1, 1),  # the year of the frozen days below
        defaults={"amount": Decimal(250)},
    )
    VisitType.objects.create(
        unit=unit, name="Läkarbesök", duration_minutes=30, professions=["doctor"], fee_kind=FeeKind.DOCTOR
    )
    with at(local(*MONDAY, 10)):
        publish(personas.tolvan, unit, service_type="läkarbesök", role="Läkare")
    issue(*MONDAY, 18)
    letter = Letter.objects.get()
    assert "250 kronor" in letter.html_sv and "250 kronor" in letter.html_en
    assert "läkare" in letter.html_sv.lower() and "doctor" in letter.html_en  # the role named as a profession


def test_a_reminder_goes_once_by_sms_and_never_for_a_cancelled_one(unit, personas):
    Patient.objects.filter(pk__in=[personas.tolvan.pk, personas.other_patient.pk]).update(
        mobile="+46701234567", digital_letters=True
    )
    with at(local(*MONDAY, 10)):
        publish(personas.tolvan, unit)
        publish(personas.tolvan, unit, identifier="urn:pasis|2", starts_at=VISIT + dt.timedelta(hours=2))
        publish(personas.other_patient, unit, identifier="urn:pasis|3")
    with at(local(2026, 12, 5, 9)):
        publish(personas.tolvan, unit, identifier="urn:pasis|2", status=ExternalStatus.CANCELLED)
        publish(personas.other_patient, unit, identifier="urn:pasis|3", status=ExternalStatus.ENTERED_IN_ERROR)
    with at(VISIT - dt.timedelta(hours=25)):
        assert send_due_reminders() == 0  # not yet
    with at(VISIT - dt.timedelta(hours=23)):
        assert send_due_reminders() == 1
        assert send_due_reminders() == 0  # once
    with at(VISIT - dt.timedelta(hours=1)):
        assert send_due_reminders() == 0
    delivery = Delivery.objects.get(notification__kind=NotificationKind.BOOKING_REMINDER)
    assert delivery.notification.recipient == personas.tolvan
    assert (delivery.channel, delivery.address) == ("sms", "+46701234567")
    text = render(NotificationKind.BOOKING_REMINDER, context=delivery.notification.context).body
    assert "7 december" in text and "09:00" in text
    assert unit.name not in text and "Röntgen" not in text and "PASIS" not in text  # nothing medical, no unit


def test_no_reminder_without_the_digital_choice_and_a_queued_one_is_withdrawn_when_moved(unit, personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(mobile="+46701234567", digital_letters=True)
    Patient.objects.filter(pk=personas.other_patient.pk).update(mobile="+46701234568")  # paper letters only
    BookingSettings.objects.filter(unit=unit).update(reminder_hours=48)
    with at(local(*MONDAY, 10)):
        publish(personas.tolvan, unit)
        publish(personas.other_patient, unit, identifier="urn:pasis|3")
    with at(VISIT - dt.timedelta(hours=30)):
        assert send_due_reminders() == 1
        publish(personas.tolvan, unit, starts_at=VISIT + dt.timedelta(hours=3))  # the source moves it
    old = Delivery.objects.get()
    assert old.status == "withdrawn"
    with at(VISIT - dt.timedelta(hours=20)):
        assert send_due_reminders() == 1  # the new time's reminder
    assert Delivery.objects.filter(status="pending").count() == 1
    assert not Notification.objects.filter(recipient=personas.other_patient, kind=NotificationKind.BOOKING_REMINDER)
