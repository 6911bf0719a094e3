"""A video visit in two browsers with fake camera and microphone (Chromium's test devices): the
resident tests her devices and waits, the nurse sees her waiting and admits her, both receive the
other's video (frames decoded, read from RTCPeerConnection.getStats()), chat messages arrive, a
stranger is refused (page 404, socket closed with 1008), the nurse ends the visit and the
resident's evaluation is stored once.

WebSockets need an ASGI server: uvicorn on a thread of the test process, serving the same
application as production (asgi.py) on the test database."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import UI, enter, frames_arrive, state_is
from tests.conftest import Personas
from tests.video.conftest import video_visit_of
from vardkontakt.video.models import Evaluation


@pytest.fixture
def people(media_people) -> dict[str, UI]:
    return media_people("resident", "nurse", "stranger", timeout=30_000)


def test_a_video_visit_from_the_waiting_room_to_the_evaluation(people: dict[str, UI], personas: Personas, unit_x):
    booking = video_visit_of(personas.tolvan, unit_x, personas.staff_x)
    resident, nurse, stranger = people["resident"], people["nurse"], people["stranger"]

    resident.login(personas.tolvan.personnummer)
    resident.goto(f"/video/{booking.pk}/")
    enter(resident)
    state_is(resident.page, "waiting")
    resident.check()

    nurse.login(personas.staff_x.hsa_id, side="staff")
    nurse.goto("/staff/video/")
    assert re.search(r"Tolvan Tolvansson (väntar|waits) sedan|Tolvan Tolvansson waits since", nurse.page.content())
    nurse.goto(f"/staff/video/{booking.pk}/")
    enter(nurse)
    state_is(nurse.page, "admitted")
    admit = nurse.page.get_by_role("button", name=re.compile("Tolvan Tolvansson"))
    admit.click()

    state_is(resident.page, "admitted")
    assert frames_arrive(resident.page) > 0
    assert frames_arrive(nurse.page) > 0
    resident.check()
    nurse.check()

    nurse.page.fill("#vk-chat-text", "Hej Tolvan, hör du mig?")
    nurse.page.press("#vk-chat-text", "Enter")
    resident.page.get_by_text("Hej Tolvan, hör du mig?").wait_for()
    resident.page.fill("#vk-chat-text", "Ja, tydligt.")
    resident.page.press("#vk-chat-text", "Enter")
    nurse.page.get_by_text("Ja, tydligt.").wait_for()

    # A stranger: the page is not found, and a socket to the room is closed with the policy code.
    stranger.login(personas.other_patient.personnummer)
    response = stranger.page.goto(f"{stranger.base}/video/{booking.pk}/")
    assert response is not None and response.status == 404
    stranger.check()
    ws_path = resident.page.get_attribute("#vk-video", "data-ws-path")
    code = stranger.page.evaluate(
        """(path) => new Promise((resolve) => {
            const socket = new WebSocket(`ws://${location.host}${path}?ticket=guessed`);
            socket.onclose = (event) => resolve(event.code);
        })""",
        ws_path,
    )
    assert code == 1008

    nurse.page.click("#vk-end")
    state_is(resident.page, "ended")
    state_is(nurse.page, "ended")
    resident.check()
    nurse.check()

    resident.click(re.compile("Berätta hur videobesöket gick|Tell us how the video visit went"), role="link")  # type: ignore[arg-type]
    for question in ("picture_and_sound", "easy_to_join", "helped"):
        resident.page.check(f"input[name={question}][value='4']")
    resident.page.fill("textarea[name=comment]", "Bra bild.")
    resident.click(re.compile("Skicka svaren|Send the answers"))  # type: ignore[arg-type]
    assert Evaluation.objects.filter(room__booking=booking).count() == 1
    resident.page.go_back()  # back to the form, sent again: still one answer
    resident.check()
    resident.click(re.compile("Skicka svaren|Send the answers"))  # type: ignore[arg-type]
    assert Evaluation.objects.filter(room__booking=booking).count() == 1
