"""Browser tests of who may act for whom: proxies, guardians switching, sealing and reopening a record."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from vardkontakt.access.models import Proxy, ProxyStatus, RecordSeal

pytestmark = pytest.mark.django_db(transaction=True)

TOLVAN_ID = "19121212-1212"


def _status_message(ui, text: str | re.Pattern[str]):
    return ui.page.get_by_role("status").filter(has_text=text)


def _acting_banner(ui):
    return ui.page.get_by_role("region", name="Vem du agerar för")


def test_a_resident_invites_a_proxy_who_accepts_acts_for_them_and_stops(ui, personas):
    tolvan, other = personas.tolvan, personas.other_patient

    # Tolvan appoints the other patient as proxy for messages and cases.
    ui.login(TOLVAN_ID)
    ui.click(re.compile("^Ombud"), role="link")
    expect(ui.page).to_have_url(re.compile(r"/proxies/$"))
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Ombud")
    expect(ui.page.get_by_text("Ingen får agera för dig.")).to_be_visible()
    ui.click("Utse ett ombud")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Utse ett ombud")
    ui.page.get_by_label("Ombudets personnummer").fill(other.personnummer)
    ui.page.get_by_label("Meddelanden och ärenden").check()
    ui.click("Skicka förfrågan")
    expect(ui.page).to_have_url(re.compile(r"/proxies/$"))
    expect(_status_message(ui, "Förfrågan är skickad. Ombudet måste logga in och godkänna den.")).to_be_visible()
    # Until they accept, the card shows the number Tolvan typed, not the name the platform holds.
    expect(ui.page.get_by_role("heading", name=other.full_name)).to_have_count(0)
    card = ui.page.get_by_role("listitem").filter(has=ui.page.get_by_role("heading", name=other.personnummer_display))
    expect(card.get_by_text("Väntar på svar")).to_be_visible()
    expect(card.get_by_text("Meddelanden och ärenden")).to_be_visible()
    # Withdrawing asks first: the button that does it is behind "Återkalla förfrågan".
    expect(card.get_by_role("button", name="Ja, återkalla förfrågan")).to_be_hidden()
    card.get_by_text("Återkalla förfrågan", exact=True).click()
    expect(card.get_by_role("button", name="Ja, återkalla förfrågan")).to_be_visible()
    proxy = Proxy.objects.get(principal=tolvan, agent=other)
    assert proxy.status == ProxyStatus.INVITED
    assert (proxy.scope_record, proxy.scope_cases, proxy.scope_bookings) == (False, True, False)
    ui.click("Logga ut")
    expect(ui.page.get_by_text("Du är utloggad.")).to_be_visible()

    # The other patient accepts; a banner now lets them act for Tolvan.
    ui.login(other.personnummer)
    expect(_acting_banner(ui)).to_have_count(0)
    ui.goto("/proxies/")
    expect(ui.page.get_by_text(f"{tolvan.full_name} ber dig att vara ombud.")).to_be_visible()
    ui.click("Godkänn")
    expect(_status_message(ui, f"Nu kan du agera för {tolvan.full_name}.")).to_be_visible()
    banner = _acting_banner(ui)
    expect(banner).to_contain_text("Du agerar för:")
    expect(banner.get_by_text(other.full_name, exact=True)).to_be_visible()
    chooser = ui.page.get_by_label("Agera för")
    expect(chooser.locator("option")).to_have_text([f"{other.full_name} (dig själv)", tolvan.full_name])
    chooser.select_option(label=tolvan.full_name)
    ui.click("Byt")
    # Switching keeps you on the page you were on; the home page now shows Tolvan.
    expect(ui.page).to_have_url(re.compile(r"/proxies/$"))
    expect(_status_message(ui, f"Nu agerar du för {tolvan.full_name}.")).to_be_visible()
    ui.click(re.compile("Vårdkontakt"), role="link")
    expect(ui.page).to_have_url(re.compile(r"/patient/$"))
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(f"Du agerar för {tolvan.full_name}")
    expect(_acting_banner(ui)).to_contain_text(re.compile(rf"Du agerar för:\s*{tolvan.full_name}\s*\(som ombud\)"))

    # The proxy stops acting for Tolvan: the banner goes, and the arrangement is revoked.
    ui.goto("/proxies/")
    ui.page.get_by_text("Sluta agera för den här personen", exact=True).click()
    expect(ui.page.get_by_text("Du kan inte längre agera för personen.")).to_be_visible()
    ui.click("Ja, sluta agera för den här personen")
    expect(_status_message(ui, "Ombudskapet är avslutat.")).to_be_visible()
    expect(_status_message(ui, "Nu agerar du för dig själv.")).to_be_visible()
    expect(ui.page.get_by_text("Du är inte ombud för någon.")).to_be_visible()
    expect(_acting_banner(ui)).to_have_count(0)
    expect(ui.page.get_by_text("Du agerar för:")).to_have_count(0)
    ui.click(re.compile("Vårdkontakt"), role="link")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(f"Välkommen, {other.given_name}")
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.REVOKED
    assert proxy.revoked_by_id == other.pk


def test_a_guardian_may_act_for_the_young_child_but_not_the_teenager(ui, personas):
    anna, child_9, child_14 = personas.guardian, personas.child_9, personas.child_14
    ui.login(anna.personnummer)
    banner = _acting_banner(ui)
    expect(banner).to_contain_text(re.compile(rf"Du agerar för:\s*{anna.full_name}"))
    chooser = ui.page.get_by_label("Agera för")
    expect(chooser.locator("option")).to_have_text([f"{anna.full_name} (dig själv)", child_9.full_name])
    expect(chooser.locator("option", has_text=child_14.given_name)).to_have_count(0)
    chooser.select_option(label=child_9.full_name)
    ui.click("Byt")
    expect(ui.page).to_have_url(re.compile(r"/patient/$"))
    expect(_status_message(ui, f"Nu agerar du för {child_9.full_name}.")).to_be_visible()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(f"Du agerar för {child_9.full_name}")
    expect(banner).to_contain_text(re.compile(rf"Du agerar för:\s*{child_9.full_name}\s*\(som vårdnadshavare\)"))
    expect(ui.page.get_by_label("Agera för")).to_have_value(str(child_9.pk))


def test_a_resident_seals_their_record_after_confirming(ui, personas):
    tolvan = personas.tolvan
    ui.login(TOLVAN_ID)
    ui.goto("/record/seal/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Försegla din journal")
    ui.click("Försegla min journal")
    summary = ui.page.get_by_role("alert")
    expect(summary).to_contain_text("Det finns ett problem")
    error_link = summary.get_by_role("link", name="Bekräfta att du förstår vad försegling innebär.")
    expect(error_link).to_be_visible()
    # The summary's link leads to the checkbox that needs ticking.
    error_link.click()
    expect(ui.page.get_by_label(re.compile("^Jag förstår att ingen"))).to_be_focused()
    assert not RecordSeal.objects.filter(patient=tolvan).exists()

    ui.page.get_by_label(re.compile("^Jag förstår att ingen")).check()
    ui.click("Försegla min journal")
    expect(ui.page).to_have_url(re.compile(r"/record/seal/$"))
    expect(_status_message(ui, "Din journal är förseglad.")).to_be_visible()
    expect(
        ui.page.get_by_text(re.compile(r"^Din journal är förseglad sedan \d{4}-\d{2}-\d{2} \d{2}:\d{2}\."))
    ).to_be_visible()
    expect(ui.page.get_by_role("button", name="Försegla min journal")).to_have_count(0)
    expect(ui.page.get_by_role("alert")).to_have_count(0)
    seal = RecordSeal.objects.get(patient=tolvan)
    assert seal.reopened_at is None
    assert seal.sealed_by_id == tolvan.pk


def test_the_archivist_reopens_a_sealed_record_only_with_a_reason(ui, personas):
    sofia = personas.sealed
    seal = RecordSeal.objects.get(patient=sofia, reopened_at__isnull=True)
    ui.login(personas.archivist.hsa_id, side="staff")
    ui.goto("/staff/seals/")
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Förseglade journaler")
    ui.page.get_by_label("Personnummer").fill(sofia.personnummer)
    ui.click("Sök")
    expect(ui.page.get_by_role("heading", level=2, name=re.compile(rf"^{sofia.full_name}, "))).to_be_visible()
    expect(ui.page.get_by_text(re.compile(r"^Förseglad sedan \d{4}-\d{2}-\d{2}"))).to_be_visible()

    ui.page.get_by_label("Skäl").fill("Kollat")
    ui.click("Öppna journalen igen")
    summary = ui.page.get_by_role("alert")
    expect(summary).to_contain_text("Det finns ett problem")
    expect(summary).to_contain_text("Ange skälet (minst 10 tecken).")
    expect(ui.page.get_by_text("Fel: Ange skälet (minst 10 tecken).")).to_be_visible()
    seal.refresh_from_db()
    assert seal.reopened_at is None

    ui.page.get_by_label("Skäl").fill("Identitet kontrollerad på plats, beslut enligt rutin.")
    ui.click("Öppna journalen igen")
    expect(ui.page).to_have_url(re.compile(r"/staff/seals/$"))
    expect(_status_message(ui, "Journalen är öppnad igen. Skälet är loggat.")).to_be_visible()
    seal.refresh_from_db()
    assert seal.reopened_at is not None
    assert seal.reopened_by_id == personas.archivist.pk
    assert seal.reopen_reason == "Identitet kontrollerad på plats, beslut enligt rutin."

    # Searching again finds no active seal.
    ui.page.get_by_label("Personnummer").fill(sofia.personnummer)
    ui.click("Sök")
    expect(ui.page.get_by_text("Den personens journal är inte förseglad.")).to_be_visible()
