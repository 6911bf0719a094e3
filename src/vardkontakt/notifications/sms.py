"""SMS gateways. Production speaks 46elks' HTTP API (POST /a1/sms, Basic auth, form fields
``from``, ``to``, ``message``); the demo writes each message to a file under var/sms/.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Protocol

import requests
from django.conf import settings
from django.utils import timezone


class DeliveryError(Exception):
    """Delivery failed. ``permanent``: retrying cannot help (e.g. the number does not exist)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsGateway(Protocol):
    def send(self, *, to: str, message: str) -> str:
        """Send one SMS; return the provider's id for it, or raise DeliveryError."""
        ...

    def find_sent(self, *, to: str, message: str, after: dt.datetime, before: dt.datetime, known: set[str]) -> str:
        """The provider's id of an SMS with this text to this number accepted in [after, before]
        and not among ``known`` (ids already recorded for other deliveries), or "" if none."""
        ...


class FileSmsGateway:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, *, to: str, message: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        sms_id = f"file-{uuid.uuid4().hex}"
        record = {
            "id": sms_id,
            "to": to,
            "from": settings.SMS_SENDER,
            "message": message,
            "at": timezone.now().isoformat(),
        }
        (self.directory / f"{sms_id}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        return sms_id

    def find_sent(self, *, to: str, message: str, after: dt.datetime, before: dt.datetime, known: set[str]) -> str:
        return ""  # the demo's files: a resend after a killed worker is one more file


class FortySixElksGateway:
    def __init__(self, *, base_url: str, username: str, password: str, sender: str, timeout: int) -> None:
        self.url = base_url.rstrip("/") + "/a1/sms"
        self.auth = (username, password)
        self.sender = sender
        self.timeout = timeout

    def send(self, *, to: str, message: str) -> str:
        try:
            response = requests.post(
                self.url,
                auth=self.auth,
                data={"from": self.sender, "to": to, "message": message},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"gateway unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"gateway answered {response.status_code}")
        if response.status_code == 401:
            # Our credentials are wrong: an operator must fix them; keep the message waiting.
            raise DeliveryError("gateway refused our credentials (401)")
        if response.status_code >= 400:
            raise DeliveryError(f"gateway refused the message: {response.text[:200]}", permanent=True)
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError) as exc:
            raise DeliveryError("gateway answered without an id") from exc

    def find_sent(self, *, to: str, message: str, after: dt.datetime, before: dt.datetime, known: set[str]) -> str:
        """46elks has no client reference or idempotency key on POST /a1/sms, but its history
        (GET /a1/sms, filtered by recipient, ``end``: after this time, ``start``: before it) shows
        what it accepted. Asked before resending a message whose worker died mid-send."""

        def stamp(moment: dt.datetime) -> str:
            return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat()

        try:
            response = requests.get(
                self.url,
                auth=self.auth,
                params={"to": to, "end": stamp(after), "start": stamp(before), "limit": "100"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"gateway unreachable for the status query: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            # Not knowing is no licence to send twice: wait and ask again.
            raise DeliveryError(f"gateway answered the status query with {response.status_code}")
        try:
            history = response.json()["data"]
        except (ValueError, KeyError) as exc:
            raise DeliveryError("gateway answered the status query without data") from exc
        candidates = sorted(
            (entry["created"], str(entry["id"]))
            for entry in history
            if entry.get("direction") == "outgoing"
            and entry.get("to") == to
            and entry.get("message") == message
            and str(entry.get("id")) not in known
        )
        return candidates[0][1] if candidates else ""


def gateway() -> SmsGateway:
    if settings.SMS_BACKEND == "46elks":
        return FortySixElksGateway(
            base_url=settings.SMS_API_URL,
            username=settings.SMS_API_USERNAME,
            password=settings.SMS_API_PASSWORD,
            sender=settings.SMS_SENDER,
            timeout=settings.SMS_TIMEOUT_SECONDS,
        )
    return FileSmsGateway(Path(settings.SMS_FILE_DIR))
