"""Onboarding a unit in a browser (SPEC §2): the unit registers its interest on the public page; the
coordinator of its administration records the information meeting and the agreed start, activates
the unit and appoints its administrators with their training dates; the new unit administrator
fills in the contact details and offers a service; the coordinator takes the unit live. The
coordinator's list shows each unit's stage and days, and marks a unit past the one-month aim.
Refused steps show why and change nothing. axe runs on every page (conftest).

The interface is switched to English so the test reads the same before and after the Swedish
catalogue is filled in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Locator, expect

from tests.browser.conftest import UI
from vardkontakt.cases.models import Service
from vardkontakt.organisation.models import CareUnit, Membership, MembershipRole, Onboarding

pytestmark = pytest.mark.django_db(transaction=True)

ADMINISTRATION = "Region Skåne: Skånevård Sund"  # coordinated by personas.coordinator
NYBY = {"name": "Vårdcentralen Nyby", "hsa_id": "SE2321000255-E9001"}
SENT = {"name": "Hälsocentralen Sentorp", "hsa_id": "SE2321000255-E9002"}


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(text)}$")


def iso(day: dt.date) -> str:
    return day.isoformat()


def register_interest(ui: UI, unit: dict[str, str], *, email: str = "vera@nyby.example") -> None:
    """What the unit's head fills in on the public page a coordinator points them to."""
    ui.goto("/units/interest/")
    page = ui.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your unit's interest in the e-services")
    page.get_by_label("Administration").select_option(label=ADMINISTRATION)
    page.get_by_label("Name of the unit").fill(unit["name"])
    page.get_by_label("HSA-id of the unit").fill(unit["hsa_id"].lower())  # as typed; stored normalised
    page.get_by_label("Kind of unit").select_option(label="primary care centre")
    page.get_by_label("Contact person").fill("Vera Verksamhetschef")
    page.get_by_label("Contact e-mail").fill(email)
    page.get_by_label("Contact phone").fill("040-11 22 33")
    page.get_by_label("Message").fill("Vi vill börja i januari.")
    ui.click("Send")


def row_of(ui: UI, unit: dict[str, str]) -> Locator:
    return ui.page.get_by_role("row", name=re.compile(f"^{unit['name']}"))


def expect_row(ui: UI, unit: dict[str, str], *, stage: str, interest_on: dt.date, days: int, late: bool) -> None:
    """The coordinator's list: unit, administration, stage, interest registered, days (and the mark)."""
    cells = row_of(ui, unit).get_by_role("cell")
    expect(cells).to_have_count(5)
    expect(cells.nth(1)).to_have_text("Skånevård Sund")
    expect(cells.nth(2)).to_have_text(stage)
    expect(cells.nth(3)).to_have_text(iso(interest_on))
    expect(cells.nth(4)).to_have_text(f"{days} past the aim" if late else str(days))


def summary(ui: UI, key: str) -> Locator:
    """A value of the onboarding page's summary list."""
    return ui.page.locator(".nhsuk-summary-list__row", has=ui.page.get_by_text(key, exact=True)).locator("dd")


def step_refused(ui: UI, *reasons: str) -> None:
    alert = ui.page.get_by_role("alert")
    expect(alert).to_contain_text("The step was not taken")
    for reason in reasons:
        expect(alert).to_contain_text(reason)


