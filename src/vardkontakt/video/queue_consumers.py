"""The drop-in queues' sockets: a caller's (their place, told every few seconds, and the moment a
nurse takes or routes them) and a nurse's (the queue live: who waits and for how long; take the
next, route one on).

The place updates do not pass the channel layer: each process keeps its own sockets and, every
VIDEO_QUEUE_UPDATE_SECONDS, reads every waiting caller's place in one query and sends each of its
sockets theirs. A take or a route, which must reach a socket wherever it is, goes through the
channel layer to the caller's socket (its channel name is kept on the caller's row).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from vardkontakt.identity.models import User
from vardkontakt.identity.sockets import EndsWithItsSession
from vardkontakt.video import queues, selectors
from vardkontakt.video.consumers import POLICY_VIOLATION
from vardkontakt.video.models import CallerState, DropInQueue, QueueCaller, RoomToken
from vardkontakt.video.services import Refused, _spend

# The callers' sockets' database calls (a connect: the session, the ticket, the caller, the place;
# the places' round) run in threads of their own, several at once: thousands of sockets connecting
# would otherwise wait in one line for the one thread of Channels' database calls, each of them
# mostly waiting on PostgreSQL. (The nurses' calls stay in that thread.)
_CALLER_THREADS = ThreadPoolExecutor(max_workers=settings.VIDEO_SOCKET_DB_THREADS, thread_name_prefix="video-callers")


def _in_caller_thread(func: Callable[..., Any]) -> Any:
    return database_sync_to_async(func, thread_sensitive=False, executor=_CALLER_THREADS)


class Registry:
    """This process's queue sockets and the task that tells them their places."""

    def __init__(self) -> None:
        self.callers: dict[str, CallerConsumer] = {}
        self.staff: set[StaffQueueConsumer] = set()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.tick_forever())

    async def tick_forever(self) -> None:
        while self.callers or self.staff:
            with contextlib.suppress(Exception):  # a failed round (the database away) is retried
                await self.tick()
            await asyncio.sleep(settings.VIDEO_QUEUE_UPDATE_SECONDS)
        self.task = None

    async def tick(self) -> None:
        found = await _in_caller_thread(_all_places)()
        at = int(time.time() * 1000)
        for n, (caller_id, consumer) in enumerate(list(self.callers.items()), start=1):
            place = found.get(caller_id)
            if place is not None:
                # One socket that has just gone must not keep the others from their places.
                with contextlib.suppress(Exception):
                    await consumer.send(text_data=_place_message(place, at))
            if n % TICK_SLICE == 0:
                # Sending never waits for a socket, so without this a round over thousands of
                # sockets would hold the event loop: a nurse's take or a new socket waits no
                # longer than one slice.
                await asyncio.sleep(0)
        for staff in list(self.staff):
            with contextlib.suppress(Exception):
                await staff.send_queue()


REGISTRY = Registry()
# Sockets told their places between two turns of the event loop for others (a take, a connect).
TICK_SLICE = 250


def _place_message(place: queues.Place, at: int) -> str:
    return json.dumps({"type": "place", "position": place.position, "waiting_seconds": place.waiting_seconds, "at": at})


def _all_places() -> dict[str, queues.Place]:
    now = timezone.now()
    open_now = list(DropInQueue.objects.filter(opens_at__lte=now, closes_at__gt=now).values_list("pk", flat=True))
    return queues.places(open_now, now)


def _ticket(scope: dict[str, Any]) -> str:
    return parse_qs(scope.get("query_string", b"").decode()).get("ticket", [""])[0]


def caller_connect(*, ticket: str, user: User | None, caller_id: str, channel_name: str) -> None:
    """The caller's socket with the page's ticket (single-use, theirs, for this place in a queue)."""
    if user is None or not user.is_authenticated or not ticket:
        raise Refused
    token = _spend(ticket, timezone.now())
    if token is None or token.user_id != user.pk or str(token.caller_id) != caller_id:
        raise Refused
    # The socket's channel on the caller's row, if they (still) wait: one statement.
    mine = QueueCaller.objects.filter(pk=caller_id, joined_by__user=user, state=CallerState.WAITING)
    if not mine.update(channel_name=channel_name):
        raise Refused


def _caller_connected(*, ticket: str, user: User | None, caller_id: str, channel_name: str) -> queues.Place | None:
    """caller_connect and the caller's place, in one database call of the socket (one thread's
    turn, one connection): the place from their own queue's waiting callers, not every queue's."""
    caller_connect(ticket=ticket, user=user, caller_id=caller_id, channel_name=channel_name)
    return queues.place_of(caller_id)


