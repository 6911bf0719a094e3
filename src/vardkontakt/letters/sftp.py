"""Print batches to the print-and-mail provider's SFTP server (paramiko).

The server is known in advance: its host key is pinned in the settings as a known_hosts line and a
server showing any other key is refused (so is one whose key is not configured at all). The
platform logs in with its own key only (no password, no agent, no keys lying around in ~/.ssh).

A file is uploaded under a name the provider ignores (``name.part``) and renamed into place when it
is complete; the manifest goes last, so a manifest on the server means its PDF is there in full.
That is also how a batch is never delivered twice: a batch whose manifest is already on the server
(the worker died after the upload, before it noted the delivery) is not uploaded again.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings


class DeliveryFailed(Exception):
    """The batch did not reach the server (this time): the reason, for the batch's record."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    key_file: str
    host_key: str  # one known_hosts line: "[host]:port ssh-ed25519 AAAA..." (host names optional)
    directory: str
    timeout: float = 30.0


def configured_target() -> Target | None:
    """The SFTP target from the settings, or None when batches stay in the print folder."""
    if not settings.LETTERS_SFTP_HOST:
        return None
    return Target(
        host=settings.LETTERS_SFTP_HOST,
        port=settings.LETTERS_SFTP_PORT,
        user=settings.LETTERS_SFTP_USER,
        key_file=settings.LETTERS_SFTP_KEY_FILE,
        host_key=settings.LETTERS_SFTP_HOST_KEY,
        directory=settings.LETTERS_SFTP_DIR,
    )


def _pinned_key(line: str) -> Any:
    """The public key of a known_hosts line (with or without its host names)."""
    from paramiko.hostkeys import HostKeyEntry
    from paramiko.ssh_exception import SSHException

    fields = line.split()
    if fields and fields[0].startswith(("ssh-", "ecdsa-", "sk-")):  # "ssh-ed25519 AAAA...": no host names
        fields = ["pinned", *fields]
    try:
        entry = HostKeyEntry.from_line(" ".join(fields[:3]))
    except (SSHException, ValueError) as error:
        raise DeliveryFailed(f"the configured host key cannot be read: {error}") from error
    if entry is None:
        raise DeliveryFailed("the configured host key cannot be read")
    return entry.key


def _connect(target: Target) -> tuple[Any, Any]:
    import paramiko

    key = _pinned_key(target.host_key)
    client = paramiko.SSHClient()
    # Only the pinned key is known (the system's and the user's known_hosts are not read), and a
    # server whose key is not the pinned one is refused.
    name = target.host if target.port == 22 else f"[{target.host}]:{target.port}"
    client.get_host_keys().add(name, key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            target.host,
            port=target.port,
            username=target.user,
            key_filename=target.key_file,
            allow_agent=False,
            look_for_keys=False,
            timeout=target.timeout,
            banner_timeout=target.timeout,
            auth_timeout=target.timeout,
        )
        return client, client.open_sftp()
    except (paramiko.SSHException, OSError) as error:
        client.close()
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error


def _exists(sftp: Any, path: str) -> bool:
    try:
        return stat.S_ISREG(sftp.stat(path).st_mode or 0)
    except FileNotFoundError:
        return False


def _put(sftp: Any, local: Path, remote: str) -> None:
    """``local`` to ``remote``, complete or not at all under that name."""
    part = f"{remote}.part"
    sftp.put(str(local), part, confirm=True)
    # OpenSSH's posix-rename replaces a leftover from an interrupted attempt; plain SFTP rename
    # would refuse it.
    sftp.posix_rename(part, remote)


def deliver(target: Target, folder: Path, pdf_name: str, manifest_name: str) -> bool:
    """Upload a batch's PDF, then its manifest. Returns False when the manifest was on the server
    already (delivered before; nothing uploaded again). Raises DeliveryFailed."""
    client, sftp = _connect(target)
    try:
        directory = target.directory.rstrip("/") or "/"
        if _exists(sftp, f"{directory}/{manifest_name}"):
            return False
        _put(sftp, folder / pdf_name, f"{directory}/{pdf_name}")
        _put(sftp, folder / manifest_name, f"{directory}/{manifest_name}")
        return True
    except (OSError, EOFError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
    finally:
        client.close()
