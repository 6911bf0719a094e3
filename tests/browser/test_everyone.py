"""Issue 16 items 23, 24, 26 and 27 in the browser: the footer's pages and their editor, no sideways
scrolling on a phone, the staff's way to the inbox with its figures, confirmations before a change
that cannot be undone. axe runs on every page, at desktop width and at 375 px."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, UI
from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking.models import Booking, BookingSettings, BookingStatus, Channel, HeldBack, Slot, VisitType
from vardkontakt.booking.schedule import local_instant
from vardkontakt.booking.services import booking_create_by_staff
from vardkontakt.cases.models import Case
from vardkontakt.core.calendar import is_day_off
from vardkontakt.identity.models import Patient
from vardkontakt.records.models import LabResult

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"


def _no_sideways_scrolling(ui: UI) -> None:
    width = ui.page.evaluate("() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
    assert width[0] <= width[1], f"{ui.page.url} is {width[0]} px wide in a {width[1]} px window"


def test_a_resident_reads_the_footers_pages_and_the_region_rewords_one(ui, personas):
    ui.goto("/")
    footer = ui.page.get_by_role("contentinfo")
    ui.page.wait_for_load_state("load")
    with ui.page.expect_navigation():
        footer.get_by_role("link", name="Tillgänglighetsredogörelse").click()
    ui.check()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Tillgänglighetsredogörelse")
    for heading in ("Hur tillgänglig är tjänsten?", "Kända brister", "Tillsyn", "Om redogörelsen"):
        expect(ui.page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    expect(ui.page.get_by_role("link", name="Anmäl till DIGG (digg.se)")).to_have_attribute(
        "href", "https://www.digg.se/tdosanmalan"
    )
    ui.click("Kakor (cookies)", role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Så hanterar vi dina personuppgifter")
    expect(ui.page.get_by_role("table", name="Kakorna som e-tjänsterna sätter")).to_contain_text("vk_session")

    # The region administrator words "Om e-tjänsterna"; an English reader gets the Swedish text
    # marked as Swedish where no English text is written.
    ui.goto("/")
    ui.login(personas.region_admin.hsa_id, side="staff")
    ui.goto(f"/staff/regions/{personas.region_admin.region_roles.get().region_id}/")
    ui.click(re.compile("^Sidorna i sidfoten"), role="link")
    ui.click("Om e-tjänsterna", role="link")
    ui.page.get_by_label("Vem som står bakom e-tjänsterna, på svenska").fill("Region Exempel och dess vårdcentraler.")
    ui.page.get_by_label("Vem som står bakom e-tjänsterna, på engelska").fill("")
    ui.click("Spara")
    expect(ui.page.get_by_role("status").filter(has_text="Sidan är sparad.")).to_be_visible()
    ui.click("Se sidan som invånarna ser den", role="link")
    expect(ui.page.get_by_text("Region Exempel och dess vårdcentraler.")).to_be_visible()
    ui.click("In English")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("About the e-services")
    expect(ui.page.locator('section[lang="sv"]')).to_contain_text("Region Exempel och dess vårdcentraler.")


def test_nothing_scrolls_sideways_on_a_phone(ui, personas, tolvans_case, unit_x):
    """Issue 16 §24: results, the access log, the staff's inbox and the appointment book at 375 px."""
    tolvan = personas.tolvan
    LabResult.objects.create(
        patient=tolvan,
        unit=unit_x,
        source_system="browser-test",
        source_id="bt-wide-1",
        received_at=timezone.now() - dt.timedelta(days=30),
        analysis="B-Hemoglobin (Hb) med erytrocytpartikelkoncentration och MCV",
        value=Decimal("131"),
        unit_of_measure="g/L",
        reference_low=Decimal("117"),
        reference_high=Decimal("153"),
        taken_at=timezone.now() - dt.timedelta(days=40),
    )
    audit(actor=Actor.of_staff(personas.staff_x), action="case.read", patient=tolvan, obj=tolvans_case, unit=unit_x)
    ui.page.set_viewport_size(PHONE)
    ui.login(TOLVAN_ID)
    for path in ("/record/results/", "/record/access-log/", "/cases/", "/proxies/", "/about/accessibility/"):
        ui.goto(path)
        _no_sideways_scrolling(ui)
    ui.click("Logga ut")
    ui.login(personas.unit_admin.hsa_id, side="staff")
    for path in (
        "/staff/",
        f"/staff/units/{unit_x.id}/inbox/",
        f"/staff/units/{unit_x.id}/appointments/",
        f"/staff/cases/{tolvans_case.id}/",
    ):
        ui.goto(path)
        _no_sideways_scrolling(ui)


