"""The card adapter: Stripe Checkout, a hosted payment page (Stripe's API as documented at
docs.stripe.com/api). The card number is typed on the provider's page, never on ours.

- Create: ``POST /v1/checkout/sessions`` (form-encoded: mode=payment, one line item in SEK öre,
  client_reference_id = our payment, success_url/cancel_url back to us) with an ``Idempotency-Key``
  header: sent again after a timeout it returns the same session, so a retry never makes a second.
- Retrieve: ``GET /v1/checkout/sessions/{id}`` (status open/complete/expired, payment_status paid);
  give up an open one: ``POST /v1/checkout/sessions/{id}/expire``.
- Refund: ``POST /v1/refunds`` (payment_intent, amount) with an ``Idempotency-Key``.
- Webhooks: ``checkout.session.completed`` / ``.async_payment_succeeded`` / ``.expired`` /
  ``.async_payment_failed``, signed in ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
  "t.payload" under the endpoint's secret>``; older than the tolerance, or unsigned, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from vardkontakt.payments.providers import ProviderError, ProviderUnreachable, State

SIGNATURE_TOLERANCE_SECONDS = 300


def configured() -> bool:
    return bool(settings.CARD_API_URL and settings.CARD_SECRET_KEY and settings.CARD_WEBHOOK_SECRET)


def _send(method: str, path: str, data: dict[str, str] | None = None, idempotency_key: str = "") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {settings.CARD_SECRET_KEY}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        response = requests.request(
            method,
            settings.CARD_API_URL.rstrip("/") + path,
            data=data,
            headers=headers,
            timeout=settings.CARD_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise ProviderUnreachable(str(exc)) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderUnreachable(f"the card provider answered {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderUnreachable("the card provider answered without JSON") from exc
    if response.status_code >= 400:
        error = body.get("error") or {}
        raise ProviderError(
            str(error.get("code") or error.get("type") or response.status_code), str(error.get("message") or "")
        )
    return body


@dataclass(frozen=True)
class Session:
    id: str
    url: str
    state: State


def _session(body: dict[str, Any]) -> Session:
    status, paid = str(body.get("status") or ""), str(body.get("payment_status") or "")
    outcome = "paid" if paid == "paid" else "failed" if status == "expired" else "pending"
    return Session(
        id=str(body.get("id") or ""),
        url=str(body.get("url") or ""),
        state=State(
            outcome=outcome,
            provider_status=f"{status}/{paid}",
            charge_ref=str(body.get("payment_intent") or ""),
            amount_ore=body.get("amount_total") if isinstance(body.get("amount_total"), int) else None,
        ),
    )


def create(*, payment_id: uuid.UUID, amount_ore: int, description: str, return_url: str, language: str) -> Session:
    data = {
        "mode": "payment",
        "client_reference_id": str(payment_id),
        "metadata[payment]": str(payment_id),
        "payment_method_types[0]": "card",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "sek",
        "line_items[0][price_data][unit_amount]": str(amount_ore),
        "line_items[0][price_data][product_data][name]": description,
        "success_url": return_url,
        "cancel_url": return_url,
        "locale": "sv" if language == "sv" else "en",
        "expires_at": str(int(time.time()) + 30 * 60),  # the shortest Stripe allows: the fee is free sooner
    }
    return _session(_send("POST", "/v1/checkout/sessions", data, idempotency_key=f"payment-{payment_id}"))


def retrieve(session_id: str) -> Session:
    return _session(_send("GET", f"/v1/checkout/sessions/{session_id}"))


def expire(session_id: str) -> Session:
    """Close an open page; one already completed or expired keeps its outcome (read back)."""
    try:
        return _session(_send("POST", f"/v1/checkout/sessions/{session_id}/expire"))
    except ProviderError:
        return retrieve(session_id)


def refund(*, refund_id: uuid.UUID, payment_intent: str, amount_ore: int) -> str:
    """The refund's status: succeeded, pending, requires_action or failed."""
    body = _send(
        "POST",
        "/v1/refunds",
        {"payment_intent": payment_intent, "amount": str(amount_ore), "metadata[refund]": str(refund_id)},
        idempotency_key=f"refund-{refund_id}",
    )
    return str(body.get("status") or "")


def signature_valid(payload: bytes, header: str, *, now: float | None = None) -> bool:
    secret = settings.CARD_WEBHOOK_SECRET
    if not secret:
        return False
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _sep, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        stamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - stamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))


def session_of_event(event: dict[str, Any]) -> tuple[str, Session] | None:
    """The checkout session a webhook event is about, with the event's type; None for other events."""
    kind = str(event.get("type") or "")
    if not kind.startswith("checkout.session."):
        return None
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        return None
    return kind, _session(obj)


def reference_of_event(event: dict[str, Any]) -> str:
    obj = (event.get("data") or {}).get("object") or {}
    return str(obj.get("client_reference_id") or "") if isinstance(obj, dict) else ""
