"""The resident's start page in a browser: the unit cards (issue 16 §8) and "Nytt för dig" (§7).
axe runs on every page (conftest)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"


def _card(ui, unit_name: str):
    return ui.page.locator(".nhsuk-card").filter(has=ui.page.get_by_role("heading", name=unit_name, exact=True))


def test_a_unit_card_shows_what_the_unit_offers_and_leads_to_it(ui, personas, unit_x):
    ui.login(TOLVAN_ID)
    card = _card(ui, unit_x.name)
    expect(card.get_by_role("heading", name="E-tjänster")).to_be_visible()
    expect(card).not_to_contain_text("Här visas de tjänster")
    for name in ("Kontakta mig", "Rådgivning", "Förnya recept"):
        expect(card.get_by_role("link", name=name, exact=True)).to_be_visible()
    with ui.page.expect_navigation():
        card.get_by_role("link", name="Rådgivning", exact=True).click()
    ui.check()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Rådgivning")
    expect(ui.page).to_have_url(re.compile(rf"/cases/new/{unit_x.id}/[0-9a-f-]{{36}}/$"))


def test_news_for_you_tells_the_appointment_leads_to_it_and_clears(ui, personas, unit_x):
    """Issue 16 §7: "Din tid är bokad (2026-12-06 09:00)" gave the notice's time, was no link and stayed."""
    import datetime as dt

    from django.utils import timezone

    from vardkontakt.booking.models import Slot, VisitType
    from vardkontakt.booking.services import booking_create_online
    from vardkontakt.cases.services import case_create, case_reply, service_activate

    visit = VisitType.objects.create(
        unit=unit_x, name="Hälsosamtal", duration_minutes=30, professions=["district_nurse"], bookable_online=True
    )
    starts = (timezone.localtime() + dt.timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
    slot = Slot.objects.create(
        unit=unit_x,
        practitioner=personas.staff_x,
        visit_type=visit,
        place="Rum 4",
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
    )
    booking = booking_create_online(slot_id=slot.pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)
    advice = service_activate(unit=unit_x, kind="advice", by=personas.unit_admin)
    case = case_create(
        actor=personas.tolvan, subject=personas.tolvan, service=advice, answers=[], idempotency_key="home-news"
    )
    case_reply(case=case, by=personas.staff_x, body="Välkommen in.", version=case.version)

    ui.login(TOLVAN_ID)
    news = ui.page.locator(".nhsuk-card").filter(has=ui.page.get_by_role("heading", name="Nytt för dig"))
    booked = news.get_by_role("link", name=re.compile(r"^Din tid är bokad: Hälsosamtal på Vårdcentralen Lindängen, "))
    expect(booked).to_contain_text(f"{starts.day} ")
    expect(booked).to_contain_text("09:00")
    with ui.page.expect_navigation():
        booked.click()
    ui.check()
    expect(ui.page).to_have_url(re.compile(rf"/bookings/{booking.id}/$"))
    ui.goto("/patient/")
    expect(news.get_by_role("link", name=re.compile("^Din tid är bokad"))).to_have_count(0)  # opened: gone

    reply = news.get_by_role("listitem").filter(has_text="Nytt i ditt ärende ”Rådgivning” hos Vårdcentralen Lindängen.")
    expect(reply).to_have_count(1)
    with ui.page.expect_navigation():
        reply.get_by_role("button", name=re.compile("^Ta bort")).click()
    ui.check()
    expect(ui.page.get_by_role("status").filter(has_text="Meddelandet är borttaget från listan.")).to_be_visible()
    expect(ui.page.get_by_role("heading", name="Nytt för dig")).to_have_count(0)
