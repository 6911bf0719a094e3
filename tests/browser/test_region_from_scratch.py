"""Issue 15's done-when, in a browser on a fresh database: after ``region_create`` (the one shell
command), the region administrator logs in and creates an administration, a unit, two staff members
and a coordinator; the coordinator takes the unit through onboarding to live, with one of the two
as its unit administrator; a resident sends the unit a case. Nothing else is in the database: no
demo region, no fixtures. axe runs on every page (conftest). The interface is in English so the
test reads the same before and after the Swedish catalogue changes."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Locator, expect

from tests.browser.conftest import UI
from vardkontakt.cases.models import Case, Service
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import CareUnit, Membership, MembershipRole, Onboarding, Region

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "SE2321000255-R0001"
NURSE = "SE2321000255-P0001"
HEAD = "SE2321000255-P0002"  # becomes the unit administrator through onboarding
COORDINATOR = "SE2321000255-P0003"
UNIT = {"name": "Vårdcentralen Exempelby", "hsa_id": "SE2321000255-E0001"}
RESIDENT = "19121212-1212"


def status(ui: UI) -> Locator:
    return ui.page.get_by_role("status")


def staff_login(ui: UI, hsa_id: str) -> None:
    ui.login(hsa_id, side="staff")
    if ui.page.url.endswith("/staff/settings/"):  # a first login: the personal settings first
        ui.click("Save settings")
    ui.goto("/staff/")


def add_person(ui: UI, hsa_id: str, given: str, family: str, profession: str) -> None:
    page = ui.page
    ui.click("Add a person", role="link")
    page.get_by_label("HSA-id").fill(hsa_id.lower())
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Profession").select_option(label=profession)
    page.get_by_label(re.compile(r"^Unit( \(optional\))?$")).select_option(label=UNIT["name"])
    ui.click("Add")
    expect(status(ui)).to_contain_text(f"{given} {family} is added.")
    ui.click("Back to the staff", role="link")


def test_a_region_starts_from_an_empty_database_and_its_first_unit_takes_a_case(ui):
    assert not Region.objects.exists() and not Staff.objects.exists()
    out = io.StringIO()
    call_command(
        "region_create",
        "Region Exempelby",
        admin_hsa_id=ADMIN,
        admin_given_name="Rut",
        admin_family_name="Regionadmin",
        stdout=out,
    )
    assert "Next:" in out.getvalue()
    assert Region.objects.get().name == "Region Exempelby"
    page = ui.page
    today = timezone.localdate()
    ui.goto("/")
    ui.click("In English")

    # 1. The region administrator: an administration, a unit, three people, a coordinator.
    staff_login(ui, ADMIN)
    ui.click("Administration of Region Exempelby", role="link")
    ui.click("Administrations", role="link")
    page.get_by_label("Name of the administration").fill("Primärvård Exempelby")
    ui.click("Add")
    expect(status(ui)).to_contain_text("The administration is added.")
    ui.click("Back to the region administration", role="link")

    ui.click("Units", role="link")
    ui.click("Add a unit", role="link")
    page.get_by_label("HSA-id").fill(UNIT["hsa_id"].lower())
    page.get_by_label("Name", exact=True).fill(UNIT["name"])
    page.get_by_label("Kind of unit").select_option(label="primary care centre")
    page.get_by_label("Administration").select_option(label="Primärvård Exempelby")
    page.get_by_label("Visiting address").fill("Storgatan 1")
    page.get_by_label("Postal code").fill("12345")
    page.get_by_label("City").fill("Exempelby")
    page.get_by_label("Phone").fill("010-123 45 67")
    page.get_by_label("Opening hours").fill("Måndag–fredag 08–17")
    ui.click("Add")
    expect(status(ui)).to_contain_text(f"{UNIT['name']} is added.")
    unit = CareUnit.objects.get(hsa_id=UNIT["hsa_id"])
    assert not unit.live
    ui.click("Back to the region administration", role="link")

    ui.click("Staff", role="link")
    add_person(ui, NURSE, "Vera", "Vårdsson", "nurse")
    add_person(ui, HEAD, "Harald", "Husläkare", "doctor")
    add_person(ui, COORDINATOR, "Cora", "Samordnare", "administrator")
    ui.click("Back to the region administration", role="link")
    ui.click("Administrations", role="link")
    page.get_by_label(re.compile("HSA-id of a new coordinator")).fill(COORDINATOR)
    ui.click("Appoint")
    expect(status(ui)).to_contain_text("The change is saved.")
    expect(page.get_by_role("main")).to_contain_text("Cora Samordnare")
    ui.click("Log out")

    # 2. The unit registers its interest on the public page the coordinator points it to.
    ui.goto("/units/interest/")
    page.get_by_label("Administration").select_option(label="Region Exempelby: Primärvård Exempelby")
    page.get_by_label("Name of the unit").fill(UNIT["name"])
    page.get_by_label("HSA-id of the unit").fill(UNIT["hsa_id"])
    page.get_by_label("Kind of unit").select_option(label="primary care centre")
    page.get_by_label("Contact person").fill("Harald Husläkare")
    page.get_by_label("Contact e-mail").fill("harald@exempelby.example")
    ui.click("Send")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your unit's interest is registered")

    # 3. The coordinator: meeting, activation (of the unit the region added), unit administrator.
    staff_login(ui, COORDINATOR)
    ui.click("Units on their way", role="link")
    ui.click(UNIT["name"], role="link")
    page.get_by_label("Date of the information meeting").fill(today.isoformat())
    page.get_by_label("Agreed start").fill((today + dt.timedelta(days=7)).isoformat())
    ui.click("Save the meeting")
    ui.click("Activate")
    assert CareUnit.objects.filter(hsa_id=UNIT["hsa_id"]).count() == 1  # the same unit, not a second
    page.get_by_label("HSA-id of the unit administrator").fill(HEAD)
    page.get_by_label("Training completed (if done)").fill(today.isoformat())
    ui.click("Appoint")
    ui.click("Log out")

    # 4. The unit administrator offers a service (the contact details came with the unit).
    staff_login(ui, HEAD)
    ui.click(f"Administration of {UNIT['name']}", role="link")
    ui.click("Services (messages and forms)", role="link")
    ui.click("Offer Ask for advice")
    expect(status(ui)).to_contain_text("The service is now offered to patients.")
    ui.click("Log out")

    # 5. The coordinator takes the unit live.
    staff_login(ui, COORDINATOR)
    ui.click("Units on their way", role="link")
    ui.click(UNIT["name"], role="link")
    expect(page.get_by_text("Everything needed is in place.")).to_be_visible()
    ui.click("Go live")
    assert CareUnit.objects.get(pk=unit.pk).live
    onboarding = Onboarding.objects.get()
    assert (onboarding.activated_on, onboarding.live_on) == (today, today)
    assert Membership.objects.get(unit=unit, staff__hsa_id=HEAD).role == MembershipRole.UNIT_ADMIN
    ui.click("Log out")

    # 6. A resident finds the unit and sends it a case.
    ui.login(RESIDENT)
    ui.click("Write to a care unit")
    page.get_by_label("Search by name or place").fill("Exempelby")  # not listed there: found by search
    ui.click("Search")
    ui.click(UNIT["name"], role="link")
    ui.click(Service.objects.get(unit=unit, active=True).name, role="link")
    page.get_by_role("textbox").first.fill("Jag har haft ont i halsen i en vecka.")
    ui.click("Continue")
    ui.click("Send")
    expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
    case = Case.objects.get()
    assert case.service.unit_id == unit.pk
    ui.click("Log out")

    # The nurse the region added sees it in the unit's inbox.
    staff_login(ui, NURSE)
    ui.goto(f"/staff/units/{unit.id}/inbox/")
    expect(page.get_by_role("main")).to_contain_text(case.service.name)
