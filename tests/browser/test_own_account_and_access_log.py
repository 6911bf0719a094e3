"""Issue 16 §13-16 on the page: a guardian acting for a child is kept from their own account's
pages and told why a teenager is missing; the access log puts others' reads first, in pages; the
seal page names the archive; the archivist, picked by role in the demo provider, searches a
sealed record without the personnummer in the address."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.models import RecordSeal
from vardkontakt.access.services import record_seal

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"


def test_a_guardian_acting_for_a_child_cannot_seal_under_the_childs_banner(ui, personas):
    anna, liam, saga = personas.guardian, personas.child_9, personas.child_14
    ui.login(anna.personnummer)
    banner = ui.page.get_by_role("region", name="Vem du agerar för")
    expect(banner).to_contain_text(
        f"{saga.full_name} finns inte i listan: en vårdnadshavare kan agera för ett barn tills barnet fyller 13."
    )
    ui.page.get_by_label("Agera för").select_option(label=liam.full_name)
    ui.click("Byt")
    ui.goto("/record/seal/")
    expect(ui.page.get_by_role("main")).to_contain_text(f"Du agerar för {liam.full_name} nu.")
    expect(ui.page.get_by_role("button", name="Försegla min journal")).to_have_count(0)
    ui.click("Agera för dig själv i stället")
    expect(ui.page).to_have_url(re.compile(r"/record/seal/$"))
    expect(banner).to_contain_text(re.compile(rf"Du agerar för:\s*{anna.full_name}"))
    expect(ui.page.get_by_role("button", name="Försegla min journal")).to_be_visible()
    # The way to the archive is said before sealing.
    expect(ui.page.get_by_text("040-00 00 01")).to_be_visible()
    assert not RecordSeal.objects.filter(patient__in=[anna, liam]).exists()


def test_the_access_log_shows_others_reads_first_in_pages(ui, personas):
    tolvan, nurse = personas.tolvan, personas.staff_x
    for _ in range(55):
        audit(actor=Actor.of_staff(nurse), action="record.read", patient=tolvan, detail="notes")
    ui.login(TOLVAN_ID)
    ui.goto("/record/")  # a read of her own
    ui.goto("/patient/")
    ui.click("Vem har läst min journal", role="link")
    expect(
        ui.page.get_by_role("heading", level=2, name="Lästa av vårdpersonal, system och de som agerar för dig")
    ).to_be_visible()
    rows = ui.page.get_by_role("row").filter(has_text=nurse.full_name)
    expect(rows).to_have_count(50)
    expect(ui.page.get_by_text("Sida 1 av 2")).to_be_visible()
    ui.click("Nästa", role="link")
    expect(ui.page.get_by_role("row").filter(has_text=nurse.full_name)).to_have_count(5)
    ui.page.get_by_label("Dina egna").check()
    ui.click("Visa")
    expect(ui.page.get_by_role("heading", level=2, name="Dina egna läsningar")).to_be_visible()
    expect(ui.page.get_by_role("row").filter(has_text=nurse.full_name)).to_have_count(0)
    expect(ui.page.get_by_role("row").filter(has_text=tolvan.full_name).first).to_be_visible()


def test_the_archivist_is_picked_by_role_and_searches_without_the_number_in_the_address(ui, personas):
    if not RecordSeal.objects.filter(patient=personas.sealed, reopened_at__isnull=True).exists():
        record_seal(patient=personas.sealed)
    ui.goto("/")
    ui.click("Logga in med ditt SITHS-kort", role="link")
    person = ui.page.get_by_label("Demoperson")
    option = person.locator("option", has_text="arkivarie (öppnar förseglade journaler)")
    expect(option).to_have_count(1)
    person.select_option(value=personas.archivist.hsa_id)
    with ui.page.expect_navigation(url=re.compile(r"/staff/")):
        ui.page.get_by_role("button", name="Logga in", exact=True).click()
    ui.check()
    ui.goto("/staff/seals/")
    ui.page.get_by_label(re.compile("Personnummer", re.IGNORECASE)).fill(personas.sealed.personnummer_display)
    ui.click("Sök")
    expect(ui.page.get_by_role("heading", level=2, name=re.compile(personas.sealed.full_name))).to_be_visible()
    assert ui.page.url.endswith("/staff/seals/")
    for number in (personas.sealed.personnummer, personas.sealed.personnummer_display):
        assert number not in ui.page.url
