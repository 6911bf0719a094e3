"""Local payment providers on loopback, speaking the real protocols (plain HTTP, no TLS):

- ``SwishServer``: Swish Commerce API (PUT v2 paymentrequests, GET/PATCH v1 paymentrequests, PUT v2
  refunds, GET v1 refunds) and its callback, a POST of the request's JSON with the callbackIdentifier
  header.
- ``CardServer``: Stripe's Checkout Sessions (create with Idempotency-Key, retrieve, expire), refunds,
  a hosted payment page where a card number is typed, and signed webhooks (``Stripe-Signature``).

The tests steer them: refuse a payer, be down, answer too late (after recording the request, as a
real provider whose answer is lost would), and deliver callbacks twice, late or out of order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import requests

PAYEE_ALIAS = "1231181189"  # Swish's own test merchant number
CARD_KEY = "sk_test_vardkontakt"
WEBHOOK_SECRET = "whsec_vardkontakt_test"
INSTRUCTION = re.compile(r"^[0-9A-F]{32}$")


class _Handler(BaseHTTPRequestHandler):
    server_state: Any

    def log_message(self, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None, raw: bytes = b"") -> None:
        payload = raw or (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8" if raw else "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _serve(handler: type[_Handler], state: Any) -> tuple[ThreadingHTTPServer, str]:
    handler.server_state = state
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# --- Swish ------------------------------------------------------------------------------------------


@dataclass
class SwishServer:
    url: str = ""
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    puts: list[str] = field(default_factory=list)  # every PUT of a payment request, repeats included
    identifiers: dict[str, str] = field(default_factory=dict)
    refused_payers: set[str] = field(default_factory=set)
    down: bool = False
    delay: float = 0.0  # seconds before answering (the request is recorded first)
    server: Any = None

    def callback_body(self, instruction: str) -> dict[str, Any]:
        return dict(self.requests[instruction])

    def decide(self, instruction: str, status: str, error_code: str = "") -> dict[str, Any]:
        """The payer answers in the app (or Swish times out): the request's new state."""
        found = self.requests[instruction]
        found["status"] = status
        if status == "PAID":
            found["paymentReference"] = uuid.uuid4().hex.upper()
            found["datePaid"] = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if error_code:
            found["errorCode"], found["errorMessage"] = error_code, "Swish timed out before the payment was started"
        return dict(found)

    def post_callback(self, instruction: str, body: dict[str, Any] | None = None) -> Any:
        """What Swish does: POST the request to its callbackUrl with the callbackIdentifier header."""
        found = self.requests[instruction]
        return requests.post(
            found["callbackUrl"],
            json=body or dict(found),
            headers={"callbackIdentifier": self.identifiers[instruction]},
            timeout=10,
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SwishHandler(_Handler):
    server_state: SwishServer

    def _gate(self) -> bool:
        state = self.server_state
        if state.delay:
            time.sleep(state.delay)
        if state.down:
            self.answer(503)
            return False
        return True

    def do_PUT(self) -> None:
        state = self.server_state
        body = json.loads(self._body() or b"{}")
        match = re.fullmatch(r"/swish-cpcapi/api/v2/(paymentrequests|refunds)/([^/]+)", self.path)
        if match is None:
            return self.answer(404)
        kind, instruction = match.groups()
        if state.down:
            return self.answer(503)
        if not INSTRUCTION.match(instruction):
            return self.answer(422, [{"errorCode": "RP09", "errorMessage": "Invalid instructionUUID"}])
        if kind == "refunds":
            return self._refund(instruction, body)
        state.puts.append(instruction)
        if instruction in state.requests:
            time.sleep(state.delay)
            return self.answer(409, [{"errorCode": "RP09", "errorMessage": "The instructionUUID is not available"}])
        errors = []
        if not str(body.get("callbackUrl", "")).startswith(("http://127.0.0.1", "http://localhost", "https://")):
            errors.append(("RP03", "Callback URL is missing or does not use HTTPS"))
        if body.get("payeeAlias") != PAYEE_ALIAS:
            errors.append(("RP01", "Missing Merchant Swish Number"))
        if not re.fullmatch(r"46\d{7,11}", str(body.get("payerAlias", ""))):
            errors.append(("BE18", "Payer alias is invalid"))
        if body.get("currency") != "SEK":
            errors.append(("AM03", "Invalid or missing Currency"))
        if not re.fullmatch(r"\d{1,13}\.\d{2}", str(body.get("amount", ""))):
            errors.append(("PA02", "Amount value is missing or not a valid number"))
        if errors:
            return self.answer(
                422, [{"errorCode": c, "errorMessage": m, "additionalInformation": None} for c, m in errors]
            )
        if body["payerAlias"] in state.refused_payers:
            return self.answer(422, [{"errorCode": "ACMT03", "errorMessage": "Payer not Enrolled"}])
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        state.requests[instruction] = {
            "id": instruction,
            "payeePaymentReference": body.get("payeePaymentReference"),
            "paymentReference": None,
            "callbackUrl": body["callbackUrl"],
            "payerAlias": body["payerAlias"],
            "payeeAlias": body["payeeAlias"],
            "amount": float(body["amount"]),
            "currency": "SEK",
            "message": body.get("message", ""),
            "status": "CREATED",
            "dateCreated": now,
            "datePaid": None,
            "errorCode": None,
            "errorMessage": None,
        }
        state.identifiers[instruction] = body.get("callbackIdentifier", "")
        if state.delay:
            time.sleep(state.delay)  # recorded, then answered too late: the caller gave up
        location = f"{state.url}/swish-cpcapi/api/v1/paymentrequests/{instruction}"
        return self.answer(201, headers={"Location": location})

    def _refund(self, instruction: str, body: dict[str, Any]) -> None:
        state = self.server_state
        if instruction in state.refunds:
            return self.answer(409, [{"errorCode": "RP09", "errorMessage": "The instructionUUID is not available"}])
        original = next(
            (r for r in state.requests.values() if r["paymentReference"] == body.get("originalPaymentReference")), None
        )
        if original is None or original["status"] != "PAID":
            return self.answer(
                422,
                [
                    {
                        "errorCode": "RF02",
                        "errorMessage": "Original Payment not found or original payment is more than 13 months old",
                    }
                ],
            )
        already = sum(
            r["amount"] for r in state.refunds.values() if r["originalPaymentReference"] == original["paymentReference"]
        )
        if float(body["amount"]) + already > original["amount"] + 1e-9:
            return self.answer(422, [{"errorCode": "AM04", "errorMessage": "Insufficient funds in account"}])
        state.refunds[instruction] = {**body, "id": instruction, "amount": float(body["amount"]), "status": "PAID"}
        return self.answer(201, headers={"Location": f"{state.url}/swish-cpcapi/api/v1/refunds/{instruction}"})

    def do_GET(self) -> None:
        if not self._gate():
            return None
        state = self.server_state
        match = re.fullmatch(r"/swish-cpcapi/api/v1/(paymentrequests|refunds)/([^/]+)", self.path)
        store = state.requests if match and match.group(1) == "paymentrequests" else state.refunds
        if match is None or match.group(2) not in store:
            return self.answer(404, [{"errorCode": "RP04", "errorMessage": "No payment request found"}])
        return self.answer(200, store[match.group(2)])

    def do_PATCH(self) -> None:
        if not self._gate():
            return None
        state = self.server_state
        match = re.fullmatch(r"/swish-cpcapi/api/v1/paymentrequests/([^/]+)", self.path)
        patch = json.loads(self._body() or b"[]")
        if match is None or match.group(1) not in state.requests:
            return self.answer(404)
        if self.headers.get("Content-Type") != "application/json-patch+json" or patch != [
            {"op": "replace", "path": "/status", "value": "cancelled"}
        ]:
            return self.answer(400)
        found = state.requests[match.group(1)]
        if found["status"] != "CREATED":
            return self.answer(422, [{"errorCode": "RP07", "errorMessage": "Transaction has already been processed"}])
        found["status"] = "CANCELLED"
        return self.answer(200, found)


def swish_server() -> SwishServer:
    state = SwishServer()
    state.server, state.url = _serve(_SwishHandler, state)
    return state


# --- the card provider (Stripe Checkout) -------------------------------------------------------------


@dataclass
class CardServer:
    url: str = ""
    webhook_url: str = ""  # where events are sent (the endpoint set in the provider's dashboard)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, tuple[int, Any]] = field(default_factory=dict)
    creates: int = 0  # sessions actually made
    down: bool = False
    delay: float = 0.0
    server: Any = None

    def complete(self, session_id: str) -> dict[str, Any]:
        """The card accepted on the hosted page: the session is complete and paid."""
        found = self.sessions[session_id]
        found.update(status="complete", payment_status="paid", payment_intent=f"pi_{uuid.uuid4().hex[:24]}")
        return dict(found)

    def event(self, session_id: str, kind: str = "checkout.session.completed", obj: Any = None) -> tuple[bytes, str]:
        """A webhook event as the provider signs it: (payload, Stripe-Signature header)."""
        body = {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj if obj is not None else dict(self.sessions[session_id])},
        }
        payload = json.dumps(body).encode()
        return payload, sign(payload)

    def send_event(self, session_id: str, kind: str = "checkout.session.completed") -> None:
        if self.webhook_url:
            payload, signature = self.event(session_id, kind)
            requests.post(
                self.webhook_url,
                data=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
                timeout=10,
            )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"type": "invalid_request_error", "code": code, "message": message}}


