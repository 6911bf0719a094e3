"""The SMS gateway and the mail server down for 30 minutes (issue #20 part 3, ``make faults``).

Simulated time: the clock is moved a minute at a time (time_machine) and, at each minute, what
the task worker does is done here: every delivery that is due is attempted (notifications'
delivery_attempt), and when one is out, the next notice waiting behind it for the same address
(delivery_release_next, what tasks.deliver queues). The gateways are real local servers: an HTTP server
speaking 46elks' API and an SMTP server (aiosmtpd), both recording what they accept in order.

- minutes 0-15: both refuse connections (nothing listens on their ports);
- minutes 15-30: both answer, but refuse: the SMS gateway 503, the mail server 451 to DATA;
- from minute 30: both accept.

Notices for three residents keep coming during the outage. Afterwards: every delivery sent, each
SMS and e-mail received exactly once, and per recipient in the order the notices were written;
during the outage the support lookup shows each delivery's attempts, next attempt and last error.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.identity.models import Patient, User
from vardkontakt.notifications.delivery import deliveries_due, delivery_attempt, delivery_release_next, gateways_probe
from vardkontakt.notifications.models import Delivery, DeliveryStatus, NotificationKind
from vardkontakt.notifications.services import notification_create

pytestmark = [
    pytest.mark.skipif(not os.environ.get("VK_FAULTS"), reason="fault injection: make faults"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="fault injection runs on PostgreSQL"
    ),
    pytest.mark.django_db,
]

OUTAGE_MINUTES = 30
REFUSING_FROM = 15  # minute: from connection refused to answering with an error
NOTICES_AT = [0, 3, 7, 12, 16, 20, 26]  # minutes: each resident gets a notice at each
AFTER_MINUTES = 120  # how long the clock runs on after the outage, at most


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmsGateway:
    """46elks' POST /a1/sms on a port of its own, started and stopped by the test."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.refuse = False  # answer 503
        self.received: list[tuple[str, str]] = []  # (to, id) in the order accepted
        self.refused = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                if gateway.refuse:
                    gateway.refused += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                entry = (form["to"][0], f"s{len(gateway.received) + 1:06d}")
                gateway.received.append(entry)
                body = json.dumps({"id": entry[1], "status": "created"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class MailServer:
    """Records (recipient, Message-ID) of each message it accepts; answers 451 while refusing."""

    def __init__(self) -> None:
        self.refuse = False
        self.received: list[tuple[str, str]] = []
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refused += 1
            return "451 4.3.0 Mail server busy, try again later"
        message_id = message_from_bytes(envelope.content, policy=policy.default)["Message-ID"].strip()
        self.received.append((envelope.rcpt_tos[0], message_id))
        return "250 OK"


def _work() -> int:
    """One pass of the worker: its sweep (the failing gateways' probe, then each due delivery),
    and after one is out the next behind it."""
    attempts = 0
    gateways_probe()
    for delivery_id in deliveries_due():
        current: str | None = delivery_id
        while current is not None:
            status = delivery_attempt(current)
            attempts += 1
            current = delivery_release_next(current) if status in (DeliveryStatus.SENT, DeliveryStatus.FAILED) else None
    return attempts


def test_sms_and_mail_down_for_30_minutes_then_everything_once_and_in_order(personas, settings, tmp_path):
    sms = SmsGateway()
    mail = MailServer()
    smtp_port = _free_port()
    smtp = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    settings.SMS_BACKEND = "46elks"
    settings.SMS_API_URL = f"http://127.0.0.1:{sms.port}"
    settings.SMS_API_USERNAME, settings.SMS_API_PASSWORD = "u0123456789abcdef", "S3CRET"
    settings.SMS_TIMEOUT_SECONDS = 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp_port, 2
    residents = [personas.tolvan, personas.other_patient, personas.guardian]
    for n, patient in enumerate(residents):
        Patient.objects.filter(pk=patient.pk).update(
            email=f"boende{n}@example.se", mobile=f"+4670123456{n}", notify_by_email=True, notify_by_sms=True
        )
        patient.refresh_from_db()
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    seen_in_support: dict[str, Any] = {}
    attempts_during_outage = 0
    recovered_at: int | None = None
    with time_machine.travel(start, tick=False) as clock:
        try:
            for minute in range(OUTAGE_MINUTES + AFTER_MINUTES + 1):
                if minute == REFUSING_FROM:  # the servers are back, but refusing
                    sms.refuse = mail.refuse = True
                    sms.start()
                    smtp.start()
                if minute == OUTAGE_MINUTES:
                    sms.refuse = mail.refuse = False
                if minute in NOTICES_AT:
                    for patient in residents:
                        notification_create(recipient=patient, kind=NotificationKind.REPLY_WAITING, cause=f"m{minute}")
                done = _work()
                if minute < OUTAGE_MINUTES:
                    attempts_during_outage += done
                if minute == OUTAGE_MINUTES - 1:
                    # Support looks the person up (logged in now: the clock has moved past any session).
                    support = login_as(Client(), User.objects.get_or_create_for_staff(personas.support))
                    page = support.post("/staff/support/lookup/", {"personnummer": personas.tolvan.personnummer})
                    assert page.status_code == 200
                    seen_in_support = _support_view(page.text)
                    Path(os.environ.get("FAULTS_REPORT_DIR", tmp_path)).joinpath(
                        "faults-gateways-support.html"
                    ).write_text(page.text)
                if minute >= OUTAGE_MINUTES and not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists():
                    recovered_at = minute
                    break
                clock.shift(dt.timedelta(minutes=1))
        finally:
            sms.stop()
            if smtp.server is not None:
                smtp.stop()
    deliveries = list(Delivery.objects.select_related("notification").order_by("notification__created_at", "pk"))
    by_provider_id = {d.provider_id: d for d in deliveries if d.channel == "sms"}
    by_message_id = {f"<delivery-{d.pk}@vardkontakt.example>": d for d in deliveries if d.channel == "email"}
    sms_order: dict[str, list[dt.datetime]] = collections.defaultdict(list)
    for to, provider_id in sms.received:
        sms_order[to].append(by_provider_id[provider_id].notification.created_at)
    mail_order: dict[str, list[dt.datetime]] = collections.defaultdict(list)
    for to, message_id in mail.received:
        mail_order[to].append(by_message_id[message_id].notification.created_at)
    summary = {
        "outage_minutes": OUTAGE_MINUTES,
        "notices": len(NOTICES_AT) * len(residents),
        "deliveries": len(deliveries),
        "not_sent": sum(1 for d in deliveries if d.status != DeliveryStatus.SENT),
        "attempts_during_outage": attempts_during_outage,
        "refused_by_the_servers_while_answering": {"sms": sms.refused, "mail": mail.refused},
        "sms_received": len(sms.received),
        "sms_distinct": len({p for _, p in sms.received}),
        "mail_received": len(mail.received),
        "mail_distinct": len({m for _, m in mail.received}),
        "all_out_minutes_after_the_outage": None if recovered_at is None else recovered_at - OUTAGE_MINUTES,
        "most_attempts": max(d.attempts for d in deliveries),
        "support_view_at_minute_29": seen_in_support,
    }
    print("\nFAULTS gateways down: " + json.dumps(summary, default=str))
    Path(os.environ.get("FAULTS_REPORT_DIR", tmp_path)).joinpath("faults-gateways.json").write_text(
        json.dumps(summary, default=str, indent=1)
    )
    assert summary["not_sent"] == 0, "a notice was lost"
    # The probe sees the recovery within a minute and what waited goes at once (not at its back-off).
    assert recovered_at is not None and recovered_at - OUTAGE_MINUTES <= 3, recovered_at
    sms_rows = [d for d in deliveries if d.channel == "sms"]
    assert len(sms.received) == len(sms_rows) == summary["sms_distinct"], "an SMS was lost or sent twice"
    assert {p for _, p in sms.received} == {d.provider_id for d in sms_rows}
    assert sorted(m for _, m in mail.received) == sorted(by_message_id), "an e-mail was lost or sent twice"
    for order in [*sms_order.values(), *mail_order.values()]:
        assert order == sorted(order), "a recipient got the notices out of order"
    assert len(sms_order) == len(mail_order) == len(residents)
    assert sms.refused and mail.refused  # the servers did refuse while answering
    # The back-off as support sees it: attempts, the next attempt and what went wrong.
    assert seen_in_support["pending_rows"] >= 2 * len(NOTICES_AT) - 2, seen_in_support
    assert seen_in_support["next_attempt_shown"] >= 2, seen_in_support
    assert seen_in_support["most_attempts_shown"] >= 3, seen_in_support
    assert seen_in_support["gateway_errors_shown"], seen_in_support


def _support_view(html: str) -> dict[str, Any]:
    """What the support lookup shows of the person's deliveries (the rows of its table)."""
    import re

    rows = re.findall(r"<tr class=\"nhsuk-table__row\">(.*?)</tr>", html, flags=re.S)
    deliveries = [row for row in rows if re.search(r"Väntar|Waiting", row, flags=re.I)]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in deliveries]
    attempts = [int(c[4]) for c in cells if len(c) > 4 and c[4].strip().isdigit()]
    return {
        "pending_rows": len(deliveries),
        "next_attempt_shown": sum(1 for row in deliveries if re.search(r"nästa försök|next attempt", row)),
        "most_attempts_shown": max(attempts, default=0),
        "gateway_errors_shown": sorted({c[5].strip() for c in cells if len(c) > 5})[:4],
    }
