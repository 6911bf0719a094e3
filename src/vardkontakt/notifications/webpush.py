"""Web Push, written on `cryptography`: the message to a push service (RFC 8030), its payload
encrypted to the browser's keys (RFC 8291, "aes128gcm" of RFC 8188) and signed for by our VAPID
key (RFC 8292).

A push service (FCM for Chrome, Mozilla's for Firefox, Apple's for Safari) holds the message until
the device is online and hands it to the browser, which decrypts it with its private key: the push
service never reads the text. The text is the same neutral text as a text message (messages.py).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from vardkontakt.notifications.sms import DeliveryError

RECORD_SIZE = 4096
# One record: 4096 less the header (86), the tag (16) and the padding delimiter (1) (RFC 8291 §4).
MAX_PAYLOAD = 3993
# A JWT is valid at most 24 hours (RFC 8292 §2); ours for 12, so a clock a little ahead still passes.
VAPID_LIFETIME_SECONDS = 12 * 3600


class SubscriptionGone(DeliveryError):
    """The push service no longer knows the subscription (404/410): the device is to be forgotten."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_bytes(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def private_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The key as web push libraries pass it around: the raw 32-byte scalar, base64url."""
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def private_key_from_text(text: str) -> ec.EllipticCurvePrivateKey:
    raw = b64url_decode(text.strip())
    if len(raw) != 32:
        raise ValueError("a VAPID private key is 32 bytes, base64url-encoded")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def vapid_private_key() -> ec.EllipticCurvePrivateKey | None:
    """Ours from the settings; in the demo one made once; in production without one, None (no push)."""
    configured: str = settings.WEB_PUSH_VAPID_PRIVATE_KEY
    if configured:
        return _key_from_setting(configured)
    if settings.PRODUCTION:
        return None
    return _demo_key(Path(settings.WEB_PUSH_DEMO_KEY_FILE))


def application_server_key() -> str:
    """The public key the page gives PushManager.subscribe(), or "" when push is not offered."""
    key = vapid_private_key()
    return b64url_encode(public_key_bytes(key)) if key else ""


@functools.cache
def _key_from_setting(text: str) -> ec.EllipticCurvePrivateKey:
    return private_key_from_text(text)


@functools.cache
def _demo_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(private_key_text(new_private_key()))
        try:
            os.link(draft, path)  # whole or not at all: processes starting together share one key
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    return private_key_from_text(path.read_text(encoding="utf-8"))


def valid_browser_key(p256dh: str) -> bool:
    """The browser's ECDH key: an uncompressed point on P-256."""
    try:
        raw = b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return len(raw) == 65


def endpoint_allowed(endpoint: str) -> bool:
    """Only a known push service, over HTTPS: the server posts to this address, and a resident
    must not be able to make it post anywhere else (an internal address, say)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    secure = parts.scheme == "https" or (parts.scheme == "http" and settings.WEB_PUSH_ALLOW_HTTP)
    if not secure or not host or parts.username or parts.password or port == 0:
        return False
    return any(host == allowed or host.endswith("." + allowed) for allowed in settings.WEB_PUSH_SERVICE_HOSTS)


def _hkdf(*, salt: bytes, info: bytes, length: int, key_material: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key_material)


def encrypt(
    payload: bytes,
    *,
    browser_key: bytes,
    auth_secret: bytes,
    sender_key: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """The body of a push message: ``payload`` encrypted to the browser's key (RFC 8291 §3), as
    one aes128gcm record (RFC 8188 §2) headed by the salt, the record size and our one-time key."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a push payload holds at most {MAX_PAYLOAD} bytes")
    sender_key = sender_key or new_private_key()
    salt = salt or os.urandom(16)
    sender_public = public_key_bytes(sender_key)
    browser_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), browser_key)
    shared = sender_key.exchange(ec.ECDH(), browser_public)
    key_info = b"WebPush: info\x00" + browser_key + sender_public
    ikm = _hkdf(salt=auth_secret, info=key_info, length=32, key_material=shared)
    content_key = _hkdf(salt=salt, info=b"Content-Encoding: aes128gcm\x00", length=16, key_material=ikm)
    nonce = _hkdf(salt=salt, info=b"Content-Encoding: nonce\x00", length=12, key_material=ikm)
    # The last (and only) record ends with the delimiter 0x02; no further padding.
    ciphertext = AESGCM(content_key).encrypt(nonce, payload + b"\x02", None)
    header = salt + RECORD_SIZE.to_bytes(4, "big") + bytes([len(sender_public)]) + sender_public
    return header + ciphertext


def vapid_authorization(*, endpoint: str, key: ec.EllipticCurvePrivateKey, subject: str, now: float) -> str:
    """The Authorization header of RFC 8292 §3: a JWT (ES256) for the push service's origin, and our
    public key, which must be the one the browser subscribed with."""
    parts = urlsplit(endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": int(now) + VAPID_LIFETIME_SECONDS, "sub": subject}
    header = {"typ": "JWT", "alg": "ES256"}
    signing_input = (
        b64url_encode(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    token = signing_input + "." + b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return f"vapid t={token}, k={b64url_encode(public_key_bytes(key))}"


def send(*, endpoint: str, p256dh: str, auth: str, payload: dict[str, Any]) -> str:
    """Post one notice to the device's push service. Returns the message's address at the push
    service (its Location), or raises DeliveryError (SubscriptionGone when the device is gone)."""
    key = vapid_private_key()
    if key is None:
        raise DeliveryError("no VAPID key is configured (VK_VAPID_PRIVATE_KEY)")
    if not endpoint_allowed(endpoint):
        raise DeliveryError("the endpoint is not at a known push service", permanent=True)
    body = encrypt(
        json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        browser_key=b64url_decode(p256dh),
        auth_secret=b64url_decode(auth),
    )
    headers = {
        "Authorization": vapid_authorization(
            endpoint=endpoint, key=key, subject=settings.WEB_PUSH_VAPID_SUBJECT, now=time.time()
        ),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(settings.WEB_PUSH_TTL_SECONDS),
        "Urgency": "normal",
    }
    try:
        response = requests.post(
            endpoint, data=body, headers=headers, timeout=settings.WEB_PUSH_TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"push service unreachable: {exc.__class__.__name__}") from exc
    status = response.status_code
    if status in (200, 201, 202):
        return response.headers.get("Location", "")[:100]
    if status in (404, 410):
        raise SubscriptionGone(f"push service answered {status}: the subscription has expired; removed")
    if status == 429 or status >= 500:
        raise DeliveryError(f"push service answered {status}")
    if status == 401:
        # Our JWT was refused (a clock far off, say): an operator can fix it; the notice waits.
        raise DeliveryError(f"push service refused our VAPID authorization (401): {response.text[:150]}")
    if status == 403:
        raise DeliveryError(
            "push service refused our VAPID key (403): the device subscribed with another key "
            "(it must subscribe again)",
            permanent=True,
        )
    raise DeliveryError(f"push service refused the message ({status}): {response.text[:150]}", permanent=True)
