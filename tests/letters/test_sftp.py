"""Print batches delivered to a real OpenSSH server (Debian's sshd, started by the test on a
loopback port with its own host key and an authorized key of the test's own)."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.letters.conftest import at, local, slots_from
from tests.letters.test_paper_and_reading import MONDAY, address, issue_monday
from vardkontakt.letters.models import PrintBatch
from vardkontakt.letters.services import print_batch_create, print_batches_deliver

pytestmark = pytest.mark.django_db

SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


@dataclass
class Server:
    port: int
    host_key_line: str  # the server's public host key as a known_hosts line
    inbox: Path  # where the provider's account uploads to
    log: Path

    def sftp_log(self) -> list[str]:
        """What the SFTP subsystem did, in order (opens and renames)."""
        return [line for line in self.log.read_text().splitlines() if 'open "' in line or "rename old" in line]


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return Path(f"{path}.pub").read_text().strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path, settings) -> Iterator[Server]:
    if not os.access(SSHD, os.X_OK) or not os.access(SFTP_SERVER, os.X_OK) or shutil.which("ssh-keygen") is None:
        pytest.skip("sshd is not installed (make test installs Debian's openssh-server)")
    keys = tmp_path / "keys"
    keys.mkdir()
    host_public = keygen(keys / "host")
    client_public = keygen(keys / "client")
    (keys / "authorized_keys").write_text(client_public + "\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    port = free_port()
    log = tmp_path / "sshd.log"
    config = tmp_path / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {keys / 'host'}\nPidFile {tmp_path / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\nAllowUsers {getpass.getuser()}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nLogLevel VERBOSE\n"
        # The SFTP server logs what it does (opens, renames) to a file of the test's own.
        f"Subsystem sftp {SFTP_SERVER} -l INFO -e 2>>{tmp_path / 'sftp.log'}\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    process = subprocess.Popen([SSHD, "-D", "-E", str(log), "-f", str(config)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not start: {log.read_text() if log.exists() else ''}")
                time.sleep(0.05)
        settings.LETTERS_SFTP_HOST = "127.0.0.1"
        settings.LETTERS_SFTP_PORT = port
        settings.LETTERS_SFTP_USER = getpass.getuser()
        settings.LETTERS_SFTP_KEY_FILE = str(keys / "client")
        settings.LETTERS_SFTP_HOST_KEY = f"[127.0.0.1]:{port} {host_public}"
        settings.LETTERS_SFTP_DIR = str(inbox)
        yield Server(port, settings.LETTERS_SFTP_HOST_KEY, inbox, tmp_path / "sftp.log")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def batch(unit, visit, personas, print_dir, django_capture_on_commit_callbacks) -> PrintBatch:
    week = slots_from(unit, visit, personas.staff_x, local(2026, 12, 7, 9))
    address(personas.tolvan, code="21145")
    address(personas.other_patient, code="11120", city="Stockholm")
    issue_monday(unit, week, personas.tolvan, personas.other_patient)
    with at(local(*MONDAY, 19)), django_capture_on_commit_callbacks(execute=True):
        made = print_batch_create()
    assert made is not None and made.letter_count == 2
    return made


def deliver(django_capture_on_commit_callbacks, now: dt.datetime) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return print_batches_deliver(now=now)


def test_a_batch_arrives_whole_manifest_last_and_only_once(sshd, batch, print_dir, django_capture_on_commit_callbacks):
    pdf = (print_dir / batch.pdf_name).read_bytes()
    assert deliver(django_capture_on_commit_callbacks, local(*MONDAY, 19, 5)) == 1
    assert sorted(p.name for p in sshd.inbox.iterdir()) == sorted([batch.pdf_name, batch.manifest_name])
    assert (sshd.inbox / batch.pdf_name).read_bytes() == pdf
    manifest = json.loads((sshd.inbox / batch.manifest_name).read_text())
    assert manifest["pdf_sha256"] == hashlib.sha256(pdf).hexdigest() and len(manifest["items"]) == 2
    # Each file under a .part name first, renamed when complete; the PDF in place before the
    # manifest is even opened.
    steps = sshd.sftp_log()
    pdf_done = next(
        n for n, line in enumerate(steps) if "rename old" in line and batch.pdf_name in line.split("new")[1]
    )
    manifest_opened = next(n for n, line in enumerate(steps) if "open" in line and batch.manifest_name in line)
    assert f'"{sshd.inbox / batch.pdf_name}.part"' in steps[pdf_done] and pdf_done < manifest_opened
    batch.refresh_from_db()
    assert batch.delivered_at and batch.delivery_attempts == 1 and batch.delivery_error == ""
    assert list(print_dir.iterdir()) == []  # addresses are not kept in the folder once delivered
    arrived = {p.name: p.stat().st_mtime_ns for p in sshd.inbox.iterdir()}
    assert deliver(django_capture_on_commit_callbacks, local(*MONDAY, 20)) == 0
    assert {p.name: p.stat().st_mtime_ns for p in sshd.inbox.iterdir()} == arrived
    assert len(sshd.sftp_log()) == len(steps)  # not even a look


def test_a_worker_that_died_after_the_upload_does_not_deliver_the_batch_again(
    sshd, batch, print_dir, django_capture_on_commit_callbacks
):
    from vardkontakt.letters import sftp

    target = sftp.configured_target()
    assert target is not None
    # The files reached the server, then the worker died before it noted the delivery.
    assert sftp.deliver(target, print_dir, batch.pdf_name, batch.manifest_name) is True
    arrived = {p.name: p.stat().st_mtime_ns for p in sshd.inbox.iterdir()}
    opened = [line for line in sshd.sftp_log() if "open" in line]
    assert deliver(django_capture_on_commit_callbacks, local(*MONDAY, 19, 5)) == 1
    batch.refresh_from_db()
    assert batch.delivered_at is not None
    assert {p.name: p.stat().st_mtime_ns for p in sshd.inbox.iterdir()} == arrived
    assert [line for line in sshd.sftp_log() if "open" in line] == opened  # nothing written again


def test_a_server_down_or_with_another_host_key_is_tried_again_later_then_delivered(
    sshd, batch, print_dir, settings, tmp_path, django_capture_on_commit_callbacks
):
    first = local(*MONDAY, 19, 5)
    settings.LETTERS_SFTP_PORT = free_port()  # nobody listens there
    assert deliver(django_capture_on_commit_callbacks, first) == 0
    batch.refresh_from_db()
    assert (batch.delivered_at, batch.delivery_attempts) == (None, 1)
    assert (
        batch.next_delivery_at == first + dt.timedelta(minutes=1)
        and "unable to connect" in batch.delivery_error.lower()
    )
    # Before its time, the batch is not tried again.
    assert deliver(django_capture_on_commit_callbacks, first + dt.timedelta(seconds=30)) == 0
    batch.refresh_from_db()
    assert batch.delivery_attempts == 1

    # A server showing a key other than the pinned one is refused: nothing goes to it.
    settings.LETTERS_SFTP_PORT = sshd.port
    other = keygen(tmp_path / "other")
    settings.LETTERS_SFTP_HOST_KEY = f"[127.0.0.1]:{sshd.port} {other}"
    assert deliver(django_capture_on_commit_callbacks, first + dt.timedelta(minutes=1)) == 0
    batch.refresh_from_db()
    assert batch.delivery_attempts == 2 and batch.next_delivery_at == first + dt.timedelta(minutes=3)
    assert "key" in batch.delivery_error.lower()
    assert list(sshd.inbox.iterdir()) == [] and len(list(print_dir.iterdir())) == 2

    # Without host names, the pinned key line is read the same way.
    settings.LETTERS_SFTP_HOST_KEY = sshd.host_key_line.split(" ", 1)[1]
    assert deliver(django_capture_on_commit_callbacks, first + dt.timedelta(minutes=3)) == 1
    batch.refresh_from_db()
    assert batch.delivered_at and batch.delivery_attempts == 3 and batch.next_delivery_at is None
    assert sorted(p.name for p in sshd.inbox.iterdir()) == sorted([batch.pdf_name, batch.manifest_name])


def test_without_an_sftp_target_the_folder_is_the_delivery(batch, print_dir, django_capture_on_commit_callbacks):
    assert deliver(django_capture_on_commit_callbacks, local(*MONDAY, 19, 5)) == 0
    assert sorted(p.name for p in print_dir.iterdir()) == sorted([batch.pdf_name, batch.manifest_name])
    batch.refresh_from_db()
    assert batch.delivery_attempts == 0
