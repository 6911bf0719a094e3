"""SMS gateways. Production speaks 46elks' HTTP API (POST /a1/sms, Basic auth, form fields
``from``, ``to``, ``message``); the demo writes each message to a file under var/sms/.
"""

from __future__ import annotations

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
