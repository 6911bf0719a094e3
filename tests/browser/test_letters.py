"""Brev in a browser: a resident chooses digital letters, gets the appointment letter of a booking in
Brev (unread, then read), and cancels the appointment from the letter. axe runs on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from vardkontakt.booking.models import Booking, BookingSettings, BookingStatus, Slot, VisitType
from vardkontakt.booking.services import booking_create_online
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient
from vardkontakt.letters.models import Letter, Paper
from vardkontakt.letters.services import cutoff_of, letters_issue
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db(transaction=True)
TOLVAN_ID = "19121212-1212"


def issue_now(unit: CareUnit) -> None:
    """The day's run whose window holds the present moment (today's, or tomorrow's after 18:00)."""
    now = timezone.now()
    today = now.astimezone(STOCKHOLM).date()
    day = today if now <= cutoff_of(today, 18) else today + dt.timedelta(days=1)
    letters_issue(region=unit.administration.region, day=day, now=now)


def test_digital_letters_chosen_a_letter_read_and_the_visit_cancelled_from_it(ui, personas):
    unit = CareUnit.objects.get(name="Vårdcentralen Lindängen")
    BookingSettings.objects.create(unit=unit)
    visit = VisitType.objects.create(
        unit=unit, name="Hälsosamtal", duration_minutes=30, professions=["district_nurse"], bookable_online=True
    )
    start = (timezone.now() + dt.timedelta(days=10)).replace(second=0, microsecond=0)
    slot = Slot.objects.create(
        unit=unit,
        practitioner=personas.staff_x,
        visit_type=visit,
        place="Rum 4",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
    )

    ui.login(TOLVAN_ID)
    ui.click("Inställningar", role="link")
    ui.page.get_by_label("Digitala brev i stället för papper").check()
    ui.click("Spara inställningar")
    assert Patient.objects.get(pk=personas.tolvan.pk).digital_letters

    booking = booking_create_online(slot_id=slot.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    Booking.objects.filter(pk=booking.pk).update(created_at=timezone.now() - dt.timedelta(minutes=1))
    issue_now(unit)
    letter = Letter.objects.get(patient=personas.tolvan)
    assert letter.digital and letter.paper == Paper.NONE  # her choice: Brev, not paper

    ui.goto("/patient/")
    ui.click("Brev", role="link")
    expect(ui.page.get_by_role("main")).to_contain_text("Oläst")
    ui.click("Kallelse", role="link")
    main = ui.page.get_by_role("main")
    expect(main).to_contain_text("Välkommen till Vårdcentralen Lindängen.")
    expect(main).to_contain_text("Hälsosamtal")
    letter.refresh_from_db()
    assert letter.read_at is not None
    ui.click("Avboka tiden", role="link")
    ui.click("Ja, avboka")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    ui.goto("/letters/")
    expect(ui.page.get_by_role("main")).not_to_contain_text("Oläst")


def test_a_unit_administrator_previews_and_saves_the_letter_texts(ui, personas):
    from vardkontakt.letters.models import LetterTemplate

    unit = personas.unit_admin.memberships.get().unit
    ui.login(personas.unit_admin.hsa_id, side="staff")
    ui.goto(f"/staff/units/{unit.pk}/letters/")
    ui.page.locator("#id_sv-preparation").fill("Ta med dina mediciner.")
    ui.page.locator("#id_en-preparation").fill("Bring your medicines.")
    ui.click("Förhandsgranska")
    expect(ui.page.get_by_role("region", name="Förhandsgranskning på svenska")).to_contain_text(
        "Ta med dina mediciner."
    )
    assert not LetterTemplate.objects.exists()
    ui.click("Spara brevtexterna")
    expect(ui.page.get_by_text("Brevtexterna är sparade.")).to_be_visible()
    assert LetterTemplate.objects.get(unit=unit, language="en").preparation == "Bring your medicines."
