"""What every payment provider adapter answers with, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass


class ProviderError(Exception):
    """The provider refused the request: nothing was created or changed there."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ProviderUnreachable(Exception):
    """No answer (timeout, connection refused, a 5xx): the outcome is unknown and is found out later by
    asking again with the same identifier, which the provider treats as the same request."""


@dataclass(frozen=True)
class State:
    """A payment as the provider tells it, in our words."""

    outcome: str  # "pending", "paid" or "failed"
    provider_status: str  # the provider's own word (Swish PAID, Stripe complete/paid...)
    charge_ref: str = ""  # what a refund names: Swish's paymentReference, Stripe's payment_intent
    amount_ore: int | None = None
    error_code: str = ""
    error_message: str = ""