def saved(ui: UI) -> None:
    expect(ui.page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(ui.page.get_by_role("alert")).to_have_count(0)


def staff_login(ui: UI, hsa_id: str) -> None:
    """Log in on the staff side and go to the start page; a first login lands on the personal
    settings, which a new user saves as they are."""
    ui.login(hsa_id, side="staff")
    if ui.page.url.endswith("/staff/settings/"):
        ui.click("Save settings")
    ui.goto("/staff/")


def second_tab(ui: UI) -> UI:
    """Another tab of the same browser, its pages checked by axe like the first tab's."""
    page = ui.page.context.new_page()
    page.on("load", lambda p: ui.loaded.append(p.url))
    return UI(page=page, base=ui.base, loaded=ui.loaded, checked=ui.checked)


def test_the_coordinators_list_marks_a_unit_still_on_its_way_after_a_month(ui, personas):
    page = ui.page
    ui.goto("/")
    ui.click("In English")

    # Sentorp registers its interest today; a malformed address is refused first, nothing kept.
    register_interest(ui, SENT, email="vera@")
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid email address.")
    assert not Onboarding.objects.exists()
    page.get_by_label("Contact e-mail").fill("vera@sentorp.example")
    ui.click("Send")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your unit's interest is registered")
    registered = timezone.localdate()

    # The same unit again (another colleague, another day): refused, still one application.
    register_interest(ui, SENT)
    expect(page.get_by_role("alert")).to_contain_text("Interest for this unit is already registered.")
    assert Onboarding.objects.count() == 1

    with time_machine.travel(timezone.now() + dt.timedelta(days=30), tick=True) as traveller:
        # Thirty days on: the aim is "within 30 days", so Sentorp is not past it yet.
        staff_login(ui, personas.coordinator.hsa_id)
        ui.click("Units on their way", role="link")
        expect(page.get_by_role("heading", level=1)).to_have_text("Units on their way")
        expect(page.get_by_text("within 30 days of registering its interest")).to_be_visible()
        expect_row(ui, SENT, stage="interest registered", interest_on=registered, days=30, late=False)

        # A day later the session has long ended (30 minutes idle, 12 hours at most): the list asks
        # for a login first and then comes back, with Sentorp marked.
        traveller.shift(dt.timedelta(days=1))
        ui.goto("/staff/onboarding/")
        expect(page.get_by_text("Log in as a staff member")).to_be_visible()
        page.get_by_label("Or type an identity number").fill(personas.coordinator.hsa_id)
        with page.expect_navigation(url=re.compile(r"/staff/onboarding/$")):
            page.get_by_role("button", name=exactly("Log in")).click()
        ui.check()
        expect_row(ui, SENT, stage="interest registered", interest_on=registered, days=31, late=True)
        expect(page.locator(".nhsuk-tag--red")).to_have_count(1)

        # A unit registering now is at day 0 beside it, unmarked.
        ui.click("Log out")
        register_interest(ui, NYBY)
        staff_login(ui, personas.coordinator.hsa_id)
        ui.click("Units on their way", role="link")
        expect_row(ui, NYBY, stage="interest registered", interest_on=timezone.localdate(), days=0, late=False)
        expect_row(ui, SENT, stage="interest registered", interest_on=registered, days=31, late=True)

        ui.click(SENT["name"], role="link")
        expect(page.get_by_role("heading", level=1)).to_have_text(SENT["name"])
        expect(summary(ui, "Stage")).to_have_text("interest registered (31 days) past the aim")
        expect(summary(ui, "Interest registered")).to_have_text(iso(registered))
        expect(summary(ui, "HSA-id")).to_have_text(SENT["hsa_id"])
        expect(summary(ui, "Contact person")).to_have_text("Vera Verksamhetschef, vera@sentorp.example, 040-11 22 33")


def test_a_unit_goes_from_its_interest_to_live_with_its_coordinator_and_administrator(ui, personas):
    page = ui.page
    coordinator, first, second, third = personas.coordinator, personas.nurse, personas.nurse_elsewhere, personas.staff_x
    today = timezone.localdate()
    ui.goto("/")
    ui.click("In English")
    register_interest(ui, NYBY)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your unit's interest is registered")
    onboarding = Onboarding.objects.get()
    assert onboarding.hsa_id == NYBY["hsa_id"]

    # The coordinator finds it on the staff start page.
    staff_login(ui, coordinator.hsa_id)
    ui.click("Units on their way", role="link")
    expect_row(ui, NYBY, stage="interest registered", interest_on=today, days=0, late=False)
    ui.click(NYBY["name"], role="link")
    detail = page.url.removeprefix(ui.base)
    expect(summary(ui, "Stage")).to_have_text("interest registered (0 days)")
    expect(page.get_by_role("button", name="Activate")).to_have_count(0)  # the meeting comes first

    # 1. The information meeting: a start before the meeting is refused and nothing is kept.
    meeting, start = today, today + dt.timedelta(days=14)  # held today, the day the interest came
    page.get_by_label("Date of the information meeting").fill(iso(meeting))
    page.get_by_label("Agreed start").fill(iso(meeting - dt.timedelta(days=1)))
    ui.click("Save the meeting")
    step_refused(ui, "The start cannot be before the information meeting.")
    expect(summary(ui, "Information meeting")).to_have_text("–")
    expect(summary(ui, "Agreed start")).to_have_text("–")
    expect(page.get_by_label("Date of the information meeting")).to_have_value(iso(meeting))  # kept in the form
    onboarding.refresh_from_db()
    assert (onboarding.meeting_on, onboarding.agreed_start_on) == (None, None)

    page.get_by_label("Agreed start").fill(iso(start))
    ui.click("Save the meeting")
    saved(ui)
    expect(summary(ui, "Stage")).to_have_text("information meeting held (0 days)")
    expect(summary(ui, "Information meeting")).to_have_text(iso(meeting))
    expect(summary(ui, "Agreed start")).to_have_text(iso(start))
    expect(summary(ui, "Activated")).to_have_text("–")

    # 2. Activate: the unit exists, out of residents' sight.
    ui.click("Activate")
    saved(ui)
    expect(summary(ui, "Stage")).to_have_text("activated (0 days)")
    expect(summary(ui, "Activated")).to_have_text(iso(today))
    unit = CareUnit.objects.get(hsa_id=NYBY["hsa_id"])
    assert not unit.live
    missing = page.get_by_role("list").filter(has_text="No service is active yet.")
    for name in ("visiting address", "postal code", "city", "phone", "opening hours"):
        expect(missing).to_contain_text(f"Contact details: {name} is missing.")

    # Going live this early is refused, with what is missing, and the unit stays out of sight.
    ui.click("Go live")
    step_refused(ui, "Contact details: visiting address is missing.", "No service is active yet.")
    expect(summary(ui, "Live")).to_have_text("–")
    assert not CareUnit.objects.get(pk=unit.pk).live

    # 3. Unit administrators: a training date in the future is refused, nobody is appointed.
    administrators = page.get_by_role("table", name="Unit administrators")
    page.get_by_label("HSA-id of the unit administrator").fill(first.hsa_id)
    page.get_by_label("Training completed (if done)").fill(iso(today + dt.timedelta(days=1)))
    ui.click("Appoint")
    step_refused(ui, "The training date cannot be in the future.")
    expect(administrators).to_contain_text("None appointed yet.")
    assert not onboarding.administrators.exists()

    trained = today - dt.timedelta(days=2)
    page.get_by_label("Training completed (if done)").fill(iso(trained))
    ui.click("Appoint")
    saved(ui)
    first_row = administrators.get_by_role("row", name=re.compile(re.escape(first.hsa_id)))
    expect(first_row.get_by_role("cell")).to_have_text(
        [f"{first.full_name} ({first.hsa_id})", iso(today), iso(trained)]
    )

    # A colleague's tab still shows the form for a second administrator...
    stale = second_tab(ui)
    stale.goto(detail)
    # ...while the second one is appointed here, without a training date yet.
    page.get_by_label("HSA-id of the unit administrator").fill(second.hsa_id)
    ui.click("Appoint")
    saved(ui)
    expect(page.get_by_label("HSA-id of the unit administrator")).to_have_count(0)  # two: no more
    expect(administrators.get_by_role("row")).to_have_count(3)  # the header and two

    # A third from the stale tab: refused, plainly, and nothing changes.
    stale.page.get_by_label("HSA-id of the unit administrator").fill(third.hsa_id)
    stale.click("Appoint")
    step_refused(stale, "A unit has one or two unit administrators.")
    expect(stale.page.get_by_role("table", name="Unit administrators").get_by_role("row")).to_have_count(3)
    stale.page.close()
    assert set(onboarding.administrators.values_list("staff", flat=True)) == {first.pk, second.pk}
    assert not Membership.objects.filter(unit=unit, staff=third).exists()

    # The second one's training: the date is required, then recorded.
    second_row = administrators.get_by_role("row", name=re.compile(re.escape(second.hsa_id)))
    with page.expect_navigation():
        second_row.get_by_role("button", name="Save").click()
    ui.check()
    step_refused(ui, "Check the fields below.")
    date_field = second_row.get_by_label("Training completed", exact=True)
    expect(date_field).to_have_attribute("aria-invalid", "true")
    expect(date_field).to_have_accessible_description("Error: Enter the date the training was completed.")
    assert onboarding.administrators.get(staff=second).trained_on is None
    date_field.fill(iso(today))
    with page.expect_navigation():
        second_row.get_by_role("button", name="Save").click()
    ui.check()
    saved(ui)
    expect(second_row.get_by_role("cell")).to_have_text(
        [f"{second.full_name} ({second.hsa_id})", iso(today), iso(today)]
    )
    ui.click("Log out")

    # The new unit administrator completes the contact details and offers a service.
    staff_login(ui, first.hsa_id)
    nyby_row = page.get_by_role("table", name="Your units").get_by_role("row", name=re.compile(NYBY["name"]))
    expect(nyby_row).to_contain_text("Unit administrator")
    ui.click(f"Administration of {NYBY['name']}", role="link")
    expect(page.get_by_role("heading", level=1)).to_have_text("Unit administration")
    page.get_by_label("Visiting address").fill("Nybyvägen 1")
    page.get_by_label("Postal code").fill("21100")
    page.get_by_label("City").fill("Malmö")
    page.get_by_label("Phone").fill("040-11 22 33")
    page.get_by_label("Opening hours (optional)", exact=True).fill("Måndag–fredag 08–17")
    ui.click("Save the contact details")
    saved(ui)
    ui.click("Services (messages and forms)", role="link")
    expect(page.get_by_role("heading", level=1)).to_have_text("The unit's services")
    ui.click("Offer Ask for advice")
    expect(page.get_by_role("status")).to_contain_text("The service is now offered to patients.")
    assert Service.objects.filter(unit=unit, active=True).count() == 1
    ui.click("Log out")

    # 4. The coordinator sees nothing missing and takes the unit live.
    staff_login(ui, coordinator.hsa_id)
    ui.click("Units on their way", role="link")
    expect_row(ui, NYBY, stage="activated", interest_on=today, days=0, late=False)
    ui.click(NYBY["name"], role="link")
    expect(page.get_by_text("Everything needed is in place.")).to_be_visible()
    ui.click("Go live")
    saved(ui)
    expect(summary(ui, "Stage")).to_have_text("live (0 days)")
    expect(summary(ui, "Live")).to_have_text(iso(today))
    expect(page.get_by_role("button", name="Go live")).to_have_count(0)
    assert CareUnit.objects.get(pk=unit.pk).live
    onboarding.refresh_from_db()
    assert (onboarding.meeting_on, onboarding.agreed_start_on, onboarding.activated_on, onboarding.live_on) == (
        meeting,
        start,
        today,
        today,
    )
    trainings = {t.staff_id: (t.appointed_on, t.trained_on) for t in onboarding.administrators.all()}
    assert trainings == {first.pk: (today, trained), second.pk: (today, today)}
    assert set(Membership.objects.filter(unit=unit).values_list("staff", "role")) == {
        (first.pk, MembershipRole.UNIT_ADMIN),
        (second.pk, MembershipRole.UNIT_ADMIN),
    }

    ui.click("All units on their way", role="link")
    expect_row(ui, NYBY, stage="live", interest_on=today, days=0, late=False)
