"""An interpreter invited by staff to a video visit (issue 18): the unit's staff invite a person by
personnummer, a neutral notice goes to the address they give, the interpreter logs in with their
own e-ID, finds the invitation, waits and is let in as ``interpreter``. A link alone lets nobody in;
the invitation holds for its visit and day only, can be withdrawn (which takes the interpreter out),
and other units' staff cannot invite. Four people at most: a fifth socket is closed with 4009.
Every invite, withdrawal, join and admit is logged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.helpers import at_once
from tests.video.conftest import VideoVisit, logged_in, run_in_own_loop, session_cookie, video_visit_of
from tests.video.test_signalling import connect, refused, ticket_of, until
from vardkontakt.access.models import AuditEntry
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.identity.services import patient_get_or_register
from vardkontakt.notifications import messages
from vardkontakt.notifications.models import Delivery, Notification, NotificationKind
from vardkontakt.video import services
from vardkontakt.video.models import Invitation, Participant, Role, Room, State

pytestmark = pytest.mark.django_db(transaction=True)
# Test personnummer (valid check digits, invented people).
INTERPRETER = "198602032388"
SECOND_INTERPRETER = "197710179826"


def invite(staff: Any, booking_id: Any, number: str = INTERPRETER, contact: str = "tolk@example.org") -> Any:
    return logged_in(staff).post(
        reverse("video_staff:interpreters", args=[booking_id]), {"personnummer": number, "contact": contact}
    )


def interpreter(number: str = INTERPRETER) -> Patient:
    """The invited person, with the account their first e-ID login gives them."""
    person = Patient.objects.get(personnummer=number)
    User.objects.get_or_create_for_patient(person)
    return person


def test_an_invited_interpreter_waits_is_let_in_and_joins_as_interpreter(personas: Personas, video_visit: VideoVisit):
    booking = video_visit.booking
    response = invite(personas.staff_x, booking.pk, "19860203-2388", "tolk@example.org")
    assert response.status_code == 302
    invitation = Invitation.objects.get(booking=booking)
    assert invitation.interpreter.personnummer == INTERPRETER and invitation.unit == video_visit.unit
    # The notice goes to the address the staff gave, and says nothing of the patient or the unit.
    notice = Notification.objects.get(recipient=invitation.interpreter)
    assert notice.kind == NotificationKind.INTERPRETER_INVITED
    assert list(Delivery.objects.filter(notification=notice).values_list("channel", "address")) == [
        ("email", "tolk@example.org")
    ]
    for language in ("sv", "en"):
        text = messages.render(notice.kind, language=language, context=notice.context)
        local = timezone.localtime(booking.slot.starts_at)
        assert local.strftime("%H:%M") in text.body
        for secret in ("Tolvan", "Tolvansson", video_visit.unit.name, "1212"):
            assert secret not in text.body and secret not in text.subject
    # The same form sent twice (a double click): one invitation, one notice.
    invite(personas.staff_x, booking.pk, INTERPRETER, "tolk@example.org")
    assert Invitation.objects.filter(booking=booking).count() == 1
    assert Notification.objects.filter(recipient=invitation.interpreter).count() == 1

    # The interpreter, logged in with their own e-ID, sees today's invitation: the time and the unit.
    person = interpreter()
    # Their start page has the notice, leading to their invitations.
    home = logged_in(person).get(reverse("home:patient_home")).content.decode()
    assert "ombedd att tolka" in home or "asked to interpret" in home
    opened = logged_in(person).get(reverse("home:notice_open", args=[notice.pk]))
    assert opened.status_code == 302 and opened["Location"] == reverse("video:interpreting")
    listing = logged_in(person).get(reverse("video:interpreting"))
    assert listing.status_code == 200
    room_page = reverse("video:interpreter_room", args=[invitation.pk])
    assert room_page in listing.content.decode()
    assert "Tolvan" not in listing.content.decode()
    page = logged_in(person).get(room_page)
    assert page.status_code == 200 and "Tolvan" not in page.content.decode()
    assert page["Permissions-Policy"].startswith("camera=(self)")

    async def visit() -> None:
        nurse = await connect(
            *await sync_to_async(ticket_of)(personas.staff_x, reverse("video_staff:room", args=[booking.pk]))
        )
        await until(nurse, "admitted")
        tolk = await connect(*await sync_to_async(ticket_of)(person, room_page))
        welcome = await tolk.receive_json_from(timeout=10)
        assert (welcome["state"], welcome["role"]) == ("waiting", "interpreter")
        for _ in range(5):  # the nurse's own entry's roster may come first
            roster = await until(nurse, "roster")
            shown = [(p["role"], p["state"]) for p in roster["people"] if p["id"] == welcome["me"]]
            if shown:
                break
        assert shown == [("interpreter", "waiting")]
        await nurse.send_json_to({"type": "admit", "participant": welcome["me"]})
        assert len((await until(tolk, "admitted"))["peers"]) == 1
        await tolk.send_json_to({"type": "chat", "text": "Tolken är här."})
        assert (await until(nurse, "chat"))["text"] == "Tolken är här."
        await tolk.disconnect()
        await nurse.disconnect()

    run_in_own_loop(visit())
    joined = Participant.objects.get(room__booking=booking, user=person.user)
    assert joined.role == Role.INTERPRETER and joined.admitted_by_id == personas.staff_x.pk
    entries = list(
        AuditEntry.objects.filter(patient_id=str(personas.tolvan.pk), action__startswith="video.")
        .exclude(action="video.page.read", actor_id=str(personas.staff_x.pk))
        .order_by("sequence")
        .values_list("action", "actor_id", "detail")
    )
    assert entries == [
        ("video.interpreter.invite", str(personas.staff_x.pk), "19860203-2388"),
        ("video.page.read", str(person.pk), "interpreter"),  # the page opened, above
        ("video.join", str(personas.staff_x.pk), "staff"),
        ("video.page.read", str(person.pk), "interpreter"),  # again, for the socket's ticket
        ("video.join", str(person.pk), "interpreter"),
        ("video.admit", str(personas.staff_x.pk), "interpreter"),
    ]


def test_the_interpreter_sees_only_the_room_and_a_link_alone_lets_nobody_in(
    personas: Personas, video_visit: VideoVisit
):
    booking = video_visit.booking
    invite(personas.staff_x, booking.pk)
    invitation = Invitation.objects.get(booking=booking)
    person = interpreter()
    client = logged_in(person)
    # Not the patient's booking, record of it or the resident's own video page.
    assert client.get(reverse("booking:detail", args=[booking.pk])).status_code == 404
    assert client.get(reverse("video:room", args=[booking.pk])).status_code == 404
    # Someone else with the interpreter's link: not found; staff: the resident side is not theirs.
    room_page = reverse("video:interpreter_room", args=[invitation.pk])
    assert logged_in(personas.other_patient).get(room_page).status_code == 404
    assert logged_in(personas.tolvan).get(room_page).status_code == 404
    assert logged_in(personas.staff_x).get(room_page).status_code == 403

    run_in_own_loop(_stranger_with_the_link(personas, person, room_page))
    assert not AuditEntry.objects.filter(action="video.join").exists()


async def _stranger_with_the_link(personas: Personas, person: Patient, room_page: str) -> None:
    """The interpreter's ticket in a stranger's session: refused, and spent by that use."""
    path, ticket, cookie = await sync_to_async(ticket_of)(person, room_page)
    stranger = await sync_to_async(session_cookie)(personas.other_patient)
    assert await refused(await connect(path, ticket, stranger))
    assert await refused(await connect(path, ticket, cookie)), "the ticket was spent by the refused use"
    assert await refused(await connect(path, "guessed", stranger))


def test_a_withdrawn_invitation_takes_the_interpreter_out(personas: Personas, video_visit: VideoVisit):
    booking = video_visit.booking
    invite(personas.staff_x, booking.pk)
    invitation = Invitation.objects.get(booking=booking)
    person = interpreter()
    room_page = reverse("video:interpreter_room", args=[invitation.pk])
    withdraw = reverse("video_staff:interpreter_withdraw", args=[booking.pk, invitation.pk])

    async def visit() -> None:
        nurse = await connect(
            *await sync_to_async(ticket_of)(personas.staff_x, reverse("video_staff:room", args=[booking.pk]))
        )
        await until(nurse, "admitted")
        tolk = await connect(*await sync_to_async(ticket_of)(person, room_page))
        me = (await tolk.receive_json_from(timeout=10))["me"]
        await nurse.send_json_to({"type": "admit", "participant": me})
        await until(tolk, "admitted")
        # A ticket taken before the withdrawal is no way back in either.
        spare = await sync_to_async(ticket_of)(person, room_page)
        response = await sync_to_async(logged_in(personas.staff_x).post)(withdraw)
        assert response.status_code == 302
        assert (await until(tolk, "removed"))["type"] == "removed"
        assert await refused(tolk)
        assert (await until(nurse, "peer-left"))["id"] == me
        assert await refused(await connect(*spare))
        await nurse.disconnect()

    run_in_own_loop(visit())
    assert logged_in(person).get(room_page).status_code == 404
    assert "interpreter_room" not in logged_in(person).get(reverse("video:interpreting")).content.decode()
    assert Participant.objects.get(room__booking=booking, user=person.user).state == State.LEFT
    # Withdrawn twice (a double click): one entry. Another unit's member: not found.
    logged_in(personas.staff_x).post(withdraw)
    assert AuditEntry.objects.filter(action="video.interpreter.withdraw").count() == 1
    assert logged_in(personas.nurse).post(withdraw).status_code == 404


def test_staff_of_another_unit_cannot_invite_and_bad_input_changes_nothing(personas: Personas, video_visit: VideoVisit):
    booking = video_visit.booking
    assert invite(personas.nurse, booking.pk).status_code == 404
    assert logged_in(personas.nurse).get(reverse("video_staff:interpreters", args=[booking.pk])).status_code == 404
    assert logged_in(personas.tolvan).get(reverse("video_staff:interpreters", args=[booking.pk])).status_code == 403
    page = reverse("video_staff:interpreters", args=[booking.pk])
    client = logged_in(personas.staff_x)
    client.cookies["django_language"] = "sv"
    wrong_number = client.post(page, {"personnummer": "19860203-2389", "contact": "tolk@example.org"})
    assert wrong_number.status_code == 400
    assert "Ange ett personnummer" in wrong_number.content.decode()
    wrong_contact = client.post(page, {"personnummer": INTERPRETER, "contact": "ring mig"})
    assert wrong_contact.status_code == 400
    assert "Ange en e-postadress eller ett mobilnummer" in wrong_contact.content.decode()
    patients_own = client.post(page, {"personnummer": personas.tolvan.personnummer, "contact": "0701234567"})
    assert patients_own.status_code == 400
    assert not Invitation.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.INTERPRETER_INVITED).exists()
    assert not AuditEntry.objects.filter(action="video.interpreter.invite").exists()
    # A mobile number: the notice goes as a text message to it.
    assert client.post(page, {"personnummer": INTERPRETER, "contact": "070-123 45 67"}).status_code == 302
    assert list(Delivery.objects.values_list("channel", "address")) == [("sms", "+46701234567")]


def test_the_invitation_holds_for_its_visit_on_its_day_only(personas: Personas, unit_x):
    # At ten in the morning today (Swedish time): "today" and "tomorrow" of the visits are plain days.
    with time_machine.travel(ten_today(), tick=True):
        holds_on_its_day(personas, unit_x)


def ten_today() -> dt.datetime:
    return dt.datetime.combine(timezone.localdate(), dt.time(10), tzinfo=STOCKHOLM)


def holds_on_its_day(personas: Personas, unit_x) -> None:
    today = video_visit_of(personas.tolvan, unit_x, personas.staff_x)
    tomorrow = video_visit_of(personas.tolvan, unit_x, personas.staff_x, in_minutes=24 * 60)
    invite(personas.staff_x, today.pk)
    invite(personas.staff_x, tomorrow.pk)
    person = interpreter()
    todays = Invitation.objects.get(booking=today)
    tomorrows = Invitation.objects.get(booking=tomorrow)
    listing = logged_in(person).get(reverse("video:interpreting")).content.decode()
    assert str(todays.pk) in listing and str(tomorrows.pk) not in listing
    assert logged_in(person).get(reverse("video:interpreter_room", args=[tomorrows.pk])).status_code == 404
    user = person.user
    assert user is not None
    room = Room.objects.create(booking=tomorrow, unit=unit_x, patient=tomorrow.patient, created_at=timezone.now())
    # Today, tomorrow's invitation lets nobody into tomorrow's room.
    with pytest.raises(services.Refused):
        services.participant_join(
            ticket=services._ticket(room, user, timezone.now()), user=user, room_id=room.pk, channel_name="x"
        )
    # Tomorrow: today's invitation is gone from the list and its page; tomorrow's works.
    with time_machine.travel(timezone.now() + dt.timedelta(days=1), tick=True):
        assert logged_in(person).get(reverse("video:interpreter_room", args=[todays.pk])).status_code == 404
        assert logged_in(person).get(reverse("video:interpreter_room", args=[tomorrows.pk])).status_code == 200
        joined = services.participant_join(
            ticket=services._ticket(room, user, timezone.now()), user=user, room_id=room.pk, channel_name="x"
        )
        assert (joined.role, joined.state) == (Role.INTERPRETER, State.WAITING)


def test_a_fifth_person_is_refused_with_its_own_code(personas: Personas, video_visit: VideoVisit):
    booking = video_visit.booking
    invite(personas.staff_x, booking.pk, INTERPRETER)
    invite(personas.staff_x, booking.pk, SECOND_INTERPRETER, "0701234567")
    first, second = interpreter(INTERPRETER), interpreter(SECOND_INTERPRETER)
    staff_page = reverse("video_staff:room", args=[booking.pk])

    def page_of(person: Patient) -> str:
        return reverse("video:interpreter_room", args=[Invitation.objects.get(interpreter=person).pk])

    async def visit() -> None:
        sockets = [
            await connect(*await sync_to_async(ticket_of)(personas.staff_x, staff_page)),
            await connect(*await sync_to_async(ticket_of)(personas.unit_admin, staff_page)),
            await connect(*await sync_to_async(ticket_of)(personas.tolvan, reverse("video:room", args=[booking.pk]))),
            await connect(*await sync_to_async(ticket_of)(first, page_of(first))),
        ]
        for socket in sockets:
            assert (await socket.receive_json_from(timeout=10))["type"] == "welcome"
        fifth = await connect(*await sync_to_async(ticket_of)(second, page_of(second)))
        assert await fifth.receive_output(timeout=10) == {"type": "websocket.close", "code": 4009}
        # One leaves: there is room for the fifth.
        await sockets[3].disconnect()
        again = await connect(*await sync_to_async(ticket_of)(second, page_of(second)))
        assert (await again.receive_json_from(timeout=10))["role"] == "interpreter"
        for socket in [*sockets[:3], again]:
            await socket.disconnect()

    run_in_own_loop(visit())
    assert AuditEntry.objects.filter(action="video.join", detail="interpreter").count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case")
def test_two_invitations_sent_at_once_invite_once(personas: Personas, video_visit: VideoVisit):
    staff = Staff.objects.get(pk=personas.staff_x.pk)
    patient_get_or_register(personnummer=INTERPRETER)  # known already: the race is on the invitation

    def send() -> None:
        services.interpreter_invite(
            staff=staff,
            booking_id=video_visit.booking.pk,
            personnummer=INTERPRETER,
            notice=("email", "tolk@example.org"),
        )

    assert at_once([send, send]) == []
    assert Invitation.objects.count() == 1
    assert Notification.objects.filter(kind=NotificationKind.INTERPRETER_INVITED).count() == 1
    assert AuditEntry.objects.filter(action="video.interpreter.invite").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case")
def test_two_joining_at_once_into_the_last_place_one_gets_it(personas: Personas, video_visit: VideoVisit):
    """Three are in the room; two interpreters join at the same moment: one is let into the waiting
    room, the other refused as the fifth (the room's row lock orders the counts)."""
    booking = video_visit.booking
    staff = Staff.objects.get(pk=personas.staff_x.pk)
    room = Room.objects.create(
        booking=booking, unit=video_visit.unit, patient=booking.patient, created_at=timezone.now()
    )
    for member in (personas.staff_x, personas.unit_admin, personas.region_admin):
        user = User.objects.get_or_create_for_staff(Staff.objects.get(pk=member.pk))
        Participant.objects.create(room=room, user=user, role=Role.STAFF, display_name="x", state=State.ADMITTED)
    users = []
    for number in (INTERPRETER, SECOND_INTERPRETER):
        services.interpreter_invite(
            staff=staff, booking_id=booking.pk, personnummer=number, notice=("sms", "+46701234567")
        )
        users.append(User.objects.get_or_create_for_patient(interpreter(number)))
    tickets = [services._ticket(room, user, timezone.now()) for user in users]

    def join(index: int) -> Callable[[], object]:
        return lambda: services.participant_join(
            ticket=tickets[index], user=users[index], room_id=room.pk, channel_name=f"c{index}"
        )

    errors = at_once([join(0), join(1)])
    assert [type(error) for error in errors] == [services.RoomFull]
    assert Participant.objects.filter(room=room).exclude(state=State.LEFT).count() == 4


def test_before_the_waiting_room_opens_the_interpreter_is_told_when(personas: Personas, unit_x):
    # At ten in the morning today (Swedish time), a visit at eleven: the same day, not yet open.
    with time_machine.travel(ten_today(), tick=True):
        told_when(personas, unit_x)


def told_when(personas: Personas, unit_x) -> None:
    later = video_visit_of(personas.tolvan, unit_x, personas.staff_x, in_minutes=60)
    invite(personas.staff_x, later.pk)
    invitation = Invitation.objects.get(booking=later)
    body = logged_in(interpreter()).get(reverse("video:interpreter_room", args=[invitation.pk])).content.decode()
    assert "data-ticket" not in body
    assert "Come back to this page" in body or "Kom tillbaka till den här sidan" in body
    assert not Room.objects.filter(booking=later).exists()