def _full_book(unit, personas) -> dt.date:
    """A working day a week ahead with a full book: long names, a long visit type, bookings by phone,
    an overbooking with its reason, a cancelled booking, times held back, phone-only times staff may
    open for the web and online times staff may release for the phone (both day buttons shown)."""
    BookingSettings.objects.create(unit=unit)
    day = timezone.localdate() + dt.timedelta(days=7)
    while is_day_off(day):
        day += dt.timedelta(days=1)
    long_visit = VisitType.objects.create(
        unit=unit,
        name="Hälsosamtal med utökad provtagning och levnadsvaneråd vid diabetes typ 2",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
    )
    Patient.objects.filter(pk=personas.other_patient.pk).update(
        given_name="Maximiliana Henrietta Konstantia", family_name="Wahlström-Österberg-Fredriksdotter"
    )
    nurse = personas.staff_x
    slots = []
    for index, (channel, held_back) in enumerate(
        [
            (Channel.PHONE_ONLY, HeldBack.NONE),
            (Channel.PHONE_ONLY, HeldBack.NONE),
            (Channel.PHONE_ONLY, HeldBack.NONE),
            (Channel.ONLINE_AND_PHONE, HeldBack.NONE),
            (Channel.ONLINE_AND_PHONE, HeldBack.CO_PLANNED),
        ]
    ):
        start = local_instant(day, dt.time(8)) + dt.timedelta(minutes=30 * index)
        slots.append(
            Slot.objects.create(
                unit=unit,
                practitioner=nurse,
                visit_type=long_visit,
                place="Mottagningsrum 14 B, plan 3 (ingång från Storgatan)",
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=30),
                channel=channel,
                held_back=held_back,
            )
        )
    for patient, reason in ((personas.other_patient, ""), (personas.tolvan, "Akut, kläms in efter samtal med läkaren")):
        booking_create_by_staff(
            slot_id=slots[0].pk, unit=unit, patient=patient, staff=personas.unit_admin, overbook_reason=reason
        )
    cancelled = booking_create_by_staff(slot_id=slots[1].pk, unit=unit, patient=personas.other_patient, staff=nurse)
    Booking.objects.filter(pk=cancelled.booking.pk).update(status=BookingStatus.CANCELLED, ended_at=timezone.now())
    return day


def test_a_full_appointment_book_does_not_scroll_sideways_on_a_phone(ui, personas, unit_x):
    """Issue 16 §24 on a full book: a day and a week with bookings, an overbooking, long names and
    the release buttons, at 375 px."""
    day = _full_book(unit_x, personas)
    ui.page.set_viewport_size(PHONE)
    ui.login(personas.unit_admin.hsa_id, side="staff")
    for view in ("day", "week"):
        ui.goto(f"/staff/units/{unit_x.id}/appointments/?date={day.isoformat()}&view={view}")
        expect(ui.page.get_by_text("Wahlström-Österberg-Fredriksdotter").first).to_be_visible()
        expect(ui.page.get_by_text("Överbokad").first).to_be_visible()
        expect(ui.page.get_by_role("button", name=re.compile(r"^Öppna \d+ telefontid"))).to_be_visible()
        expect(ui.page.get_by_role("button", name=re.compile(r"^Släpp \d+ webbtid"))).to_be_visible()
        _no_sideways_scrolling(ui)
        # Fitting by squeezing seven columns into letters would pass the check above: a one-word
        # label of a time ("Besökstyp", "Bokningar") stays on one line.
        broken = ui.page.evaluate(
            """() => [...document.querySelectorAll('.nhsuk-table-responsive__heading')]
                .filter(h => !h.textContent.trim().includes(' '))
                .filter(h => {
                    const text = document.createRange();  // the text's own box, not the stretched cell's
                    text.selectNodeContents(h);
                    return text.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(h).lineHeight);
                })
                .map(h => h.textContent.trim())"""
        )
        assert broken == [], f"labels broken across lines at 375 px: {sorted(set(broken))}"


def test_the_staff_header_and_start_page_lead_to_the_inbox_with_its_figures(ui, personas, tolvans_case, unit_x):
    now = timezone.now()
    Case.objects.filter(pk=tolvans_case.pk).update(
        received_at=now - dt.timedelta(days=5),
        deadline_passes_at=now - dt.timedelta(hours=1),
        deadline_last_day=timezone.localdate() - dt.timedelta(days=1),
    )
    ui.login(personas.staff_x.hsa_id, side="staff")
    ui.goto("/staff/")
    header_link = ui.page.get_by_role("banner").get_by_role("link", name=re.compile("^Inkorg"))
    expect(header_link).to_have_text("Inkorg: 1 ej tilldelat, 1 försenat")
    row = ui.page.get_by_role("row").filter(has_text=unit_x.name)
    ui.click(re.compile(r"^1 försenat"), role="link")
    expect(ui.page.get_by_role("link", name=re.compile(r"^Försenade \(1\)$"))).to_have_attribute("aria-current", "page")
    ui.goto("/staff/settings/")
    ui.click(re.compile("^Inkorg: 1 ej tilldelat"), role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Inkorg")
    expect(row).to_have_count(0)


def test_withdrawing_a_case_asks_first(ui, personas, tolvans_case):
    ui.login(TOLVAN_ID)
    ui.goto(f"/cases/{tolvans_case.id}/")
    confirm = ui.page.get_by_role("button", name="Ja, ta tillbaka ärendet")
    expect(confirm).to_be_hidden()
    ui.page.get_by_text("Ta tillbaka ärendet", exact=True).click()
    expect(ui.page.get_by_text("Mottagningen slutar handlägga ärendet.")).to_be_visible()
    ui.click("Ja, ta tillbaka ärendet")
    expect(ui.page.get_by_role("status").filter(has_text="Ärendet är tillbakataget.")).to_be_visible()


def test_a_long_answer_counts_its_characters_and_english_marks_swedish_text(ui, personas, advice):
    """Issue 16 items 25 and 27: NHS.UK's character count on a long text, in Swedish; in English the
    unit's Swedish wording is marked as Swedish."""
    ui.login(TOLVAN_ID)
    ui.goto(f"/cases/new/{advice.unit_id}/{advice.id}/")
    box = ui.page.get_by_role("textbox").first
    box.fill("Ont i halsen")
    expect(ui.page.locator(".nhsuk-character-count__status")).to_have_text(
        re.compile(r"^Du har 4\s?988 tecken kvar\s*$")
    )
    ui.click("In English")
    expect(ui.page.get_by_role("heading", level=1).locator('span[lang="sv"]')).to_have_text(advice.name)
    expect(ui.page.locator(".nhsuk-character-count__status")).to_have_text(
        re.compile(r"^You have 5,?000 characters remaining\s*$")
    )
