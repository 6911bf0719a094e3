"""A push service on loopback that speaks the Web Push protocol, as FCM or Mozilla's autopush do.

It holds the user agent's side of each subscription (the browser's ECDH key pair and auth secret,
and the application server key it subscribed with), so it can do what the browser and the push
service do between them: check the VAPID header (RFC 8292: an ES256 JWT for this origin, valid at
most 24 hours, with a mailto:/https: subject, signed by the key the subscription was made with),
decrypt the aes128gcm payload (RFC 8291 / RFC 8188), keep what arrived, and answer 201. It can be
told to answer something else (410, 404, 429, 503), and its clock can be set apart from ours.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAX_MESSAGE = 4096  # RFC 8030 §7.2: a push service need not take more


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class Device:
    """The browser's side of one subscription."""

    token: str
    endpoint: str
    ecdh_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: bytes
    gone: bool = False

    @property
    def p256dh(self) -> str:
        return b64url(raw_public(self.ecdh_key))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def as_json(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives the page."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass
class Arrival:
    device: Device
    payload: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    claims: dict[str, Any]


@dataclass
class PushService:
    url: str = ""
    devices: dict[str, Device] = field(default_factory=dict)
    received: list[Arrival] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    answer: int | None = None  # answer this instead of 201 (after the checks pass)
    clock_offset: float = 0.0  # seconds the service's clock is ahead of ours

    def subscribe(self, application_server_key: bytes) -> Device:
        token = uuid.uuid4().hex
        device = Device(
            token=token,
            endpoint=f"{self.url}/push/{token}",
            ecdh_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
            application_server_key=application_server_key,
        )
        self.devices[token] = device
        return device

    # --- what the push service checks ---------------------------------------------------------

    def check_vapid(self, header: str, device: Device) -> tuple[int, str, dict[str, Any]]:
        """(0, "", claims) when the Authorization header is good, else the status and why."""
        if not header.startswith("vapid "):
            return 401, "no vapid authorization", {}
        params = dict(part.strip().split("=", 1) for part in header[len("vapid ") :].split(",") if "=" in part)
        token, key_text = params.get("t", ""), params.get("k", "")
        try:
            key_bytes = unb64url(key_text)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_bytes)
        except ValueError:
            return 401, "k is not a P-256 public key", {}
        if key_bytes != device.application_server_key:
            return 403, "k is not the key the subscription was made with", {}
        parts = token.split(".")
        if len(parts) != 3:
            return 401, "t is not a JWT", {}
        try:
            jwt_header = json.loads(unb64url(parts[0]))
            claims = json.loads(unb64url(parts[1]))
            signature = unb64url(parts[2])
        except ValueError:
            return 401, "t is not a JWT", {}
        if jwt_header.get("alg") != "ES256" or len(signature) != 64:
            return 401, "t is not signed with ES256", {}
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return 401, "bad signature", {}
        now = time.time() + self.clock_offset
        if claims.get("aud") != self.url:
            return 401, f"aud is {claims.get('aud')!r}, not this push service's origin", {}
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
            return 401, "exp is not within the next 24 hours", {}
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return 401, "sub is not a mailto: or https: contact", {}
        return 0, "", claims

    def decrypt(self, body: bytes, device: Device) -> bytes:
        """RFC 8291 §3 from the user agent's side: its private key and auth secret."""
        salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender_public = body[21 : 21 + id_length]
        ciphertext = body[21 + id_length :]
        if record_size < 18 or len(ciphertext) > record_size:
            raise ValueError("more than one record")
        shared = device.ecdh_key.exchange(
            ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_public)
        )
        key_info = b"WebPush: info\x00" + raw_public(device.ecdh_key) + sender_public
        ikm = HKDF(hashes.SHA256(), 32, device.auth_secret, key_info).derive(shared)
        cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
        nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        content = padded.rstrip(b"\x00")
        if not content.endswith(b"\x02"):
            raise ValueError("the last record's delimiter is missing")
        return content[:-1]


@contextmanager
def running_push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            token = self.path.removeprefix("/push/")
            device = service.devices.get(token)
            if device is None:
                return self._refuse(404, "no such subscription")
            if device.gone:
                return self._refuse(410, "the subscription has expired")
            if self.headers.get("TTL") is None:
                return self._refuse(400, "no TTL")
            if self.headers.get("Content-Encoding") != "aes128gcm":
                return self._refuse(415, "not aes128gcm")
            if length > MAX_MESSAGE:
                return self._refuse(413, "too large")
            status, why, claims = service.check_vapid(self.headers.get("Authorization", ""), device)
            if status:
                return self._refuse(status, why)
            if service.answer is not None:
                return self._refuse(service.answer, "told to")
            try:
                payload = json.loads(service.decrypt(body, device))
            except (ValueError, InvalidTag, IndexError) as exc:
                return self._refuse(400, f"cannot decrypt: {exc.__class__.__name__}")
            service.received.append(Arrival(device, payload, body, dict(self.headers.items()), claims))
            self.send_response(201)
            self.send_header("Location", f"/message/{uuid.uuid4().hex}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _refuse(self, status: int, why: str) -> None:
            service.refused.append((status, why))
            body = why.encode()
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "60")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
