"""The Swish for Merchants adapter (Swish Commerce API, as Getswish documents it).

- Create: ``PUT /swish-cpcapi/api/v2/paymentrequests/{instructionUUID}`` (JSON: payeePaymentReference,
  callbackUrl, payerAlias, payeeAlias, amount, currency SEK, message, callbackIdentifier) answers
  201 and a Location; a refusal is 4xx with ``[{"errorCode", "errorMessage"}]``.
- Retrieve: ``GET /swish-cpcapi/api/v1/paymentrequests/{id}``; cancel: ``PATCH`` of the same with a
  JSON patch ``[{"op": "replace", "path": "/status", "value": "cancelled"}]``.
- Refund: ``PUT /swish-cpcapi/api/v2/refunds/{instructionUUID}`` (originalPaymentReference,
  callbackUrl, payerAlias = our Swish number, amount, currency, message); ``GET .../api/v1/refunds/{id}``.
- The callback: Swish POSTs the payment request (or refund) with its status to the callbackUrl,
  with our callbackIdentifier in a header of that name.

The instruction UUID is our payment's id (32 upper-case hex digits): a request sent again after a
timeout names the same instruction, which Swish will not create twice. Production authenticates with
the merchant's client certificate (mutual TLS) and checks Swish's server certificate against the CA
file given; the tests' local server speaks plain HTTP on loopback (tests/payments/servers.py).
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings

from vardkontakt.payments.providers import ProviderError, ProviderUnreachable, State

BASE = "/swish-cpcapi/api"
FINAL_FAILED = {"DECLINED", "ERROR", "CANCELLED"}
# Asked for an instruction UUID it already holds, Swish answers one of these: the earlier request
# arrived, and is the one to follow.
ALREADY_EXISTS = {"RP09", "FF10"}


def instruction_id(value: uuid.UUID) -> str:
    return value.hex.upper()


def configured() -> bool:
    return bool(settings.SWISH_API_URL and settings.SWISH_PAYEE_ALIAS)


def _session() -> requests.Session:
    session = requests.Session()
    if settings.SWISH_CERT_FILE:
        session.cert = (settings.SWISH_CERT_FILE, settings.SWISH_KEY_FILE or settings.SWISH_CERT_FILE)
    if settings.SWISH_CA_FILE:
        session.verify = settings.SWISH_CA_FILE
    return session


def _send(method: str, path: str, body: Any = None, content_type: str = "application/json") -> requests.Response:
    url = settings.SWISH_API_URL.rstrip("/") + path
    data = None if body is None else json.dumps(body)
    try:
        with _session() as session:
            response = session.request(
                method, url, data=data, headers={"Content-Type": content_type}, timeout=settings.SWISH_TIMEOUT_SECONDS
            )
    except requests.RequestException as exc:
        raise ProviderUnreachable(str(exc)) from exc
    if response.status_code >= 500:
        raise ProviderUnreachable(f"Swish answered {response.status_code}")
    return response


def _refusal(response: requests.Response) -> ProviderError:
    try:
        errors = response.json()
        first = errors[0] if isinstance(errors, list) and errors else {}
    except ValueError:
        first = {}
    return ProviderError(str(first.get("errorCode") or response.status_code), str(first.get("errorMessage") or ""))


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def create(
    *, payment_id: uuid.UUID, payer_alias: str, amount: Decimal, message: str, reference: str, callback_identifier: str
) -> None:
    """Ask Swish to send the payer a payment request. Returns when Swish holds it (created now or by an
    earlier attempt); raises ProviderError on a refusal and ProviderUnreachable when it is unknown."""
    body = {
        "payeePaymentReference": reference,
        "callbackUrl": settings.SITE_URL + "/payments/callbacks/swish/",
        "payerAlias": payer_alias,
        "payeeAlias": settings.SWISH_PAYEE_ALIAS,
        "amount": _amount(amount),
        "currency": "SEK",
        "message": message[:50],
        "callbackIdentifier": callback_identifier,
    }
    response = _send("PUT", f"{BASE}/v2/paymentrequests/{instruction_id(payment_id)}", body)
    if response.status_code == 201:
        return
    error = _refusal(response)
    if response.status_code == 409 or error.code in ALREADY_EXISTS:
        return
    raise error


def state_of(body: dict[str, Any]) -> State:
    """A payment request (from a GET or a callback) in our words."""
    status = str(body.get("status") or "")
    outcome = "paid" if status == "PAID" else "failed" if status in FINAL_FAILED else "pending"
    try:
        ore = int((Decimal(str(body.get("amount"))) * 100).to_integral_value())
    except (ArithmeticError, ValueError):
        ore = None
    return State(
        outcome=outcome,
        provider_status=status,
        charge_ref=str(body.get("paymentReference") or ""),
        amount_ore=ore,
        error_code=str(body.get("errorCode") or ""),
        error_message=str(body.get("errorMessage") or "")[:300],
    )


def retrieve(payment_id: uuid.UUID) -> State | None:
    """The request as Swish holds it; None when Swish never received it."""
    response = _send("GET", f"{BASE}/v1/paymentrequests/{instruction_id(payment_id)}")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise _refusal(response)
    return state_of(response.json())


def cancel(payment_id: uuid.UUID) -> State:
    """Withdraw a request the payer has not answered; a request already decided keeps its outcome."""
    patch = [{"op": "replace", "path": "/status", "value": "cancelled"}]
    response = _send(
        "PATCH", f"{BASE}/v1/paymentrequests/{instruction_id(payment_id)}", patch, "application/json-patch+json"
    )
    if response.status_code == 200:
        return state_of(response.json())
    found = retrieve(payment_id)  # refused: most often because it was paid or ended meanwhile
    if found is None:
        raise _refusal(response)
    return found


def refund(*, refund_id: uuid.UUID, original_reference: str, amount: Decimal, message: str) -> None:
    body = {
        "payerPaymentReference": str(refund_id),
        "originalPaymentReference": original_reference,
        "callbackUrl": settings.SITE_URL + "/payments/callbacks/swish/",
        "payerAlias": settings.SWISH_PAYEE_ALIAS,
        "amount": _amount(amount),
        "currency": "SEK",
        "message": message[:50],
    }
    response = _send("PUT", f"{BASE}/v2/refunds/{instruction_id(refund_id)}", body)
    if response.status_code == 201:
        return
    error = _refusal(response)
    if response.status_code == 409 or error.code in ALREADY_EXISTS:
        return
    raise error


def refund_state(refund_id: uuid.UUID) -> str | None:
    """The refund's status as Swish holds it (CREATED, DEBITED, PAID, ERROR), None if never received."""
    response = _send("GET", f"{BASE}/v1/refunds/{instruction_id(refund_id)}")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise _refusal(response)
    return str(response.json().get("status") or "")
