"""Real peers on loopback: an SMTP server (aiosmtpd), an SMS gateway speaking 46elks' API and a Web
Push service (push_service.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

from tests.notifications.push_service import PushService, running_push_service

USERNAME, PASSWORD = "u0123456789abcdef", "S3CRET"


@dataclass
class MailSink:
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server(settings) -> Iterator[MailSink]:
    sink = MailSink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class Gateway:
    """A local SMS gateway with 46elks' request and answer shapes. ``down`` makes it answer 503."""

    url: str = ""
    received: list[dict[str, str]] = field(default_factory=list)
    down: bool = False
    reject: bool = False
    history: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def sms_gateway(settings) -> Iterator[Gateway]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
            if self.path != "/a1/sms":
                return self._answer(404, b"Not found")
            if self.headers.get("Authorization") != expected:
                return self._answer(401, b"Unauthorized")
            if state.down:
                return self._answer(503, b"Service unavailable")
            if state.reject or not form.get("to", "").startswith("+"):
                return self._answer(403, b"Invalid to number")
            sms_id = f"s{uuid.uuid4().hex}"
            state.received.append(form)
            state.history.append(
                {
                    "id": sms_id,
                    "created": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(),
                    "direction": "outgoing",
                    "to": form["to"],
                    "message": form["message"],
                }
            )
            body = {
                "id": sms_id,
                "status": "created",
                "from": form["from"],
                "to": form["to"],
                "message": form["message"],
                "parts": 1,
                "cost": 3500,
            }
            return self._answer(200, json.dumps(body).encode(), "application/json")

        def do_GET(self) -> None:
            # The history (GET /a1/sms): ``to`` filters, ``end`` is "after this time", ``start`` "before".
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != "/a1/sms":
                return self._answer(404, b"Not found")
            if state.down:
                return self._answer(503, b"Service unavailable")
            data = [
                entry
                for entry in reversed(state.history)
                if entry["to"] == query.get("to", entry["to"])
                and query.get("end", "") <= entry["created"] <= query.get("start", "9999")
            ]
            return self._answer(200, json.dumps({"data": data}).encode(), "application/json")

        def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.SMS_BACKEND = "46elks"
    settings.SMS_API_URL = state.url
    settings.SMS_API_USERNAME = USERNAME
    settings.SMS_API_PASSWORD = PASSWORD
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def push_service(settings) -> Iterator[PushService]:
    """The push service on loopback (push_service.py), and our VAPID key in the settings."""
    from vardkontakt.notifications import webpush

    settings.WEB_PUSH_VAPID_PRIVATE_KEY = webpush.private_key_text(webpush.new_private_key())
    settings.WEB_PUSH_ALLOW_HTTP = True
    settings.WEB_PUSH_SERVICE_HOSTS = ["127.0.0.1"]
    with running_push_service() as service:
        yield service
