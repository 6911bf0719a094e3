"""Virus scanning through ClamAV's daemon (Debian's clamav-daemon), over its socket.

The INSTREAM command: the file goes to clamd in chunks, each preceded by its length (4 bytes, big
endian), and a zero length ends it; clamd answers ``stream: OK`` or ``stream: <name> FOUND``.
Configured by VK_CLAMAV_SOCKET (a Unix socket, clamd's ``LocalSocket``) or VK_CLAMAV_ADDRESS
(``host:port``, its ``TCPSocket``). Without either, nothing is scanned.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from django.conf import settings

CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd could not be reached or gave no verdict: the file must not be accepted unscanned."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""


def scanning_configured() -> bool:
    return bool(settings.CLAMAV_SOCKET or settings.CLAMAV_ADDRESS)


def _connect() -> socket.socket:
    timeout = settings.CLAMAV_TIMEOUT_SECONDS
    if settings.CLAMAV_SOCKET:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(settings.CLAMAV_SOCKET)
        return sock
    host, _, port = settings.CLAMAV_ADDRESS.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def scan_bytes(data: bytes) -> Verdict:
    try:
        with _connect() as sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except (OSError, ValueError) as exc:
        raise ScannerUnavailable(repr(exc)) from exc
    answer = reply.rstrip(b"\0").decode("utf-8", errors="replace").strip()
    if answer.endswith("OK"):
        return Verdict(clean=True)
    if answer.endswith("FOUND"):
        signature = answer.removeprefix("stream:").removesuffix("FOUND").strip()
        return Verdict(clean=False, signature=signature)
    raise ScannerUnavailable(answer or "no answer")
