"""The video room's signalling socket: join with the page's ticket, the waiting room, admit,
the WebRTC offers, answers and ICE candidates passed between the people in the room, the text
chat, leaving and ending.

Messages (JSON, ``type`` first). From the browser: ``admit`` (staff: ``participant``), ``signal``
(``to``, ``data``: an SDP or a candidate, passed on untouched), ``chat`` (``text``), ``end``
(staff), ``leave``. To the browser: ``welcome`` (``me``, ``state``), ``admitted`` (``peers``: the
ids to call), ``roster`` (who is waiting and in the room; only to those in the room), ``signal``,
``chat``, ``peer-left``, ``ended``. A waiting person's socket hears only ``admitted`` and ``ended``.

Whoever is admitted calls the people already in the room (an offer to each), so each pair has one
peer connection (a mesh of at most four). Nothing of the chat is stored. A refused socket is
accepted and then closed with 1008 (policy violation), so the browser can tell it from a network
error; nothing else is sent to it. A socket refused because the room holds four already is
closed with ROOM_FULL (4009), so the page can say that instead. An interpreter whose invitation is
withdrawn is taken out (``removed``, then 1008).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from vardkontakt.identity.sockets import EndsWithItsSession
from vardkontakt.video import services
from vardkontakt.video.models import Participant, Role, State

POLICY_VIOLATION = 1008
# An application's own close code (4000–4999): the room has its four already; the page says so.
ROOM_FULL = 4009
CHAT_MAX = 1000
SIGNAL_MAX = 20_000  # an SDP with a few codecs and candidates is a few kB


def _roster(room_id: uuid.UUID | str) -> dict[str, Any]:
    people = list(Participant.objects.filter(room_id=room_id).exclude(state=State.LEFT).order_by("waiting_since"))
    now = timezone.now()
    return {
        "people": [
            {
                "id": str(p.pk),
                "name": p.display_name,
                "role": p.role,
                "state": p.state,
                "waiting_seconds": int((now - p.waiting_since).total_seconds()) if p.waiting_since else 0,
            }
            for p in people
        ],
        "channels": {str(p.pk): p.channel_name for p in people if p.state == State.ADMITTED and p.channel_name},
    }


class RoomConsumer(EndsWithItsSession, AsyncJsonWebsocketConsumer):
    room_id: str
    group: str
    me: Participant | None = None
    admitted = False
    channels: dict[str, str]

    async def connect(self) -> None:
        self.room_id = str(self.scope["url_route"]["kwargs"]["room_id"])
        self.group = f"video.{uuid.UUID(self.room_id).hex}"
        self.channels = {}
        ticket = parse_qs(self.scope.get("query_string", b"").decode()).get("ticket", [""])[0]
        await self.accept()
        # Before the session is read (participant_join): a logout from then on reaches the socket.
        await self.follow_session()
        try:
            self.me = await database_sync_to_async(services.participant_join)(
                ticket=ticket, user=self.scope.get("user"), room_id=self.room_id, channel_name=self.channel_name
            )
        except services.RoomFull:
            await self.close(code=ROOM_FULL)
            return
        except services.Refused:
            await self.close(code=POLICY_VIOLATION)
            return
        await self.send_json({"type": "welcome", "me": str(self.me.pk), "state": self.me.state, "role": self.me.role})
        if self.me.state == State.ADMITTED:
            await self._enter()
        else:
            await self._roster_changed()

    async def _enter(self) -> None:
        roster = await database_sync_to_async(_roster)(self.room_id)
        self.admitted = True
        self.channels = roster["channels"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        me = str(self.me.pk) if self.me else ""
        await self.send_json({"type": "admitted", "peers": [pid for pid in self.channels if pid != me]})
        await self.channel_layer.group_send(self.group, {"type": "video.roster", **roster})

    async def _roster_changed(self) -> None:
        roster = await database_sync_to_async(_roster)(self.room_id)
        await self.channel_layer.group_send(self.group, {"type": "video.roster", **roster})

    async def disconnect(self, code: int) -> None:
        await self.unfollow_session()
        if self.me is None:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        left = await database_sync_to_async(services.participant_leave)(
            room_id=self.room_id, user=self.scope.get("user"), channel_name=self.channel_name
        )
        if left:
            await self.channel_layer.group_send(self.group, {"type": "video.peer_left", "id": str(self.me.pk)})
            await self._roster_changed()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.me is None or not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "leave":
            await self.close()
            return
        if not self.admitted:
            return  # a waiting person's socket may only leave
        if kind == "signal":
            await self._signal(content)
        elif kind == "chat":
            text = str(content.get("text", "")).strip()[:CHAT_MAX]
            if text:
                message = {"type": "video.chat", "from": self.me.display_name, "text": text}
                await self.channel_layer.group_send(self.group, message)
        elif kind == "admit" and self.me.role == Role.STAFF:
            await self._admit(str(content.get("participant", "")))
        elif kind == "end" and self.me.role == Role.STAFF:
            await self._end()

    async def _signal(self, content: dict[str, Any]) -> None:
        target = self.channels.get(str(content.get("to", "")))
        data = content.get("data")
        if target is None or target == self.channel_name or not isinstance(data, dict) or len(str(data)) > SIGNAL_MAX:
            return
        await self.channel_layer.send(target, {"type": "video.signal", "from": str(self.me.pk), "data": data})  # type: ignore[union-attr]

    async def _admit(self, participant_id: str) -> None:
        try:
            uuid.UUID(participant_id)
            admitted = await database_sync_to_async(services.participant_admit)(
                by=self.scope["user"], room_id=self.room_id, participant_id=participant_id
            )
        except (ValueError, services.Refused):
            return
        if admitted.channel_name:
            await self.channel_layer.send(admitted.channel_name, {"type": "video.admit"})

    async def _end(self) -> None:
        try:
            waiting = await database_sync_to_async(services.room_end)(by=self.scope["user"], room_id=self.room_id)
        except services.Refused:
            return
        for channel in waiting:
            await self.channel_layer.send(channel, {"type": "video.ended"})
        await self.channel_layer.group_send(self.group, {"type": "video.ended"})

    # --- messages from the channel layer -------------------------------------------------------

    async def video_admit(self, event: dict[str, Any]) -> None:
        if not self.admitted:
            await self._enter()

    async def video_roster(self, event: dict[str, Any]) -> None:
        self.channels = dict(event["channels"])
        await self.send_json({"type": "roster", "people": event["people"]})

    async def video_signal(self, event: dict[str, Any]) -> None:
        if self.admitted and event["from"] in self.channels:
            await self.send_json({"type": "signal", "from": event["from"], "data": event["data"]})

    async def video_chat(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "chat", "from": event["from"], "text": event["text"]})

    async def video_peer_left(self, event: dict[str, Any]) -> None:
        self.channels.pop(event["id"], None)
        await self.send_json({"type": "peer-left", "id": event["id"]})

    async def video_removed(self, event: dict[str, Any]) -> None:
        """The person may no longer be here (an interpreter's invitation withdrawn): already marked
        gone in the database; the others hang up on them, and the socket closes."""
        if self.me is None:
            return
        me, self.me = str(self.me.pk), None
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.channel_layer.group_send(self.group, {"type": "video.peer_left", "id": me})
        await self._roster_changed()
        await self.send_json({"type": "removed"})
        await self.close(code=POLICY_VIOLATION)

    async def video_ended(self, event: dict[str, Any]) -> None:
        self.me = None  # nothing to leave: the room has ended
        await self.send_json({"type": "ended"})
        await self.close()
