"""The TURN credentials the platform issues (video/turn.py) are accepted by coturn: a real
turnserver on loopback, configured as deploy/coturn/turnserver.conf is (use-auth-secret), and a
TURN Allocate (RFC 5766) with the long-term credential mechanism (RFC 5389 §10.2) from a small
client written here. A wrong secret, and an expired credential, are refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from vardkontakt.video.turn import credential, ice_servers

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
SECRET = "platform-and-coturn-share-this"
REALM = "vardkontakt.test"
MAGIC = 0x2112A442
ALLOCATE, ALLOCATE_OK, ALLOCATE_ERROR = 0x0003, 0x0103, 0x0113
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM_ATTR, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT = 0x0016, 0x0019


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def turn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    if not Path(TURNSERVER).exists():
        pytest.fail("Debian's coturn is missing: `make test` installs it as root (make coturn).")
    work = tmp_path_factory.mktemp("turn")
    port = free_udp_port()
    command = [
        TURNSERVER,
        "-n",  # no configuration file: everything is said here
        "--listening-ip=127.0.0.1",
        f"--listening-port={port}",
        "--relay-ip=127.0.0.1",
        "--min-port=49160",
        "--max-port=49960",
        "--use-auth-secret",
        f"--static-auth-secret={SECRET}",
        f"--realm={REALM}",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--fingerprint",
        f"--pidfile={work / 'turn.pid'}",
        f"--db={work / 'turndb'}",
        f"--log-file={work / 'turn.log'}",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):  # ready when it answers a request (401: who are you?)
            try:
                if allocate(("127.0.0.1", port))[0] == ALLOCATE_ERROR:
                    break
            except TimeoutError:
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        server.terminate()
        server.wait(10)


def attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def message(kind: int, transaction: bytes, attributes: bytes, key: bytes | None = None) -> bytes:
    if key is None:
        return struct.pack("!HHI", kind, len(attributes), MAGIC) + transaction + attributes
    # MESSAGE-INTEGRITY covers the header (its length already counting the integrity attribute) and
    # the attributes before it.
    header = struct.pack("!HHI", kind, len(attributes) + 24, MAGIC) + transaction
    integrity = hmac.new(key, header + attributes, hashlib.sha1).digest()
    return header + attributes + attribute(MESSAGE_INTEGRITY, integrity)


def parse(data: bytes) -> tuple[int, dict[int, bytes]]:
    kind, length = struct.unpack("!HH", data[:4])
    found: dict[int, bytes] = {}
    at = 20
    while at < 20 + length:
        name, size = struct.unpack("!HH", data[at : at + 4])
        found.setdefault(name, data[at + 4 : at + 4 + size])
        at += 4 + size + (-size % 4)
    return kind, found


def allocate(server: tuple[str, int], username: str = "", password: str = "") -> tuple[int, dict[int, bytes]]:
    """A TURN Allocate for UDP, answering the server's 401 challenge with the credential if given."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(1)

        def ask(payload: bytes) -> tuple[int, dict[int, bytes]]:
            client.sendto(payload, server)
            return parse(client.recv(2048))

        transport = attribute(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))  # 17: UDP
        kind, answer = ask(message(ALLOCATE, os.urandom(12), transport))
        if kind != ALLOCATE_ERROR or not username:
            return kind, answer
        realm, nonce = answer[REALM_ATTR], answer[NONCE]
        key = hashlib.md5(f"{username}:{realm.decode()}:{password}".encode()).digest()  # noqa: S324 (RFC 5389's key)
        signed = transport + attribute(USERNAME, username.encode()) + attribute(REALM_ATTR, realm)
        signed += attribute(NONCE, nonce)
        return ask(message(ALLOCATE, os.urandom(12), signed, key))


def coturn_now(work: Path) -> dt.datetime:
    """The clock coturn reads: the kernel's. The suite may run with Python's clock moved
    (`make test-shifted`), which coturn, another process, does not see; a file's modification
    time is stamped by the kernel, so it gives the outside clock."""
    stamp = work / "now"
    stamp.touch()
    return dt.datetime.fromtimestamp(stamp.stat().st_mtime, tz=dt.UTC)


def error_code(answer: dict[int, bytes]) -> int:
    value = answer[ERROR_CODE]
    return value[2] * 100 + value[3]


def test_coturn_relays_for_the_credentials_the_platform_issues(turn_server, tmp_path):
    now = coturn_now(tmp_path)
    username, password = credential(secret=SECRET, user_id="tolvan", now=now, lifetime_seconds=3600)
    kind, answer = allocate(turn_server, username, password)
    assert kind == ALLOCATE_OK, f"refused: {answer.get(ERROR_CODE)!r}"
    relayed = answer[XOR_RELAYED_ADDRESS]
    address = bytes(b ^ m for b, m in zip(relayed[4:8], struct.pack("!I", MAGIC), strict=True))
    assert socket.inet_ntoa(address) == "127.0.0.1"


def test_a_credential_made_with_another_secret_is_refused(turn_server, tmp_path):
    username, password = credential(
        secret="not-the-secret", user_id="tolvan", now=coturn_now(tmp_path), lifetime_seconds=3600
    )
    kind, answer = allocate(turn_server, username, password)
    assert (kind, error_code(answer)) == (ALLOCATE_ERROR, 401)


def test_an_expired_credential_is_refused(turn_server, tmp_path):
    yesterday = coturn_now(tmp_path) - dt.timedelta(days=1)
    username, password = credential(secret=SECRET, user_id="tolvan", now=yesterday, lifetime_seconds=3600)
    kind, answer = allocate(turn_server, username, password)
    assert (kind, error_code(answer)) == (ALLOCATE_ERROR, 401)


def test_the_page_gets_turn_only_when_configured(settings):
    now = timezone.now()
    settings.TURN_URLS, settings.STUN_URLS, settings.TURN_SECRET = [], ["stun:turn.example.se:3478"], ""
    assert ice_servers(user_id="u", now=now) == [{"urls": ["stun:turn.example.se:3478"]}]
    settings.TURN_URLS, settings.TURN_SECRET, settings.TURN_CREDENTIAL_SECONDS = (
        ["turn:turn.example.se:3478"],
        SECRET,
        600,
    )
    turn = ice_servers(user_id="u", now=now)[1]
    assert turn["username"] == f"{int(now.timestamp()) + 600}:u"
    assert turn["credential"] == credential(secret=SECRET, user_id="u", now=now, lifetime_seconds=600)[1]
