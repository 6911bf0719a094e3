"""Tidbok online in a browser: a resident books, moves and cancels; a guardian books for the
young child and sees the booking among the child's. axe runs on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from vardkontakt.booking.models import Booking, BookingSettings, BookingStatus, ScheduleTemplate, VisitType
from vardkontakt.booking.schedule import slots_generate
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db(transaction=True)
TOLVAN_ID = "19121212-1212"


@pytest.fixture
def bookable(personas) -> CareUnit:
    """Vårdcentralen Lindängen books 'Hälsosamtal' online, weekdays 09-11 with staff X, from next week."""
    unit = CareUnit.objects.get(name="Vårdcentralen Lindängen")
    BookingSettings.objects.create(unit=unit, terms_text="Boka inte för akuta besvär. Ring 112 vid fara för livet.")
    visit = VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )
    for weekday in range(5):
        ScheduleTemplate.objects.create(
            unit=unit,
            practitioner=personas.staff_x,
            visit_type=visit,
            weekday=weekday,
            start_time=dt.time(9),
            end_time=dt.time(11),
            place="Rum 4",
        )
    slots_generate(unit, today=timezone.localdate() + dt.timedelta(days=7))
    return unit


def _main(ui):
    return ui.page.get_by_role("main")


def test_a_resident_books_moves_and_cancels(ui, personas, bookable):
    ui.login(TOLVAN_ID)
    ui.click("Tidbokning", role="link")
    ui.click("Boka tid", role="link")
    ui.click("Vårdcentralen Lindängen", role="link")
    expect(_main(ui)).to_contain_text("Boka inte för akuta besvär.")
    ui.click("Hälsosamtal", role="link")
    first_time = _main(ui).get_by_role("link", name=re.compile(r"^09:00–09:30$")).first
    with ui.page.expect_navigation():
        first_time.click()
    ui.check()
    expect(_main(ui)).to_contain_text("Bekräfta bokningen")
    ui.click("Boka")
    expect(ui.page.get_by_text("Tiden är bokad.")).to_be_visible()
    booking = Booking.objects.get(patient=personas.tolvan)
    assert booking.status == BookingStatus.ACTIVE

    ui.click("Boka om tiden", role="link")
    move = _main(ui).get_by_role("link", name=re.compile(r"Flytta hit\s*:.*09:30")).first
    with ui.page.expect_navigation():
        move.click()
    ui.check()
    # "Flytta hit" asks first (issue 16 §18): nothing moves until the resident says yes.
    expect(_main(ui).get_by_role("heading", name="Boka om tiden?")).to_be_visible()
    assert Booking.objects.get(patient=personas.tolvan).status == BookingStatus.ACTIVE
    ui.click("Ja, boka om tiden")
    expect(ui.page.get_by_text("Tiden är ombokad.")).to_be_visible()
    moved = Booking.objects.get(patient=personas.tolvan, status=BookingStatus.ACTIVE)
    assert moved.rebooked_from_id == booking.pk and moved.slot.starts_at - booking.slot.starts_at == dt.timedelta(
        minutes=30
    )

    ui.click("Avboka tiden", role="link")
    ui.click("Ja, avboka")
    expect(_main(ui)).to_contain_text("Inga kommande tider.")
    assert not Booking.objects.filter(patient=personas.tolvan, status=BookingStatus.ACTIVE).exists()


def test_a_guardian_books_for_the_young_child(ui, personas, bookable):
    anna, liam = personas.guardian, personas.child_9
    ui.login(anna.personnummer)
    ui.page.get_by_label("Agera för").select_option(label=liam.full_name)
    ui.click("Byt")
    ui.click("Tidbokning", role="link")
    ui.click("Boka tid", role="link")
    ui.page.get_by_label("Sök på namn eller ort").fill("Lindängen")
    ui.click("Sök")
    ui.click("Vårdcentralen Lindängen", role="link")
    ui.click("Hälsosamtal", role="link")
    with ui.page.expect_navigation():
        _main(ui).get_by_role("link", name=re.compile(r"^10:00–10:30$")).first.click()
    ui.check()
    expect(_main(ui)).to_contain_text(liam.full_name)
    ui.click("Boka")
    expect(_main(ui)).to_contain_text(liam.full_name)
    ui.click("Tillbaka till dina bokade tider", role="link")
    expect(_main(ui)).to_contain_text("Hälsosamtal")
    assert Booking.objects.get().patient == liam and Booking.objects.get().booked_by_patient == anna


def test_a_resident_pages_through_weeks_filters_and_books_the_first_free_time(ui, personas, bookable):
    """Issue 16 §17: one week at a time, a day and a practitioner to choose, and the first free time."""
    from vardkontakt.booking.models import Slot
    from vardkontakt.core.calendar import STOCKHOLM

    visit = VisitType.objects.get(name="Hälsosamtal")
    first = Slot.objects.order_by("starts_at").first()
    assert first is not None
    week_after = (first.starts_at.astimezone(STOCKHOLM) + dt.timedelta(days=7)).date()
    ui.login(TOLVAN_ID)
    ui.goto(f"/bookings/book/{bookable.pk}/{visit.pk}/?week={week_after.isoformat()}")
    main = _main(ui)
    weekdays = re.compile(r"^(måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag) \d")
    expect(main.get_by_role("heading", name="Första lediga tid")).to_be_visible()
    assert main.get_by_role("heading", name=weekdays).count() <= 7  # one week, never eight
    ui.click("Föregående vecka", role="link")
    ui.click("Nästa vecka", role="link")
    day = ui.page.get_by_label("Dag", exact=True)
    labels = day.locator("option").all_inner_texts()
    chosen = next(label for label in labels[1:] if "(0 " not in label)
    day.select_option(label=chosen)
    ui.page.get_by_label("Hos", exact=True).select_option(label=f"{personas.staff_x.full_name}, distriktssköterska")
    ui.click(re.compile("^Visa$"))
    expect(main.get_by_role("heading", name=weekdays)).to_have_count(1)
    expect(main.get_by_role("heading", name=chosen.split(" (")[0])).to_be_visible()
    with ui.page.expect_navigation():
        main.locator(".nhsuk-card").get_by_role("link").click()
    ui.check()
    expect(main).to_contain_text("Avgiftsfritt")
    expect(main.get_by_role("link", name="Välj en annan tid")).to_be_visible()


def test_a_resident_makes_a_minimal_calendar_link_and_copies_it(ui, personas, bookable):
    """Issue 14 §7 and 16 §22: the link is minimal unless chosen otherwise, opens as webcal:, copies."""
    ui.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ui.login(TOLVAN_ID)
    ui.goto("/bookings/calendar/")
    ui.click("Skapa en kalenderlänk", role="link")
    expect(ui.page.get_by_label("Bara tiden och ”Vårdbesök” (rekommenderas)")).to_be_checked()
    ui.click("Skapa länken")
    main = _main(ui)
    expect(main.get_by_role("link", name="Öppna i din kalenderapp")).to_have_attribute(
        "href", re.compile(r"^webcal://.+/calendar/.+\.ics$")
    )
    ui.page.get_by_role("button", name="Kopiera länken").click()
    expect(ui.page.get_by_role("status").filter(has_text="Länken är kopierad.")).to_be_visible()
    link = main.locator("#feed-url").inner_text()
    assert ui.page.evaluate("navigator.clipboard.readText()") == link
    ui.click("Tillbaka till dina kalenderlänkar", role="link")
    expect(main.get_by_role("table")).to_contain_text("Bara tiden och ”Vårdbesök”")
    ui.click("Stäng av")
    expect(main).to_contain_text("Du har ingen kalenderlänk som fungerar.")
