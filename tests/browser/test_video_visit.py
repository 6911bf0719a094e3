"""A video visit in two browsers with fake camera and microphone (Chromium's test devices): the
resident tests her devices and waits, the nurse sees her waiting and admits her, both receive the
other's video (frames decoded, read from RTCPeerConnection.getStats()), chat messages arrive, a
stranger is refused (page 404, socket closed with 1008), the nurse ends the visit and the
resident's evaluation is stored once.

WebSockets need an ASGI server: uvicorn on a thread of the test process, serving the same
application as production (asgi.py) on the test database."""

from __future__ import annotations

import functools
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, UI
from tests.conftest import Personas
from tests.video.conftest import video_visit_of
from vardkontakt.video.models import Evaluation

MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

FRAMES_DECODED = """async () => {
  let frames = 0;
  for (const pc of window.vkVideo.peers.values()) {
    (await pc.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded || 0;
    });
  }
  return frames;
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def asgi_site(transactional_db, settings) -> Iterator[str]:
    """uvicorn with the project's ASGI application, wired to its own demo provider (as ``site``)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings.SITE_URL = url
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    providers = {side: dict(conf) for side, conf in settings.OIDC_PROVIDERS.items()}
    providers["resident"]["issuer"] = f"{url}/demo-idp/eid"
    providers["staff"]["issuer"] = f"{url}/demo-idp/siths"
    settings.OIDC_PROVIDERS = providers
    config = uvicorn.Config(
        "vardkontakt.asgi:application", host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def media_browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )
    yield browser
    browser.close()


@pytest.fixture
def people(media_browser: Browser, asgi_site: str) -> Iterator[dict[str, UI]]:
    made: dict[str, UI] = {}
    contexts = []
    for who in ("resident", "nurse", "stranger"):
        context = media_browser.new_context(bypass_csp=True, locale="sv-SE")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        state = UI(page=page, base=asgi_site)
        page.on("load", functools.partial(loaded, state))
        made[who] = state
    yield made
    for context in contexts:
        context.close()
    for who, state in made.items():
        unchecked = [url for url in state.loaded if url not in state.checked]
        assert unchecked == [], f"{who}: pages loaded without an axe check: {unchecked}"


def loaded(state: UI, page: Page) -> None:
    state.loaded.append(page.url)


def enter(ui: UI) -> None:
    """The device test, then into the room (the waiting room for a resident)."""
    ui.page.click("#vk-test-start")
    ui.page.wait_for_function("document.getElementById('vk-self').srcObject !== null")
    ui.page.click("#vk-enter")


def state_is(page: Page, state: str) -> None:
    page.wait_for_function(f"document.getElementById('vk-video').dataset.state === '{state}'")


def frames_arrive(page: Page) -> int:
    deadline = time.monotonic() + 20
    while (frames := page.evaluate(FRAMES_DECODED)) == 0:
        assert time.monotonic() < deadline, "no video frame was decoded"
        page.wait_for_timeout(250)
    return frames


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
