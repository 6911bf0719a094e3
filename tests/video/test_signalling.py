"""The room's socket end to end through the ASGI application (origin check, session, consumer,
channel layer): the ticket, the waiting room, admit, signalling between the two, chat, leave and
rejoin, end, and refusals closed with 1008 (policy violation)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from django.urls import reverse

from tests.conftest import Personas
from tests.video.conftest import Socket, VideoVisit, logged_in, run_in_own_loop, session_cookie, video_visit_of
from vardkontakt.access.models import AuditEntry
from vardkontakt.asgi import application
from vardkontakt.video.models import Participant, Room, State

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1")


def ticket_of(person: Any, path: str) -> tuple[str, str, str]:
    """Open the video page as the person: (the socket's path, its ticket, the session cookie)."""
    client = logged_in(person)
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    ws_path = re.search(r'data-ws-path="([^"]+)"', body)
    ticket = re.search(r'data-ticket="([^"]+)"', body)
    assert ws_path and ticket, "the page has no room"
    return ws_path[1], ticket[1], client.cookies["vk_session"].value


async def connect(ws_path: str, ticket: str, cookie: str, origin: tuple[bytes, bytes] = ORIGIN) -> Socket:
    headers = [origin, (b"cookie", f"vk_session={cookie}".encode())]
    communicator = Socket(application, f"{ws_path}?ticket={ticket}", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def refused(communicator: Socket) -> bool:
    answer = await communicator.receive_output(timeout=10)
    return answer == {"type": "websocket.close", "code": 1008}


async def until(communicator: Socket, kind: str) -> dict[str, Any]:
    """The next message of this kind (others, such as roster updates, are passed over)."""
    for _ in range(20):
        message = await communicator.receive_json_from(timeout=10)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind}")


def pages(visit: VideoVisit) -> tuple[str, str]:
    booking = visit.booking.pk
    return reverse("video:room", args=[booking]), reverse("video_staff:room", args=[booking])


def test_the_resident_waits_is_admitted_and_they_talk(personas: Personas, video_visit: VideoVisit):
    resident_page, staff_page = pages(video_visit)

    async def visit() -> None:
        r_path, r_ticket, r_cookie = await sync_to_async(ticket_of)(personas.tolvan, resident_page)
        s_path, s_ticket, s_cookie = await sync_to_async(ticket_of)(personas.staff_x, staff_page)
        assert r_path == s_path
        tolvan = await connect(r_path, r_ticket, r_cookie)
        welcome = await tolvan.receive_json_from(timeout=10)
        assert welcome["state"] == "waiting"
        nurse = await connect(s_path, s_ticket, s_cookie)
        assert (await nurse.receive_json_from(timeout=10))["state"] == "admitted"
        assert (await until(nurse, "admitted"))["peers"] == []
        roster = await until(nurse, "roster")
        waiting = [p for p in roster["people"] if p["state"] == "waiting"]
        assert [p["name"] for p in waiting] == ["Tolvan Tolvansson"]
        # A waiting person's socket can neither chat nor signal.
        await tolvan.send_json_to({"type": "chat", "text": "hallå?"})
        await nurse.send_json_to({"type": "admit", "participant": welcome["me"]})
        admitted = await until(tolvan, "admitted")
        assert len(admitted["peers"]) == 1
        nurse_id = admitted["peers"][0]
        await tolvan.send_json_to({"type": "signal", "to": nurse_id, "data": {"description": {"type": "offer"}}})
        signal = await until(nurse, "signal")
        assert signal == {"type": "signal", "from": welcome["me"], "data": {"description": {"type": "offer"}}}
        await nurse.send_json_to({"type": "chat", "text": "Välkommen!"})
        assert (await until(tolvan, "chat"))["text"] == "Välkommen!"
        chat = await until(nurse, "chat")
        assert chat["text"] == "Välkommen!", "the chat sent while waiting never arrived"
        # Tolvan leaves and comes back with a new page: she is let straight back in.
        await tolvan.send_json_to({"type": "leave"})
        assert (await tolvan.receive_output(timeout=10))["type"] == "websocket.close"
        await tolvan.disconnect()  # what the server sends the application once the socket has closed
        assert (await until(nurse, "peer-left"))["id"] == welcome["me"]
        r_path, r_ticket, r_cookie = await sync_to_async(ticket_of)(personas.tolvan, resident_page)
        again = await connect(r_path, r_ticket, r_cookie)
        assert (await again.receive_json_from(timeout=10))["state"] == "admitted"
        # The nurse ends the visit: everyone is told and disconnected.
        await nurse.send_json_to({"type": "end"})
        assert (await until(again, "ended"))["type"] == "ended"
        assert (await until(nurse, "ended"))["type"] == "ended"
        await again.disconnect()
        await nurse.disconnect()

    run_in_own_loop(visit())
    room = Room.objects.get(booking=video_visit.booking)
    assert room.status == "ended"
    assert set(Participant.objects.filter(room=room).values_list("state", flat=True)) == {State.LEFT}
    actions = list(AuditEntry.objects.filter(object_id=str(room.pk)).values_list("action", "actor_id", "patient_id"))
    tolvan, nurse, patient = str(personas.tolvan.pk), str(personas.staff_x.pk), str(personas.tolvan.pk)
    assert actions == [
        ("video.join", tolvan, patient),
        ("video.join", nurse, patient),
        ("video.admit", nurse, patient),
        ("video.join", tolvan, patient),
        ("video.end", nurse, patient),
    ]


def test_a_ticket_is_used_once_and_only_by_its_owner(personas: Personas, video_visit: VideoVisit):
    resident_page, _ = pages(video_visit)

    async def visit() -> None:
        path, ticket, cookie = await sync_to_async(ticket_of)(personas.tolvan, resident_page)
        # Someone else's session with Tolvan's ticket (a leaked link): refused, and the ticket is spent.
        stranger = await sync_to_async(session_cookie)(personas.other_patient)
        assert await refused(await connect(path, ticket, stranger))
        assert await refused(await connect(path, ticket, cookie))
        # A fresh ticket works once; the second use of it is refused.
        path, ticket, cookie = await sync_to_async(ticket_of)(personas.tolvan, resident_page)
        first = await connect(path, ticket, cookie)
        assert (await first.receive_json_from(timeout=10))["type"] == "welcome"
        assert await refused(await connect(path, ticket, cookie))
        await first.disconnect()

    run_in_own_loop(visit())


def test_strangers_sockets_are_closed_with_the_policy_code(personas: Personas, video_visit: VideoVisit):
    _, staff_page = pages(video_visit)

    async def visit() -> None:
        path, ticket, cookie = await sync_to_async(ticket_of)(personas.staff_x, staff_page)
        # No ticket, an invented one, no session, a nurse of another unit: refused.
        assert await refused(await connect(path, "", cookie))
        assert await refused(await connect(path, "invented", cookie))
        assert await refused(await connect(path, ticket, "no-session"))
        elsewhere = await sync_to_async(session_cookie)(personas.nurse)
        assert await refused(await connect(path, ticket, elsewhere))
        # Another site's page may not open the socket at all (the origin check answers the handshake).
        communicator = Socket(
            application,
            f"{path}?ticket={ticket}",
            headers=[(b"origin", b"https://evil.example"), (b"cookie", f"vk_session={cookie}".encode())],
        )
        connected, _ = await communicator.connect()
        assert not connected

    run_in_own_loop(visit())
    assert not AuditEntry.objects.filter(action="video.join").exists()


def test_the_waiting_room_opens_at_the_units_minutes_before(personas: Personas, unit_x):
    later = video_visit_of(personas.tolvan, unit_x, personas.staff_x, in_minutes=40)
    response = logged_in(personas.tolvan).get(reverse("video:room", args=[later.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-ticket" not in body
    assert "The waiting room opens at" in body or "Väntrummet öppnar" in body
    assert not Room.objects.filter(booking=later).exists()


def test_only_the_video_pages_may_use_the_camera(personas: Personas, video_visit: VideoVisit):
    resident_page, _ = pages(video_visit)
    client = logged_in(personas.tolvan)
    assert client.get(resident_page)["Permissions-Policy"] == "camera=(self), microphone=(self), geolocation=()"
    assert client.get(reverse("booking:mine"))["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"


@override_settings(
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:6379/3"]},
        }
    }
)
def test_a_room_over_the_redis_channel_layer(personas: Personas, video_visit: VideoVisit):
    """What several web processes need: the admit reaches the waiting socket through Redis."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()  # the layer is built again from the overridden setting
    resident_page, staff_page = pages(video_visit)

    async def visit() -> None:
        tolvan = await connect(*await sync_to_async(ticket_of)(personas.tolvan, resident_page))
        me = (await tolvan.receive_json_from(timeout=10))["me"]
        nurse = await connect(*await sync_to_async(ticket_of)(personas.staff_x, staff_page))
        await until(nurse, "admitted")
        await nurse.send_json_to({"type": "admit", "participant": me})
        assert (await until(tolvan, "admitted"))["peers"]
        await nurse.send_json_to({"type": "chat", "text": "Hörs jag?"})
        assert (await until(tolvan, "chat"))["text"] == "Hörs jag?"
        await tolvan.disconnect()
        await nurse.disconnect()

    try:
        run_in_own_loop(visit())
    finally:
        channel_layers.backends.clear()
