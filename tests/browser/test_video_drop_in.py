"""Routing in the drop-in queues, in three browsers with fake camera and microphone (issue 18's
"routing moves a caller"): a resident joins the children's queue with a reason; nurse A sees her on
the live list and routes her to the adults' queue; the resident's page says she waits again, without
her rejoining or reloading; nurse B takes her from there, and both get each other's video (frames
decoded, read from RTCPeerConnection.getStats()). Served by uvicorn (asgi_site, conftest.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.browser.conftest import UI, enter, frames_arrive, state_is
from tests.conftest import Personas
from vardkontakt.access.models import AuditEntry
from vardkontakt.video.models import CallerState, DropInQueue, QueueCaller


@pytest.fixture
def people(media_people) -> dict[str, UI]:
    return media_people("resident", "nurse_a", "nurse_b", timeout=20_000)


def open_queue(unit, name: str) -> DropInQueue:
    now = timezone.now()
    return DropInQueue.objects.create(
        unit=unit, name=name, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(hours=3)
    )


def test_a_routed_caller_waits_again_and_the_next_nurse_sees_and_hears_her(
    people: dict[str, UI], personas: Personas, unit_x, settings
):
    settings.VIDEO_QUEUE_UPDATE_SECONDS = 1
    children = open_queue(unit_x, "Barnakuten video 08–12")
    adults = open_queue(unit_x, "Vuxen video 08–12")
    resident, nurse_a, nurse_b = people["resident"], people["nurse_a"], people["nurse_b"]

    resident.login(personas.tolvan.personnummer)
    resident.goto("/video/drop-in/")
    resident.page.fill(f"#reason-{children.pk}", "Utslag på armen")
    resident.click(re.compile("Barnakuten video"))  # type: ignore[arg-type]
    caller = QueueCaller.objects.get(patient=personas.tolvan)
    waiting_url = resident.page.url
    assert waiting_url.endswith(f"/video/drop-in/{caller.pk}/")
    resident.page.wait_for_function("document.getElementById('vk-caller').dataset.position === '1'")

    # Nurse A: Tolvan on the live list with her reason; routed on to the adults' queue.
    nurse_a.login(personas.staff_x.hsa_id, side="staff")
    nurse_a.goto(f"/staff/video/queues/{children.pk}/")
    nurse_a.page.get_by_role("cell", name="Utslag på armen").wait_for()
    nurse_a.check()
    nurse_a.page.select_option("#vk-route-to", f"queue:{adults.pk}")
    nurse_a.page.get_by_role("button", name=re.compile("Tolvan Tolvansson")).click()
    nurse_a.page.wait_for_function("document.getElementById('vk-queue').dataset.length === '0'")

    # The resident's page, never reloaded: she is told she waits again, in the adults' queue.
    resident.page.wait_for_function("document.getElementById('vk-caller').dataset.routed === 'Vuxen video 08–12'")
    assert resident.page.url == waiting_url
    assert re.search("flyttats till en annan kö|moved to another queue", resident.page.content())
    resident.check()
    caller.refresh_from_db()
    assert (caller.queue, caller.state) == (adults, CallerState.WAITING)

    # Nurse B, on the adults' queue: sees her and takes her; her page goes into the meeting.
    nurse_b.login(personas.unit_admin.hsa_id, side="staff")
    nurse_b.goto(f"/staff/video/queues/{adults.pk}/")
    nurse_b.page.get_by_role("cell", name="Utslag på armen").wait_for()
    nurse_b.check()
    with nurse_b.page.expect_navigation(url=re.compile(r"/staff/video/drop-in/")):
        nurse_b.page.click("#vk-take")
    nurse_b.check()
    resident.page.wait_for_url(re.compile(rf"/video/drop-in/{caller.pk}/room/"))
    resident.check()

    enter(resident)
    state_is(resident.page, "admitted")  # let in at once: the nurse chose her
    enter(nurse_b)
    state_is(nurse_b.page, "admitted")
    assert frames_arrive(resident.page) > 0
    assert frames_arrive(nurse_b.page) > 0
    resident.check()
    nurse_b.check()

    caller.refresh_from_db()
    assert (caller.state, caller.taken_by) == (CallerState.TAKEN, personas.unit_admin)
    trail = list(
        AuditEntry.objects.filter(object_id=str(caller.pk)).order_by("sequence").values_list("action", "actor_id")
    )
    nurse_a_id, nurse_b_id = str(personas.staff_x.pk), str(personas.unit_admin.pk)
    assert ("video.route", nurse_a_id) in trail and ("video.queue.take", nurse_b_id) in trail
    # Each nurse's live list logged Tolvan once, however many rounds it showed her.
    assert trail.count(("video.queue.read", nurse_a_id)) == 1
    assert trail.count(("video.queue.read", nurse_b_id)) == 1