def staff_connect(*, ticket: str, user: User | None, queue_id: str) -> RoomToken:
    if user is None or not user.is_authenticated or not ticket or not user.is_staff_member:
        raise Refused
    token = _spend(ticket, timezone.now())
    if token is None or token.user_id != user.pk or str(token.queue_id) != queue_id:
        raise Refused
    from vardkontakt.video.policy import staff_may_join

    if not staff_may_join(user.staff, token.queue.unit):  # type: ignore[union-attr]
        raise Refused
    return token


class CallerConsumer(EndsWithItsSession, AsyncJsonWebsocketConsumer):
    caller_id = ""

    async def connect(self) -> None:
        caller_id = str(self.scope["url_route"]["kwargs"]["caller_id"])
        await self.accept()
        await self.follow_session()  # before the session is read: a logout from then on reaches it
        try:
            place = await _in_caller_thread(_caller_connected)(
                ticket=_ticket(self.scope),
                user=self.scope.get("user"),
                caller_id=caller_id,
                channel_name=self.channel_name,
            )
        except Refused:
            await self.close(code=POLICY_VIOLATION)
            return
        self.caller_id = caller_id
        REGISTRY.callers[caller_id] = self
        REGISTRY.start()
        if place is not None:
            await self.send(text_data=_place_message(place, int(time.time() * 1000)))

    async def disconnect(self, code: int) -> None:
        if REGISTRY.callers.get(self.caller_id) is self:
            del REGISTRY.callers[self.caller_id]
        await self.unfollow_session()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.caller_id and isinstance(content, dict) and content.get("type") == "leave":
            await database_sync_to_async(queues.caller_leave)(caller_id=self.caller_id, user=self.scope["user"])
            await self.close()

    async def video_taken(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "taken", "room_url": event["room_url"], "at": event["at"]})

    async def video_routed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "routed", "queue": event["queue"]})


def _queue_view(queue_id: str, staff: Any, shown: set[str]) -> dict[str, Any]:
    # Each caller shown is logged once per sitting (``shown``: this socket's callers already logged).
    return selectors.queue_callers_for_staff(staff=staff, queue_id=queue_id, shown=shown)


class StaffQueueConsumer(EndsWithItsSession, AsyncJsonWebsocketConsumer):
    queue_id = ""

    async def connect(self) -> None:
        queue_id = str(self.scope["url_route"]["kwargs"]["queue_id"])
        await self.accept()
        await self.follow_session()  # before the session is read: a logout from then on reaches it
        try:
            await database_sync_to_async(staff_connect)(
                ticket=_ticket(self.scope), user=self.scope.get("user"), queue_id=queue_id
            )
        except Refused:
            await self.close(code=POLICY_VIOLATION)
            return
        self.queue_id = queue_id
        self.staff = self.scope["user"].staff
        self.shown: set[str] = set()
        REGISTRY.staff.add(self)
        REGISTRY.start()
        await self.send_queue()

    async def send_queue(self) -> None:
        await self.send_json(await database_sync_to_async(_queue_view)(self.queue_id, self.staff, self.shown))

    async def disconnect(self, code: int) -> None:
        REGISTRY.staff.discard(self)
        await self.unfollow_session()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not self.queue_id or not isinstance(content, dict):
            return
        layer = get_channel_layer()
        if content.get("type") == "take":
            started = int(time.time() * 1000)
            room = await database_sync_to_async(queues.caller_take_next)(staff=self.staff, queue_id=self.queue_id)
            if room is None:
                await self.send_json({"type": "nobody"})
                return
            caller = room.caller  # as caller_take_next read it, row-locked: its socket's channel
            if caller.channel_name and layer is not None:
                url = reverse("video:drop_in_room", args=[caller.pk])
                await layer.send(caller.channel_name, {"type": "video.taken", "room_url": url, "at": started})
            await self.send_json({"type": "took", "room_url": reverse("video_staff:drop_in_room", args=[caller.pk])})
        elif content.get("type") == "route":
            try:
                uuid.UUID(str(content.get("caller")))
                caller = await database_sync_to_async(queues.caller_route)(
                    staff=self.staff,
                    caller_id=str(content.get("caller")),
                    to_queue_id=content.get("queue") or None,
                    to_staff_id=content.get("staff") or None,
                )
            except (ValueError, queues.QueueRefused, Exception):
                await self.send_json({"type": "refused"})
                return
            if caller.channel_name and layer is not None:
                name = await database_sync_to_async(lambda: caller.queue.name)()
                await layer.send(caller.channel_name, {"type": "video.routed", "queue": name})
            await self.send_queue()
