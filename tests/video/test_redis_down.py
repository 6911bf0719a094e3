"""Redis down while a video visit's socket opens: closed with 1013 "Try Again Later" (the code the
page can tell from a network error), not the server's 1011 (docs/operations.md, "Redis down")."""

from __future__ import annotations

import socket

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from tests.conftest import Personas
from tests.video.conftest import VideoVisit, run_in_own_loop
from tests.video.test_signalling import connect, pages, ticket_of
from vardkontakt.core.degraded import TRY_AGAIN_LATER

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on: connecting is refused, as with a stopped Redis."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_video_socket_is_closed_with_1013_while_the_channel_layers_redis_is_down(
    personas: Personas, video_visit: VideoVisit
):
    resident_page, staff_page = pages(video_visit)
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{_closed_port()}/0"]},
        }
    }

    async def visit() -> None:
        for person, page in ((personas.tolvan, resident_page), (personas.staff_x, staff_page)):
            path, ticket, cookie = await sync_to_async(ticket_of)(person, page)
            with override_settings(CHANNEL_LAYERS=layers):
                room = await connect(path, ticket, cookie)
                # The socket joins its session's group first (a logout closes it), on the layer.
                assert await room.receive_output(timeout=10) == {"type": "websocket.close", "code": TRY_AGAIN_LATER}

    run_in_own_loop(visit())
