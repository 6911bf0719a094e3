"""kill -9 of the task worker in the middle of deliveries (issue #20 part 3, ``make faults``).

Not part of the normal suite: it runs only with VK_FAULTS set (the Makefile's ``faults`` target),
on PostgreSQL. A real worker process (``manage.py run_worker``) delivers to a local SMS gateway
speaking 46elks' API and a local SMTP server, both counting what they receive; the test kills the
worker with SIGKILL at random moments FAULTS_KILLS times, lets the claims it held lapse (the clock
the claim is measured by is moved, not waited for), starts it again, and at the end requires every
notice delivered and none received twice (SMS by recipient, e-mail by Message-ID).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import Delivery, DeliveryStatus, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.notifications.tasks import sweep_outbox

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("FAULTS_KILLS", "200"))
NOTICES = int(os.environ.get("FAULTS_NOTICES", "20"))
PER_ROUND = int(os.environ.get("FAULTS_NOTICES_PER_KILL", "8"))

pytestmark = [
    pytest.mark.skipif(not os.environ.get("VK_FAULTS"), reason="fault injection: make faults"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="fault injection runs on PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmsCounter:
    def __init__(self) -> None:
        self.by_recipient: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self.sequence = 0
        self.history: list[dict[str, str]] = []
        self.status_queries = 0


def _sms_gateway(counter: SmsCounter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            # A gateway takes a moment to accept: the worker can be killed while it waits.
            time.sleep(random.uniform(0.005, 0.03))  # noqa: S311 (timing, not secrets)
            with counter.lock:
                counter.by_recipient[form["to"][0]] += 1
                counter.sequence += 1
                entry = {
                    "id": f"s{counter.sequence:08d}",
                    "created": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(),
                    "direction": "outgoing",
                    "to": form["to"][0],
                    "message": form["message"][0],
                }
                counter.history.append(entry)
            self._answer({"id": entry["id"], "status": "created"})

        def do_GET(self) -> None:
            # 46elks' history: ``end`` is "after this time", ``start`` "before this time".
            query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
            with counter.lock:
                counter.status_queries += 1
                data = [
                    entry
                    for entry in reversed(counter.history)
                    if entry["to"] == query.get("to", entry["to"])
                    and query.get("end", "") <= entry["created"] <= query.get("start", "9999")
                ]
            self._answer({"data": data[: int(query.get("limit", 100))]})

        def _answer(self, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class MailCounter:
    def __init__(self) -> None:
        self.by_message_id: collections.Counter[str] = collections.Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.by_message_id[message_from_bytes(envelope.content, policy=policy.default)["Message-ID"].strip()] += 1
        return "250 OK"


def _worker_env(sms_port: int, smtp_port: int) -> dict[str, str]:
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    return {
        **os.environ,
        "VK_DEMO": "true",
        "DATABASE_URL": url,
        "VK_SMS_BACKEND": "46elks",
        "VK_SMS_API_URL": f"http://127.0.0.1:{sms_port}",
        "VK_SMS_API_USERNAME": "u0123456789abcdef",
        "VK_SMS_API_PASSWORD": "S3CRET",
        "VK_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "VK_EMAIL_HOST": "127.0.0.1",
        "VK_EMAIL_PORT": str(smtp_port),
    }


def _start_worker(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_worker"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )


def _lapse_claims() -> int:
    """What CLAIM (two minutes) later looks like: the claims of a killed worker have run out."""
    return Delivery.objects.filter(status=DeliveryStatus.SENDING).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )


def test_kill_9_of_the_worker_mid_delivery_loses_nothing_and_sends_nothing_twice(personas, tmp_path):
    sms = SmsCounter()
    gateway = _sms_gateway(sms)
    mail = MailCounter()
    smtp_port = _free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    patient = personas.tolvan
    Patient.objects.filter(pk=patient.pk).update(
        email="tolvan@example.se", mobile="+46701234567", notify_by_email=True, notify_by_sms=True
    )
    patient.refresh_from_db()
    log = (tmp_path / "worker.log").open("wb")
    env = _worker_env(gateway.server_address[1], smtp_port)
    worker = _start_worker(env, log)
    kills = 0
    started = time.monotonic()
    try:
        # Notices keep arriving while the worker is killed again and again.
        for n in range(NOTICES):
            notification_create(recipient=patient, kind=NotificationKind.REPLY_WAITING, cause=f"fault:{n}")
        rng = random.Random(20)  # noqa: S311 (timing, not secrets)
        while kills < KILLS:
            # Wait until this worker is sending (past Django's setup, however slow the machine), then
            # kill it a random moment later: before, during or just after a gateway's acceptance.
            received = sms.sequence + sum(mail.by_message_id.values())
            deadline = time.monotonic() + 60
            while sms.sequence + sum(mail.by_message_id.values()) == received and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.08))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
            _lapse_claims()
            # Work for the next worker to be killed in the middle of: notices topped up to PER_ROUND
            # waiting. Not PER_ROUND more a kill: a worker lives to send one or two, so the queue
            # grew by about 14 deliveries a kill, and the run of 2026-12-06 was stopped at 90 kills
            # with 1,400 waiting, the rest of the kills and the drain ahead of it.
            waiting = Delivery.objects.exclude(status=DeliveryStatus.SENT).values("notification").distinct().count()
            for n in range(max(0, PER_ROUND - waiting)):
                notification_create(recipient=patient, kind=NotificationKind.REPLY_WAITING, cause=f"fault:{kills}:{n}")
            sweep_outbox()
            worker = _start_worker(env, log)
        # Then the worker runs undisturbed until everything is out (on a loaded 2-core machine its
        # restart alone can take a minute: FAULTS_DRAIN_SECONDS).
        deadline = time.monotonic() + float(os.environ.get("FAULTS_DRAIN_SECONDS", "600"))
        while Delivery.objects.exclude(status=DeliveryStatus.SENT).exists() and time.monotonic() < deadline:
            _lapse_claims()
            sweep_outbox()
            time.sleep(1)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
        controller.stop()
        gateway.shutdown()
        log.close()
    deliveries = list(Delivery.objects.values_list("channel", "status", "provider_id", "id"))
    sms_rows = [row for row in deliveries if row[0] == "sms"]
    email_rows = [row for row in deliveries if row[0] == "email"]
    received_sms = sum(sms.by_recipient.values())
    doubled_mail = {mid: count for mid, count in mail.by_message_id.items() if count > 1}
    summary = {
        "kills": kills,
        "seconds": round(time.monotonic() - started, 1),
        "deliveries": len(deliveries),
        "not_sent": sum(1 for row in deliveries if row[1] != DeliveryStatus.SENT),
        "sms_deliveries": len(sms_rows),
        "sms_received_by_gateway": received_sms,
        "sms_status_queries": sms.status_queries,
        "deliveries_retried_after_a_kill": Delivery.objects.filter(attempts__gt=1).count(),
        "emails": len(email_rows),
        "emails_received": sum(mail.by_message_id.values()),
        "email_message_ids": len(mail.by_message_id),
        "emails_received_twice": len(doubled_mail),
    }
    print("\nFAULTS worker kill: " + json.dumps(summary))
    Path(os.environ.get("FAULTS_REPORT_DIR", tmp_path)).joinpath("faults-worker.json").write_text(json.dumps(summary))
    assert kills == KILLS
    assert summary["not_sent"] == 0, "a notice was lost"
    # Every SMS row is SENT, so the gateway accepted each at least once: equal totals mean once each.
    assert received_sms == len(sms_rows), "an SMS reached the gateway twice"
    assert len({row[2] for row in sms_rows}) == len(sms_rows)
    assert set(mail.by_message_id) == {f"<delivery-{row[3]}@vardkontakt.example>" for row in email_rows}
    assert not doubled_mail, "an e-mail reached the mail server twice"
