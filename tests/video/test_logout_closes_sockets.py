"""A logout ends the sockets opened with that session (identity/sockets.py): the video room, a
drop-in caller's place and a nurse's live queue close with LOGGED_OUT (4401), the room counts the
person as gone, and the same person's sockets of another login (another browser) stay open."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.video.conftest import VideoVisit, run_in_own_loop, session_cookie
from tests.video.test_drop_in import connect as connect_queue
from tests.video.test_drop_in import next_of, socket_of, tolvan_in_a_queue
from tests.video.test_signalling import connect, pages, ticket_of, until
from vardkontakt.identity.sockets import LOGGED_OUT
from vardkontakt.video.models import Participant, Room, State

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_LOGGED_OUT = {"type": "websocket.close", "code": LOGGED_OUT}


def log_out(cookie: str) -> None:
    """The person presses "Log out" in the browser whose session cookie this is."""
    client = Client()
    client.cookies["vk_session"] = cookie
    assert client.post(reverse("identity:logout")).status_code == 302
    assert client.get(reverse("home:home")).status_code == 302  # the session is gone


def test_a_logout_takes_the_resident_out_of_the_video_room(personas: Personas, video_visit: VideoVisit):
    resident_page, staff_page = pages(video_visit)

    async def visit() -> None:
        r_path, r_ticket, r_cookie = await sync_to_async(ticket_of)(personas.tolvan, resident_page)
        s_path, s_ticket, s_cookie = await sync_to_async(ticket_of)(personas.staff_x, staff_page)
        tolvan = await connect(r_path, r_ticket, r_cookie)
        welcome = await tolvan.receive_json_from(timeout=10)
        nurse = await connect(s_path, s_ticket, s_cookie)
        await until(nurse, "admitted")
        await nurse.send_json_to({"type": "admit", "participant": welcome["me"]})
        await until(tolvan, "admitted")

        await sync_to_async(log_out)(r_cookie)
        assert await until_closed(tolvan) == CLOSED_LOGGED_OUT
        await tolvan.disconnect()  # what the server tells the application once the socket has closed
        assert (await until(nurse, "peer-left"))["id"] == welcome["me"]
        # The nurse, logged in elsewhere, is still in the room.
        await nurse.send_json_to({"type": "chat", "text": "Hallå?"})
        assert (await until(nurse, "chat"))["text"] == "Hallå?"
        await nurse.disconnect()

    run_in_own_loop(visit())
    room = Room.objects.get(booking=video_visit.booking)
    tolvan_in_room = Participant.objects.get(room=room, user__patient=personas.tolvan)
    assert tolvan_in_room.state == State.LEFT


async def until_closed(socket) -> dict:
    """The socket's close, passing over what the room sent before it (roster updates)."""
    for _ in range(20):
        output = await socket.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            return output
    raise AssertionError("the socket was not closed")


def test_a_logout_ends_a_callers_place_socket(personas: Personas, unit_x):
    caller = tolvan_in_a_queue(personas, unit_x)

    async def visit() -> None:
        path, ticket, cookie = await sync_to_async(socket_of)(
            personas.tolvan, reverse("video:caller", args=[caller.pk])
        )
        socket = await connect_queue(path, ticket, cookie)
        assert (await next_of(socket, "place"))["position"] == 1
        await sync_to_async(log_out)(cookie)
        assert await until_closed(socket) == CLOSED_LOGGED_OUT
        await socket.disconnect()

    run_in_own_loop(visit())


def test_only_the_logged_out_browsers_queue_socket_closes(personas: Personas, unit_x, settings):
    settings.VIDEO_QUEUE_UPDATE_SECONDS = 1
    page = reverse("video_staff:queue", args=[tolvan_in_a_queue(personas, unit_x).queue_id])

    async def sitting() -> None:
        first_path, first_ticket, first_cookie = await sync_to_async(socket_of)(personas.staff_x, page)
        second = await connect_queue(*await sync_to_async(socket_of)(personas.staff_x, page))  # another browser
        first = await connect_queue(first_path, first_ticket, first_cookie)
        await next_of(first, "queue")
        await next_of(second, "queue")
        await sync_to_async(log_out)(first_cookie)
        assert await until_closed(first) == CLOSED_LOGGED_OUT
        await first.disconnect()
        assert len((await next_of(second, "queue"))["callers"]) == 1  # the next round of the live list
        await second.disconnect()

    run_in_own_loop(sitting())


def test_a_logout_completes_when_the_channel_layer_cannot_be_reached(personas: Personas, monkeypatch, caplog):
    """Redis away: the sockets are not told (they end with their page), the logout itself goes on."""

    class Unreachable:
        async def group_send(self, group: str, message: dict) -> None:
            raise ConnectionError("redis is down")

    monkeypatch.setattr("vardkontakt.identity.sockets.get_channel_layer", lambda: Unreachable())
    cookie = session_cookie(personas.tolvan)
    log_out(cookie)
    assert "the session's sockets could not be told" in caplog.text
