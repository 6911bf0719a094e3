"""A socket is let in only on a session a page would still accept: one past its idle limit (30
minutes without a request) or its absolute limit (12 hours from the login) is refused with 1008,
as a stranger's, even with a valid ticket made before the session ended."""

from __future__ import annotations

import time
from importlib import import_module

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import reverse

from tests.conftest import Personas
from tests.video.conftest import run_in_own_loop
from tests.video.test_drop_in import connect, next_of, socket_of, tolvan_in_a_queue
from vardkontakt.identity.middleware import AUTH_AT, SEEN_AT

pytestmark = pytest.mark.django_db(transaction=True)


def age_session(cookie: str, *, seen_minutes_ago: int, login_hours_ago: int = 0) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie)
    now = int(time.time())
    store[SEEN_AT] = now - seen_minutes_ago * 60
    store[AUTH_AT] = now - login_hours_ago * 3600 - seen_minutes_ago * 60
    store.save()


@pytest.mark.parametrize(
    ("seen_minutes_ago", "login_hours_ago", "let_in"),
    [(29, 0, True), (31, 0, False), (5, 12, False)],
    ids=["active", "idle-past-30-minutes", "past-12-hours"],
)
def test_a_socket_needs_a_session_a_page_would_accept(
    personas: Personas, unit_x, seen_minutes_ago: int, login_hours_ago: int, let_in: bool
):
    caller = tolvan_in_a_queue(personas, unit_x)

    async def visit() -> None:
        path, ticket, cookie = await sync_to_async(socket_of)(
            personas.tolvan, reverse("video:caller", args=[caller.pk])
        )
        await sync_to_async(age_session)(cookie, seen_minutes_ago=seen_minutes_ago, login_hours_ago=login_hours_ago)
        socket = await connect(path, ticket, cookie)
        if let_in:
            assert (await next_of(socket, "place"))["position"] == 1
            await socket.disconnect()
        else:
            assert (await socket.receive_output(timeout=5)) == {"type": "websocket.close", "code": 1008}

    run_in_own_loop(visit())
