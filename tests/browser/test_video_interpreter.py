"""An interpreter at a video visit, in four browsers with fake camera and microphone: the nurse
invites the interpreter from the day's list (personnummer and e-mail), the interpreter logs in with
their own e-ID, finds the invitation, tests the devices and waits; the nurse lets in the resident
and the interpreter, and all three receive video from both others (frames decoded on every
connection, read from RTCPeerConnection.getStats()). A stranger with the interpreter's link gets
404, and a socket with a guessed ticket is closed with 1008. Served by uvicorn
(asgi_site, conftest.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import UI, enter, state_is
from tests.conftest import Personas
from tests.video.conftest import video_visit_of
from vardkontakt.access.models import AuditEntry
from vardkontakt.video.models import Invitation, Participant, Role

INTERPRETER = "19860203-2388"  # a test personnummer; the person is invented

# Frames decoded on each of the page's connections (one per other person in the room).
FRAMES_PER_PEER = """async () => {
  const found = [];
  for (const pc of window.vkVideo.peers.values()) {
    let frames = 0;
    (await pc.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded || 0;
    });
    found.push(frames);
  }
  return found;
}"""


@pytest.fixture
def people(media_people) -> dict[str, UI]:
    return media_people("resident", "nurse", "interpreter", "stranger", timeout=20_000)


def login_as_new_person(ui: UI, number: str, given: str, family: str) -> None:
    """The e-ID login of a person the platform knows by number only: the e-ID carries the name."""
    ui.goto("/")
    ui.click(re.compile("Logga in med e-legitimation|Log in with e-ID"))  # type: ignore[arg-type]
    ui.page.get_by_label(re.compile("Eller skriv ett identitetsnummer|Or type an identity number")).fill(number)
    ui.page.get_by_label(re.compile(r"Förnamn|Given name")).fill(given)
    ui.page.get_by_label(re.compile(r"Efternamn|Family name")).fill(family)
    with ui.page.expect_navigation(url=re.compile(r"/(patient|login/\w+/callback)/")):
        ui.page.get_by_role("button", name=re.compile("^(Logga in|Log in)$")).click()
    ui.check()


def every_peer_sends_frames(page: Page, peers: int) -> None:
    page.wait_for_function(
        f"""async () => {{
            const found = await ({FRAMES_PER_PEER})();
            return found.length === {peers} && found.every((frames) => frames > 0);
        }}""",
        polling=250,
        timeout=30_000,
    )


def test_an_invited_interpreter_is_let_in_and_all_three_see_each_other(
    people: dict[str, UI], personas: Personas, unit_x
):
    booking = video_visit_of(personas.tolvan, unit_x, personas.staff_x)
    resident, nurse, interpreter, stranger = (people[w] for w in ("resident", "nurse", "interpreter", "stranger"))

    # The nurse invites the interpreter from the day's list.
    nurse.login(personas.staff_x.hsa_id, side="staff")
    nurse.goto("/staff/video/")
    nurse.click(re.compile(r"^(Tolk|Interpreter) Tolvan Tolvansson$"), role="link")  # type: ignore[arg-type]
    nurse.page.get_by_label(re.compile("Tolkens personnummer|The interpreter's personal identity number")).fill(
        INTERPRETER
    )
    nurse.page.get_by_label(re.compile("Tolkens e-postadress|The interpreter's e-mail")).fill("tolk@example.org")
    nurse.click(re.compile("Bjud in tolken|Invite the interpreter"))  # type: ignore[arg-type]
    assert re.search("Tolken är inbjuden|The interpreter is invited", nurse.page.content())
    invitation = Invitation.objects.get(booking=booking)

    # The interpreter logs in with their own e-ID and finds today's invitation: the unit and the time.
    login_as_new_person(interpreter, INTERPRETER, "Ilse", "Tolksdotter")
    interpreter.goto("/video/interpreting/")
    assert "Tolvan" not in interpreter.page.content()
    interpreter.click(re.compile("Videomöte kl|Video meeting at"), role="link")  # type: ignore[arg-type]
    enter(interpreter)
    state_is(interpreter.page, "waiting")
    interpreter.check()

    resident.login(personas.tolvan.personnummer)
    resident.goto(f"/video/{booking.pk}/")
    enter(resident)
    state_is(resident.page, "waiting")

    # A stranger with the interpreter's link: not found; a socket with a guessed ticket: refused.
    stranger.login(personas.other_patient.personnummer)
    response = stranger.page.goto(f"{stranger.base}/video/interpreting/{invitation.pk}/")
    assert response is not None and response.status == 404
    stranger.check()
    ws_path = interpreter.page.get_attribute("#vk-video", "data-ws-path")
    code = stranger.page.evaluate(
        """(path) => new Promise((resolve) => {
            const socket = new WebSocket(`ws://${location.host}${path}?ticket=guessed`);
            socket.onclose = (event) => resolve(event.code);
        })""",
        ws_path,
    )
    assert code == 1008

    # The nurse opens the visit and lets both in; the interpreter is named as such in the list.
    nurse.goto(f"/staff/video/{booking.pk}/")
    enter(nurse)
    state_is(nurse.page, "admitted")
    nurse.page.get_by_text(re.compile(r"Ilse Tolksdotter, (tolk|interpreter)")).wait_for()
    nurse.check()
    nurse.page.get_by_role("button", name=re.compile("Tolvan Tolvansson")).click()
    state_is(resident.page, "admitted")
    nurse.page.get_by_role("button", name=re.compile("Ilse Tolksdotter")).click()
    state_is(interpreter.page, "admitted")

    for ui in (resident, nurse, interpreter):
        every_peer_sends_frames(ui.page, peers=2)
        ui.check()

    # The interpreter may chat, and everyone reads it.
    interpreter.page.fill("#vk-chat-text", "Jag tolkar till arabiska.")
    interpreter.page.press("#vk-chat-text", "Enter")
    resident.page.get_by_text("Jag tolkar till arabiska.").wait_for()
    nurse.page.get_by_text("Jag tolkar till arabiska.").wait_for()

    joined = Participant.objects.get(room__booking=booking, role=Role.INTERPRETER)
    assert joined.display_name == "Ilse Tolksdotter" and joined.admitted_by_id == personas.staff_x.pk
    actions = set(
        AuditEntry.objects.filter(patient_id=str(personas.tolvan.pk), action__startswith="video.").values_list(
            "action", "detail"
        )
    )
    assert {
        ("video.interpreter.invite", "19860203-2388"),
        ("video.join", "interpreter"),
        ("video.admit", "interpreter"),
    } <= actions
