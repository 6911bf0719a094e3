"""The baseline of bench/waiting_room.py: a bare Channels consumer with the same traffic and none
of the platform (no session, no ticket, no database): each socket is told a number every
VK_VIDEO_QUEUE_UPDATE_SECONDS by the same kind of per-process ticker, and a "take" on one socket is
sent through the channel layer to another socket, as a nurse's take reaches a caller."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vardkontakt.settings")
django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

SOCKETS: dict[str, EchoConsumer] = {}
TICKER: list[asyncio.Task[None]] = []
EVERY = int(os.environ.get("VK_VIDEO_QUEUE_UPDATE_SECONDS", "5"))


async def tick_forever() -> None:
    while SOCKETS:
        at = int(time.time() * 1000)
        for number, (name, consumer) in enumerate(list(SOCKETS.items())):
            with contextlib.suppress(Exception):  # as the platform's ticker: one gone socket stops nothing
                await consumer.send_json({"type": "place", "position": number, "at": at, "id": name})
        await asyncio.sleep(EVERY)
    TICKER.clear()


class EchoConsumer(AsyncJsonWebsocketConsumer):
    name = ""

    async def connect(self) -> None:
        self.name = str(self.scope["url_route"]["kwargs"]["name"])
        await self.accept()
        SOCKETS[self.name] = self
        if not TICKER:
            TICKER.append(asyncio.get_running_loop().create_task(tick_forever()))
        await self.send_json({"type": "place", "position": 0, "at": int(time.time() * 1000)})

    async def disconnect(self, code: int) -> None:
        SOCKETS.pop(self.name, None)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        target = SOCKETS.get(str(content.get("to", "")))
        if content.get("type") == "take" and target is not None:
            await self.channel_layer.send(target.channel_name, {"type": "taken", "at": content.get("at")})
            await self.send_json({"type": "took"})

    async def taken(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "taken", "room_url": "/", "at": event["at"]})


application = ProtocolTypeRouter({"websocket": URLRouter([path("echo/<str:name>/", EchoConsumer.as_asgi())])})