class _CardHandler(_Handler):
    server_state: CardServer

    def _api(self) -> bool:
        state = self.server_state
        if state.delay:
            time.sleep(state.delay)
        if state.down:
            self.answer(503, {"error": {"type": "api_error", "message": "down"}})
            return False
        if self.headers.get("Authorization") != f"Bearer {CARD_KEY}":
            self.answer(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
            return False
        return True

    def do_GET(self) -> None:
        state = self.server_state
        page = re.fullmatch(r"/pay/(cs_test_\w+)", self.path)
        if page:
            return self._page(page.group(1))
        if not self._api():
            return None
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_test_\w+)", self.path)
        if match is None or match.group(1) not in state.sessions:
            return self.answer(*_error(404, "resource_missing", "No such checkout.session"))
        return self.answer(200, state.sessions[match.group(1)])

    def do_POST(self) -> None:
        state = self.server_state
        raw = self._body()
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        page = re.fullmatch(r"/pay/(cs_test_\w+)", self.path)
        if page:
            return self._pay(page.group(1), form)
        if not self._api():
            return None
        key = self.headers.get("Idempotency-Key", "")
        if key and key in state.idempotent:
            return self.answer(*state.idempotent[key])
        if self.path == "/v1/checkout/sessions":
            result = self._create(form)
        elif self.path == "/v1/refunds":
            result = self._refund(form)
        elif match := re.fullmatch(r"/v1/checkout/sessions/(cs_test_\w+)/expire", self.path):
            found = state.sessions.get(match.group(1))
            if found is None:
                result = _error(404, "resource_missing", "No such checkout.session")
            elif found["status"] != "open":
                result = _error(400, "checkout_session_not_open", "Only open sessions can be expired.")
            else:
                found["status"] = "expired"
                result = (200, dict(found))
        else:
            result = _error(404, "resource_missing", "Unrecognized request URL")
        if key:
            state.idempotent[key] = result
        return self.answer(*result)

    def _create(self, form: dict[str, str]) -> tuple[int, Any]:
        state = self.server_state
        needed = ["mode", "success_url", "cancel_url", "line_items[0][price_data][unit_amount]"]
        missing = [name for name in needed if not form.get(name)]
        if missing:
            return _error(400, "parameter_missing", f"Missing required param: {missing[0]}.")
        if form["line_items[0][price_data][currency]"] != "sek":
            return _error(400, "parameter_invalid", "Invalid currency")
        state.creates += 1
        session_id = f"cs_test_{uuid.uuid4().hex}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{state.url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
            "currency": "sek",
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {"payment": form.get("metadata[payment]")},
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
            "payment_intent": None,
            "locale": form.get("locale"),
        }
        state.sessions[session_id] = session
        return 200, dict(session)

    def _refund(self, form: dict[str, str]) -> tuple[int, Any]:
        state = self.server_state
        session = next((s for s in state.sessions.values() if s["payment_intent"] == form.get("payment_intent")), None)
        if session is None:
            return _error(400, "resource_missing", "No such payment_intent")
        done = sum(r["amount"] for r in state.refunds.values() if r["payment_intent"] == form["payment_intent"])
        amount = int(form.get("amount", session["amount_total"]))
        if amount + done > session["amount_total"]:
            return _error(400, "amount_too_large", "Refund amount is greater than unrefunded amount on charge")
        refund = {
            "id": f"re_{uuid.uuid4().hex[:24]}",
            "object": "refund",
            "amount": amount,
            "payment_intent": form["payment_intent"],
            "status": "succeeded",
            "metadata": {"refund": form.get("metadata[refund]")},
        }
        state.refunds[str(refund["id"])] = refund
        return 200, refund

    def _page(self, session_id: str) -> None:
        found = self.server_state.sessions.get(session_id)
        if found is None or found["status"] != "open":
            return self.answer(404, raw=b"<!DOCTYPE html><title>Expired</title><p>This page has expired.</p>")
        amount = found["amount_total"] / 100
        page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Pay {amount:.2f} SEK</title></head>
<body><h1>Test payment provider</h1><p id="amount">{amount:.2f} SEK</p>
<form method="post"><label for="card">Card number</label><input id="card" name="card" autocomplete="cc-number">
<button type="submit" id="pay">Pay</button></form>
<p><a id="back" href="{html.escape(found["cancel_url"])}">Cancel and go back</a></p></body></html>"""
        return self.answer(200, raw=page.encode())

    def _pay(self, session_id: str, form: dict[str, str]) -> None:
        state = self.server_state
        found = state.sessions.get(session_id)
        if found is None or found["status"] != "open":
            return self.answer(404, raw=b"<!DOCTYPE html><title>Expired</title><p>Expired.</p>")
        if form.get("card", "").replace(" ", "") != "4242424242424242":
            return self.answer(
                402, raw=b"<!DOCTYPE html><title>Declined</title><p id='declined'>Your card was declined.</p>"
            )
        state.complete(session_id)
        state.send_event(session_id)
        self.send_response(303)
        self.send_header("Location", found["success_url"])
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None


def card_server() -> CardServer:
    state = CardServer()
    state.server, state.url = _serve(_CardHandler, state)
    return state
