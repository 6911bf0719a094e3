"""Issue 16 §7: "Nytt för dig" on the start page. It said "Din tid är bokad (2026-12-06 09:00)" with
the time the notice was made, not the appointment's; items were no links, never cleared, piled up
and said nobody's name. Each is now a link to what it is about, leaves the list when opened or
removed, and names the person and unit where the reader may see them.

The clock stands on Tuesday 1 December 2026, 10:00; the appointments lie ahead of it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry, Guardianship
from vardkontakt.booking.models import Slot, VisitType
from vardkontakt.booking.schedule import local_instant
from vardkontakt.booking.services import booking_cancel, booking_create_online, booking_move_online
from vardkontakt.cases.services import case_reply
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.home.notices import SHOWN
from vardkontakt.identity.models import Patient, User
from vardkontakt.notifications.models import About, Notification, NotificationKind
from vardkontakt.notifications.services import notification_create

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=STOCKHOLM)
FRIDAY = dt.date(2026, 12, 11)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def slots(unit_x, personas) -> list[Slot]:
    """Hälsosamtal at Lindängen, Friday 11 December at 09:00 and 09:30, booked online."""
    visit = VisitType.objects.create(
        unit=unit_x,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )
    return [
        Slot.objects.create(
            unit=unit_x,
            practitioner=personas.staff_x,
            visit_type=visit,
            place="Rum 4",
            starts_at=local_instant(FRIDAY, dt.time(9, minute)),
            ends_at=local_instant(FRIDAY, dt.time(9, minute)) + dt.timedelta(minutes=30),
        )
        for minute in (0, 30)
    ]


def client_of(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def news(client: Client) -> str:
    """The "Nytt för dig" card of the start page ('' when there is none)."""
    page = client.get("/patient/").content.decode()
    found = re.search(r"<h2 class=\"nhsuk-card__heading\">Nytt för dig</h2>(.*?)</div></div>", page, re.S)
    return found.group(1) if found else ""


def test_a_booked_appointment_says_when_and_where_and_leads_to_the_booking(personas, unit_x, slots):
    booking = booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)
    tolvan = client_of(personas.tolvan)
    card = news(tolvan)
    assert "Din tid är bokad: Hälsosamtal på Vårdcentralen Lindängen, fredag 11 december 2026, 09:00." in card
    assert "Kom 1 december 10:00" in card  # when the notice came is labelled as such
    notice = Notification.objects.get(recipient=personas.tolvan)
    assert f'href="/patient/notices/{notice.id}/"' in card
    opened = tolvan.get(f"/patient/notices/{notice.id}/")
    assert opened.status_code == 302 and opened["Location"] == f"/bookings/{booking.id}/"
    notice.refresh_from_db()
    assert notice.read_at == NOW
    assert news(tolvan) == ""  # read: it leaves the list


def test_a_removed_notice_leaves_the_list_and_nobody_else_can_touch_it(personas, unit_x, slots):
    booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)
    notice = Notification.objects.get(recipient=personas.tolvan)
    other = client_of(personas.other_patient)
    assert other.post(f"/patient/notices/{notice.id}/dismiss/").status_code == 404
    assert other.get(f"/patient/notices/{notice.id}/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None
    tolvan = client_of(personas.tolvan)
    assert tolvan.get(f"/patient/notices/{notice.id}/dismiss/").status_code == 405  # removing is a POST
    response = tolvan.post(f"/patient/notices/{notice.id}/dismiss/", follow=True)
    assert "Meddelandet är borttaget från listan." in response.content.decode()
    assert news(tolvan) == ""


def test_a_booking_shows_once_and_a_moved_one_shows_where_it_went(personas, unit_x, slots, clock):
    booking = booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)
    clock.shift(dt.timedelta(days=3))
    notification_create(
        recipient=personas.tolvan,
        kind=NotificationKind.BOOKING_REMINDER,
        cause=f"reminder:{booking.pk}",
        about=About.BOOKING,
        about_id=booking.pk,
    )
    card = news(client_of(personas.tolvan))
    assert card.count("<li") == 1 and "Påminnelse: Hälsosamtal på Vårdcentralen Lindängen" in card
    clock.shift(dt.timedelta(hours=1))
    moved = booking_move_online(booking_id=booking.pk, new_slot_id=slots[1].pk, actor=personas.tolvan)
    card = news(client_of(personas.tolvan))
    assert card.count("<li") == 1  # the old time's confirmation and reminder are overtaken
    assert "Din tid är flyttad till fredag 11 december 2026, 09:30: Hälsosamtal på Vårdcentralen Lindängen." in card
    clock.shift(dt.timedelta(hours=1))
    booking_cancel(booking_id=moved.pk, by_patient=personas.tolvan)
    assert "Din tid på Vårdcentralen Lindängen fredag 11 december 2026, 09:30 är avbokad." in news(
        client_of(personas.tolvan)
    )


def test_opening_one_notice_reads_every_notice_about_the_same_thing(personas, unit_x, slots):
    booking = booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)
    notification_create(
        recipient=personas.tolvan,
        kind=NotificationKind.BOOKING_REMINDER,
        cause=f"reminder:{booking.pk}",
        about=About.BOOKING,
        about_id=booking.pk,
    )
    newest = Notification.objects.get(kind=NotificationKind.BOOKING_REMINDER)
    client_of(personas.tolvan).get(f"/patient/notices/{newest.id}/")
    assert not Notification.objects.filter(recipient=personas.tolvan, read_at__isnull=True).exists()


def test_a_guardian_is_told_whose_appointment_it_is_and_the_read_is_logged(personas, unit_x, slots):
    booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.child_9, actor=personas.guardian)
    card = news(client_of(personas.guardian))
    name = personas.child_9.full_name
    assert f"Tiden för {name} är bokad: Hälsosamtal på Vårdcentralen Lindängen, fredag 11 december 2026, 09:00." in card
    read = AuditEntry.objects.get(action="notice.read")
    assert (read.actor_id, read.patient_id) == (str(personas.guardian.pk), str(personas.child_9.pk))
    # One's own notices are not logged as reads of anyone.
    booking_create_online(slot_id=slots[1].pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)
    news(client_of(personas.tolvan))
    assert AuditEntry.objects.filter(action="notice.read").count() == 1


def test_once_the_guardian_may_no_longer_act_the_notice_names_nobody_and_leads_nowhere(personas, unit_x, slots):
    booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.child_9, actor=personas.guardian)
    Guardianship.objects.filter(guardian=personas.guardian, child=personas.child_9).update(
        blocked_at=NOW, block_reason="Beslut av verksamhetschefen."
    )
    card = news(client_of(personas.guardian))
    assert "Din tid är bokad" in card  # the notice's own words only
    assert personas.child_9.full_name not in card and "Lindängen" not in card
    assert "/patient/notices/" not in card.split("<form")[0]  # no link, only "Ta bort"
    notice = Notification.objects.get(recipient=personas.guardian)
    opened = client_of(personas.guardian).get(f"/patient/notices/{notice.id}/")
    assert opened["Location"] == "/patient/"
    assert not AuditEntry.objects.filter(action="notice.read").exists()


def test_news_in_a_case_names_the_service_and_the_unit(personas, tolvans_case):
    case_reply(case=tolvans_case, by=personas.staff_x, body="Välkommen på tisdag.", version=tolvans_case.version)
    card = news(client_of(personas.tolvan))
    assert "Nytt i ditt ärende ”Rådgivning” hos Vårdcentralen Lindängen." in card
    notice = Notification.objects.get(recipient=personas.tolvan)
    assert client_of(personas.tolvan).get(f"/patient/notices/{notice.id}/")["Location"] == f"/cases/{tolvans_case.id}/"


def test_a_proxy_request_names_who_asks_but_an_ended_one_names_nobody(personas):
    from vardkontakt.access.services import proxy_invite

    proxy_invite(
        principal=personas.tolvan,
        agent_personnummer=personas.other_patient.personnummer,
        scope_record=True,
        scope_cases=False,
        scope_bookings=False,
        expires_on=None,
        idempotency_key="notice-proxy",
    )
    assert f"{personas.tolvan.full_name} har bett dig att vara ombud." in news(client_of(personas.other_patient))
    # Kent's proxy for Gunnel was ended (demo): his notice says so without her name.
    kent = news(client_of(personas.revoked_proxy))
    assert "Ett ombudskap har avslutats" in kent
    assert personas.principal.full_name not in kent


def test_the_list_keeps_to_a_few_and_can_be_emptied(personas):
    for n in range(SHOWN + 3):
        notification_create(recipient=personas.tolvan, kind=NotificationKind.RECORD_SEALED, cause=f"many:{n}")
    tolvan = client_of(personas.tolvan)
    card = news(tolvan)
    assert card.count('class="vk-notice"') == SHOWN
    assert "Och 3 äldre meddelanden" in card
    assert tolvan.post("/patient/notices/dismiss/").status_code == 302
    assert news(tolvan) == ""
    assert not Notification.objects.filter(recipient=personas.tolvan, read_at__isnull=True).exists()


def test_no_news_while_acting_for_someone_else(personas, unit_x, slots):
    booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=personas.child_9, actor=personas.guardian)
    guardian = client_of(personas.guardian)
    guardian.post("/acting-for/", {"subject": str(personas.child_9.pk)})
    assert news(guardian) == ""
