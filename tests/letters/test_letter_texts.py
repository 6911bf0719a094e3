"""The unit administrator's letter texts: a preview before saving, saved per language, used in the
next letters, refused to others, and too long a text refused with nothing saved."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import login_as
from tests.letters.conftest import at, local, slots_from
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.services import booking_create_online
from vardkontakt.identity.models import User
from vardkontakt.letters.models import Letter, LetterTemplate
from vardkontakt.letters.services import letters_issue_due
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db


def staff_client(staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


def texts(sv_preparation: str, action: str) -> dict[str, str]:
    return {
        "sv-greeting": "",
        "sv-preparation": sv_preparation,
        "sv-directions": "Ingång B, plan 2.",
        "sv-closing": "",
        "en-greeting": "",
        "en-preparation": "Bring your medicines.",
        "en-directions": "Entrance B, floor 2.",
        "en-closing": "",
        "action": action,
    }


@pytest.fixture
def lindangen(personas) -> CareUnit:
    return personas.unit_admin.memberships.get().unit


def test_preview_then_save_and_the_next_letter_carries_the_words(lindangen, personas, unit, visit):
    client = staff_client(personas.unit_admin)
    url = f"/staff/units/{lindangen.pk}/letters/"
    assert client.get(url).status_code == 200
    preview = client.post(url, texts("Ta med dina mediciner.", "preview"))
    body = preview.content.decode()
    assert preview.status_code == 200 and "Ta med dina mediciner." in body and "Bring your medicines." in body
    assert not LetterTemplate.objects.exists()  # a preview saves nothing
    saved = client.post(url, texts("Ta med dina mediciner.", "save"))
    assert saved.status_code == 302 and LetterTemplate.objects.filter(unit=lindangen).count() == 2
    assert AuditEntry.objects.filter(action="letter_template.change", unit_id=str(lindangen.pk)).count() == 2
    client.post(url, texts("Ta med dina mediciner.", "save"))
    assert LetterTemplate.objects.filter(unit=lindangen).count() == 2  # saved again, not twice

    slots = slots_from(unit, visit, personas.staff_x, local(2026, 12, 7, 9), count=1)
    with at(local(2026, 11, 30, 10)):
        booking_create_online(slot_id=slots[0].pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    with at(local(2026, 11, 30, 18)):
        letters_issue_due()
    letter = Letter.objects.get()
    assert "Ta med dina mediciner." in letter.html_sv and "Entrance B, floor 2." in letter.html_en


def test_too_long_a_text_is_refused_and_nothing_is_saved(lindangen, personas):
    client = staff_client(personas.unit_admin)
    response = client.post(f"/staff/units/{lindangen.pk}/letters/", texts("x" * 2001, "save"))
    assert response.status_code == 400 and not LetterTemplate.objects.exists()


def test_only_the_units_administrator_may_change_its_texts(lindangen, personas):
    url = f"/staff/units/{lindangen.pk}/letters/"
    assert staff_client(personas.staff_x).get(url).status_code == 403  # a member
    assert staff_client(personas.nurse).get(url).status_code == 404  # another unit's
    assert staff_client(personas.staff_x).post(url, texts("Hej", "save")).status_code == 403
    assert not LetterTemplate.objects.exists()


def test_the_region_administrator_sets_the_letter_rules(personas):
    from vardkontakt.letters.models import LetterSettings
    from vardkontakt.organisation.models import Region

    region = Region.objects.get()
    url = f"/staff/regions/{region.pk}/letters/"
    client = staff_client(personas.region_admin)
    page = client.get(url)
    assert page.status_code == 200 and 'value="18"' in page.content.decode()  # the default shown
    bad = client.post(url, {"issue_hour": "24", "paper_days_before": "5", "keep_days_without_account": "90"})
    assert bad.status_code == 400 and not LetterSettings.objects.exists()
    rules = {"issue_hour": "17", "paper_days_before": "7", "keep_days_without_account": "90"}
    assert client.post(url, rules).status_code == 302
    saved = LetterSettings.objects.get(region=region)
    assert (saved.issue_hour, saved.paper_days_before) == (17, 7)
    entry = AuditEntry.objects.get(action="letter_settings.change")
    assert entry.detail == "issue_hour, paper_days_before"
    client.post(url, rules)  # the same again: nothing changed, nothing logged
    assert AuditEntry.objects.filter(action="letter_settings.change").count() == 1
    assert staff_client(personas.unit_admin).get(url).status_code == 404
