"""TURN credentials by the TURN REST API's shared-secret scheme (coturn's ``use-auth-secret``):
the username is ``expiry:userid`` (expiry in Unix seconds) and the password is
base64(HMAC-SHA1(secret, username)). coturn recomputes the password from its own copy of the
secret and refuses a username whose expiry has passed, so nothing is stored and a credential
that leaks is worthless after VK_TURN_CREDENTIAL_SECONDS."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

from django.conf import settings


def credential(*, secret: str, user_id: str, now: dt.datetime, lifetime_seconds: int) -> tuple[str, str]:
    username = f"{int(now.timestamp()) + lifetime_seconds}:{user_id}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def ice_servers(*, user_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The RTCPeerConnection's iceServers for one person: STUN as configured, TURN with a fresh
    credential when a TURN server and its secret are configured."""
    servers: list[dict[str, Any]] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS and settings.TURN_SECRET:
        username, password = credential(
            secret=settings.TURN_SECRET,
            user_id=user_id,
            now=now,
            lifetime_seconds=settings.TURN_CREDENTIAL_SECONDS,
        )
        servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": password})
    return servers
