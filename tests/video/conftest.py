"""A video visit at unit X a few minutes from now, and logged-in sockets to its room."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.test import Client
from django.utils import timezone

from tests.conftest import Personas
from tests.helpers import login_as
from vardkontakt.booking.models import Booking, BookingChannel, Slot, VisitType
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit


def run_in_own_loop(coroutine: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run`` in a thread of its own. The test process's main thread may already hold a
    running event loop, Playwright's sync API's from a browser test run before in the same worker,
    and asyncio.run refuses to start a second one there (seen in the whole suite, not alone)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # handed to the test's thread, which raises it
            failure.append(error)

    thread = threading.Thread(target=run, name="video-test-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@dataclass
class VideoVisit:
    unit: CareUnit
    booking: Booking


def video_visit_of(patient: Patient, unit: CareUnit, practitioner: Staff, *, in_minutes: int = 5) -> Booking:
    visit_type, _ = VisitType.objects.get_or_create(
        unit=unit,
        name="Videobesök",
        defaults={"duration_minutes": 20, "professions": ["doctor", "nurse", "district_nurse"], "video": True},
    )
    start = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=in_minutes)
    slot = Slot.objects.create(
        unit=unit,
        practitioner=practitioner,
        visit_type=visit_type,
        place="Video",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=20),
    )
    return Booking.objects.create(
        slot=slot,
        patient=patient,
        channel=BookingChannel.PHONE,
        booked_by_staff=practitioner,
        created_at=timezone.now(),
    )


@pytest.fixture
def video_visit(personas: Personas, unit_x: CareUnit) -> VideoVisit:
    return VideoVisit(unit=unit_x, booking=video_visit_of(personas.tolvan, unit_x, personas.staff_x))


def session_cookie(person: Patient | Staff) -> str:
    """The session cookie of a fresh login of the person."""
    if isinstance(person, Patient):
        user = User.objects.get_or_create_for_patient(Patient.objects.get(pk=person.pk))
    else:
        user = User.objects.get_or_create_for_staff(Staff.objects.get(pk=person.pk))
    client = login_as(Client(), user)
    return client.cookies["vk_session"].value


def logged_in(person: Patient | Staff) -> Client:
    cookie = session_cookie(person)
    client = Client()
    client.cookies["vk_session"] = cookie
    return client


class Socket(ApplicationCommunicator):
    """A WebSocket client speaking ASGI to the application directly (channels' own communicator
    sits in a package that needs daphne, which the project does not install)."""

    def __init__(self, application: Any, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        path, _, query = path.partition("?")
        scope = {
            "type": "websocket",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "subprotocols": [],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 80),
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 3) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(timeout)
        if answer["type"] == "websocket.close":
            return False, answer.get("code", 1000)
        return True, answer.get("subprotocol")

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout: float = 3) -> Any:
        answer = await self.receive_output(timeout)
        assert answer["type"] == "websocket.send", answer
        return json.loads(answer["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 3) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
