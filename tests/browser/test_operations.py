"""Browser test of operational messages: a region administrator publishes a disturbance for residents;
a resident sees the banner on every page and the support page. axe runs on every page (conftest)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from vardkontakt.operations.models import OperationalMessage

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Inloggningen med BankID krånglar"
TEXT = "Logga in med Freja+ så länge, eller ring din mottagning."
LOCAL = "%Y-%m-%dT%H:%M"


def _banner(ui):
    return ui.page.get_by_role("region", name="Operational information")


def test_a_region_administrator_publishes_and_a_resident_sees_the_banner_and_the_support_page(ui, personas):
    # English, so the test reads the same before and after the Swedish catalogue is filled in.
    ui.goto("/")
    ui.click("In English")
    ui.login(personas.region_admin.hsa_id, side="staff")
    ui.goto("/staff/")
    ui.click(re.compile("^Operational messages of "), role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Operational messages")
    expect(ui.page.get_by_text("No message is shown now.")).to_be_visible()
    ui.click("New message", role="link")

    # First an end before the start: refused, nothing published.
    start = timezone.localtime() - dt.timedelta(minutes=5)
    ui.page.get_by_label("Disturbance").check()
    ui.page.get_by_label("Title").fill(TITLE)
    ui.page.get_by_label("Text").fill(TEXT)
    ui.page.get_by_label("Shown from").fill(start.strftime(LOCAL))
    ui.page.get_by_label("Shown until").fill((start - dt.timedelta(hours=1)).strftime(LOCAL))
    ui.page.get_by_label("Residents").check()
    ui.click("Publish")
    expect(ui.page.get_by_role("alert")).to_contain_text("The end must be after the start.")
    assert not OperationalMessage.objects.exists()

    ui.page.get_by_label("Shown until").fill((start + dt.timedelta(hours=2)).strftime(LOCAL))
    ui.click("Publish")
    expect(ui.page.get_by_role("status").filter(has_text="The message is published.")).to_be_visible()
    expect(ui.page.get_by_role("cell", name=re.compile(f"^{TITLE}"))).to_be_visible()
    expect(_banner(ui)).to_have_count(0)  # for residents, not for staff
    message = OperationalMessage.objects.get()
    assert (message.kind, message.audience) == ("disturbance", "residents")
    ui.click("Log out")

    # Anyone on the residents' side sees it, logged in or not.
    expect(_banner(ui)).to_contain_text(TITLE)
    ui.login("19121212-1212")
    banner = _banner(ui)
    expect(banner.get_by_role("heading", name=f"Disturbance: {TITLE}")).to_be_visible()
    expect(banner).to_contain_text(TEXT)

    ui.click("Support for the e-services: weekdays 06–22", role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Support for the e-services")
    expect(ui.page.get_by_role("link", name="0771-00 00 00")).to_be_visible()
    expect(ui.page.get_by_text("Weekdays 06–22", exact=True)).to_be_visible()
    expect(ui.page.get_by_role("heading", name=f"Disturbance: {TITLE}")).to_be_visible()
    expect(_banner(ui)).to_have_count(0)  # the page lists them itself


def test_a_second_message_published_after_the_first_is_published_too(ui, personas):
    """Issue 16 §2: every "Publish" from a newly opened form makes a new message, not only the first."""
    ui.goto("/")
    ui.click("In English")
    ui.login(personas.region_admin.hsa_id, side="staff")
    ui.goto("/staff/")
    ui.click(re.compile("^Operational messages of "), role="link")
    start = timezone.localtime() + dt.timedelta(days=1)
    for title in ("Planned maintenance on Tuesday night", "BankID may be slow on Wednesday"):
        ui.click("New message", role="link")
        ui.page.get_by_label("Planned downtime").check()
        ui.page.get_by_label("Title").fill(title)
        ui.page.get_by_label("Text").fill("Log in later or call your unit.")
        ui.page.get_by_label("Shown from").fill(start.strftime(LOCAL))
        ui.page.get_by_label("Shown until").fill((start + dt.timedelta(hours=2)).strftime(LOCAL))
        ui.page.get_by_label("Everyone").check()
        ui.click("Publish")
        expect(ui.page.get_by_role("status").filter(has_text="The message is published.")).to_be_visible()
        expect(ui.page.get_by_role("cell", name=re.compile(f"^{title}"))).to_be_visible()
    assert sorted(OperationalMessage.objects.values_list("title", flat=True)) == [
        "BankID may be slow on Wednesday",
        "Planned maintenance on Tuesday night",
    ]
