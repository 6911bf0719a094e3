"""An earlier time in a browser (issue 17 part 3): a resident asks for one, another resident
cancels an earlier booking, the offer appears on the first one's start page, and taking it moves
the booking. axe runs on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.booking.helpers import at, make_slot
from tests.browser.conftest import UI
from vardkontakt.booking.models import Booking, BookingSettings, BookingStatus, EarlierTimeOffer, VisitType
from vardkontakt.booking.services import booking_create_online
from vardkontakt.core.calendar import STOCKHOLM

pytestmark = pytest.mark.django_db(transaction=True)


def _main(ui: UI):
    return ui.page.get_by_role("main")


def _open_booking(ui: UI, starts_at: dt.datetime) -> None:
    ui.click("Tidbokning", role="link")
    when = starts_at.astimezone(STOCKHOLM)
    ui.click(re.compile(rf"{when.day} \w+ {when.year}, {when:%H:%M}"), role="link")  # type: ignore[arg-type]


def test_a_resident_asks_for_an_earlier_time_and_takes_the_one_another_gives_up(ui, browser, site, personas):
    unit = personas.staff_x.memberships.get().unit
    BookingSettings.objects.create(unit=unit, offer_claim_hours=2)
    visit = VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )
    today = timezone.localdate()
    early = make_slot(unit, visit, personas.staff_x, at(today + dt.timedelta(days=5), 9))
    later = make_slot(unit, visit, personas.staff_x, at(today + dt.timedelta(days=12), 9))
    others = booking_create_online(
        slot_id=early.pk, unit=unit, subject=personas.other_patient, actor=personas.other_patient
    )
    tolvans = booking_create_online(slot_id=later.pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)

    # Tolvan asks for an earlier time, with the same nurse only.
    ui.login(personas.tolvan.personnummer)
    _open_booking(ui, later.starts_at)
    expect(_main(ui).get_by_role("heading", name="Skulle en tidigare tid passa bättre?")).to_be_visible()
    _main(ui).get_by_label(f"Bara tider hos {personas.staff_x.full_name}").check()
    ui.click("Be om en tidigare tid")
    expect(ui.page.get_by_text("Du står i kön.")).to_be_visible()
    expect(_main(ui).get_by_role("heading", name="Väntar på en tidigare tid")).to_be_visible()

    # Meanwhile another resident, in a browser of their own, cancels the earlier time.
    context = browser.new_context(bypass_csp=True, locale="sv-SE")
    context.set_default_timeout(10_000)
    other = UI(page=context.new_page(), base=site)
    try:
        other.login(personas.other_patient.personnummer)
        _open_booking(other, early.starts_at)
        other.click("Avboka tiden", role="link")
        other.click("Ja, avboka")
        expect(other.page.get_by_role("main")).to_contain_text("Inga kommande tider.")
    finally:
        context.close()
    others.refresh_from_db()
    assert others.status == BookingStatus.CANCELLED

    # The offer is on Tolvan's start page; it leads to her booking, where she takes the time.
    ui.goto("/patient/")
    ui.click(re.compile("En tidigare tid erbjuds dig"), role="link")
    offer = _main(ui).locator("#earlier-offer")
    expect(offer.get_by_role("heading", name="En tidigare tid erbjuds dig")).to_be_visible()
    expect(offer).to_contain_text(early.starts_at.astimezone(STOCKHOLM).strftime("%H:%M"))
    assert Booking.objects.get(pk=tolvans.pk).status == BookingStatus.ACTIVE  # nothing moves before she says so
    ui.click("Ta den tidigare tiden")
    expect(ui.page.get_by_text("Tiden är flyttad till den tidigare tiden.")).to_be_visible()
    moved = Booking.objects.get(patient=personas.tolvan, status=BookingStatus.ACTIVE)
    assert moved.slot == early and moved.rebooked_from_id == tolvans.pk
    assert EarlierTimeOffer.objects.get().status == "claimed"
