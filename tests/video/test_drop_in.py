"""Drop-in video queues: a resident joins with a reason and is told their place; a nurse sees the
queue live, routes the caller to another queue (the caller waits again without rejoining, told
so), takes them from there, and the caller's page leads into the meeting where they are let in at
once. Strangers' sockets are closed with 1008."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.video.conftest import Socket, logged_in, run_in_own_loop
from vardkontakt.access.models import AuditEntry
from vardkontakt.asgi import application
from vardkontakt.identity.models import Patient
from vardkontakt.video import queues
from vardkontakt.video.models import CallerState, DropInQueue, QueueCaller

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1")


def open_queue(unit, name: str) -> DropInQueue:
    now = timezone.now()
    return DropInQueue.objects.create(
        unit=unit, name=name, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(hours=3)
    )


def tolvan_in_a_queue(personas: Personas, unit) -> QueueCaller:
    """Tolvan waiting in an open drop-in queue of the unit (for a rash)."""
    queue = open_queue(unit, "Barnakuten video 08–12")
    tolvan = Patient.objects.get(pk=personas.tolvan.pk)
    return queues.caller_join(actor=tolvan, subject=tolvan, queue_id=queue.pk, reason="Utslag")


def socket_of(person, page: str) -> tuple[str, str, str]:
    client = logged_in(person)
    body = client.get(page).content.decode()
    path, ticket = re.search(r'data-ws-path="([^"]+)"', body), re.search(r'data-ticket="([^"]+)"', body)
    assert path and ticket
    return path[1], ticket[1], client.cookies["vk_session"].value


async def connect(path: str, ticket: str, cookie: str) -> Socket:
    socket = Socket(application, f"{path}?ticket={ticket}", [ORIGIN, (b"cookie", f"vk_session={cookie}".encode())])
    connected, _ = await socket.connect()
    assert connected
    return socket


async def next_of(socket: Socket, kind: str) -> dict:
    for _ in range(20):
        message = await socket.receive_json_from(timeout=5)
        if message["type"] == kind:
            return message
    raise AssertionError(kind)


def test_a_routed_caller_waits_again_and_is_taken_into_a_meeting(personas: Personas, unit_x, settings):
    settings.VIDEO_QUEUE_UPDATE_SECONDS = 1
    children = open_queue(unit_x, "Barnakuten video 08–12")
    adults = open_queue(unit_x, "Vuxen video 08–12")
    tolvan = Patient.objects.get(pk=personas.tolvan.pk)
    other = Patient.objects.get(pk=personas.other_patient.pk)
    # Someone waits in the adults' queue before Tolvan comes.
    queues.caller_join(actor=other, subject=other, queue_id=adults.pk, reason="Hosta")
    response = logged_in(personas.tolvan).post(
        reverse("video:drop_in"), {"queue": str(children.pk), "reason": "Utslag", "form_key": "k1"}
    )
    caller = QueueCaller.objects.get(patient=tolvan)
    assert response.status_code == 302 and response["Location"] == reverse("video:caller", args=[caller.pk])
    # The same form sent again joins once.
    logged_in(personas.tolvan).post(
        reverse("video:drop_in"), {"queue": str(children.pk), "reason": "Utslag", "form_key": "k1"}
    )
    assert QueueCaller.objects.filter(patient=tolvan).count() == 1

    async def visit() -> None:
        waiting = await connect(
            *await sync_to_async(socket_of)(personas.tolvan, reverse("video:caller", args=[caller.pk]))
        )
        assert (await next_of(waiting, "place"))["position"] == 1
        nurse = await connect(
            *await sync_to_async(socket_of)(personas.staff_x, reverse("video_staff:queue", args=[children.pk]))
        )
        queue = await next_of(nurse, "queue")
        assert [(c["name"], c["reason"]) for c in queue["callers"]] == [("Tolvan Tolvansson", "Utslag")]
        await nurse.send_json_to({"type": "route", "caller": str(caller.pk), "queue": str(adults.pk)})
        assert (await next_of(waiting, "routed"))["queue"] == "Vuxen video 08–12"
        # The queue without her (a round of the ticker may come first, from before the route).
        for _ in range(5):
            if (await next_of(nurse, "queue"))["callers"] == []:
                break
        else:
            raise AssertionError("the routed caller is still in the queue")
        # In the adults' queue Tolvan is second: the other caller joined before her.
        assert (await next_of(waiting, "place"))["position"] == 2
        other_nurse = await connect(
            *await sync_to_async(socket_of)(personas.unit_admin, reverse("video_staff:queue", args=[adults.pk]))
        )
        await other_nurse.send_json_to({"type": "take"})
        await next_of(other_nurse, "took")  # the one who waited longest: not Tolvan
        await other_nurse.send_json_to({"type": "take"})
        taken = await next_of(waiting, "taken")
        assert taken["room_url"] == reverse("video:drop_in_room", args=[caller.pk])
        # Her meeting: let in at once.
        room = await connect(*await sync_to_async(socket_of)(personas.tolvan, taken["room_url"]))
        assert (await room.receive_json_from(timeout=5))["state"] == "admitted"
        for socket in (waiting, nurse, other_nurse, room):
            await socket.disconnect()

    run_in_own_loop(visit())
    caller.refresh_from_db()
    assert caller.state == CallerState.TAKEN and caller.queue == adults and caller.taken_by == personas.unit_admin
    actions = list(
        AuditEntry.objects.filter(object_id=str(caller.pk)).order_by("sequence").values_list("action", "actor_id")
    )
    tolvan_id, nurse_id, other_id = str(personas.tolvan.pk), str(personas.staff_x.pk), str(personas.unit_admin.pk)
    assert actions == [
        ("video.queue.join", tolvan_id),
        ("video.queue.read", nurse_id),  # once, however many rounds of the live list she saw
        ("video.route", nurse_id),
        ("video.queue.read", other_id),
        ("video.queue.take", other_id),
        ("video.page.read", tolvan_id),
    ]


def test_strangers_cannot_listen_to_a_queue_or_a_place(personas: Personas, unit_x):
    caller = tolvan_in_a_queue(personas, unit_x)
    queue = caller.queue
    assert logged_in(personas.other_patient).get(reverse("video:caller", args=[caller.pk])).status_code == 404
    assert logged_in(personas.nurse).get(reverse("video_staff:queue", args=[queue.pk])).status_code == 404

    async def visit() -> None:
        path, ticket, _cookie = await sync_to_async(socket_of)(
            personas.tolvan, reverse("video:caller", args=[caller.pk])
        )
        from tests.video.conftest import session_cookie

        stranger = await sync_to_async(session_cookie)(personas.other_patient)
        socket = await connect(path, ticket, stranger)
        assert (await socket.receive_output(timeout=5)) == {"type": "websocket.close", "code": 1008}
        nurse_path, nurse_ticket, _ = await sync_to_async(socket_of)(
            personas.staff_x, reverse("video_staff:queue", args=[queue.pk])
        )
        elsewhere = await sync_to_async(session_cookie)(personas.nurse)
        socket = await connect(nurse_path, nurse_ticket, elsewhere)
        assert (await socket.receive_output(timeout=5)) == {"type": "websocket.close", "code": 1008}

    run_in_own_loop(visit())


def test_the_live_queue_logs_each_caller_once_per_nurse_and_sitting(personas: Personas, unit_x, settings):
    """Each caller a nurse sees on the live list (name, reason) is a read of their data: logged
    the first time this page's socket shows them, not at every round of the ticker."""
    settings.VIDEO_QUEUE_UPDATE_SECONDS = 1
    queue = open_queue(unit_x, "Barnakuten video 08–12")
    tolvan = Patient.objects.get(pk=personas.tolvan.pk)
    other = Patient.objects.get(pk=personas.other_patient.pk)
    first = queues.caller_join(actor=tolvan, subject=tolvan, queue_id=queue.pk, reason="Utslag")
    page = reverse("video_staff:queue", args=[queue.pk])

    async def sitting(staff, rounds: int, join_between: bool = False) -> None:
        nurse = await connect(*await sync_to_async(socket_of)(staff, page))
        assert len((await next_of(nurse, "queue"))["callers"]) >= 1
        if join_between:
            await sync_to_async(queues.caller_join)(actor=other, subject=other, queue_id=queue.pk, reason="Hosta")
        for _ in range(rounds):  # the ticker's rounds, a second apart
            await next_of(nurse, "queue")
        await nurse.disconnect()

    def reads(staff, caller) -> int:
        return AuditEntry.objects.filter(
            action="video.queue.read", actor_id=str(staff.pk), object_id=str(caller.pk)
        ).count()

    run_in_own_loop(sitting(personas.staff_x, rounds=3, join_between=True))
    second = QueueCaller.objects.get(patient=other)
    assert (reads(personas.staff_x, first), reads(personas.staff_x, second)) == (1, 1)
    entry = AuditEntry.objects.get(action="video.queue.read", object_id=str(first.pk))
    assert (entry.patient_id, entry.unit_id) == (str(tolvan.pk), str(unit_x.pk))
    # The page opened again is a new sitting: each caller once more. Another nurse: her own entries.
    run_in_own_loop(sitting(personas.staff_x, rounds=2))
    run_in_own_loop(sitting(personas.unit_admin, rounds=2))
    assert (reads(personas.staff_x, first), reads(personas.staff_x, second)) == (2, 2)
    assert (reads(personas.unit_admin, first), reads(personas.unit_admin, second)) == (1, 1)
