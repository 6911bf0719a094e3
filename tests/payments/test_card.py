"""Paying by card on the provider's hosted page (a local Stripe Checkout): the session, the signed
webhook (twice, forged, stale, never), the return that asks, a lost answer retried under the same
idempotency key, refunds to the card."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.payments.helpers import a_fee, client_of, staff_of
from tests.payments.servers import sign
from vardkontakt.access.models import AuditEntry
from vardkontakt.payments import services
from vardkontakt.payments.models import Method, Payment, Refund, RefundStatus, Status

pytestmark = pytest.mark.django_db
WEBHOOK = "/payments/callbacks/card/"


def start(fee, key: str | None = None) -> Payment:
    return services.payment_start(
        actor=fee.patient, fee=fee, method=Method.CARD, idempotency_key=key or uuid.uuid4().hex
    )


def post_event(payload: bytes, signature: str):
    return Client().post(
        WEBHOOK, data=payload, content_type="application/json", headers={"Stripe-Signature": signature}
    )


def test_a_hosted_page_is_made_and_the_signed_webhook_marks_it_paid(card_api):
    fee = a_fee(amount="250")
    payment = start(fee)
    session = card_api.sessions[payment.provider_ref]
    assert payment.redirect_url == session["url"]
    assert session["amount_total"] == 25000 and session["client_reference_id"] == str(payment.pk)
    assert session["success_url"].endswith(f"/payments/{payment.pk}/")
    card_api.complete(payment.provider_ref)
    assert post_event(*card_api.event(payment.provider_ref)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.PAID and payment.provider_charge.startswith("pi_")


def test_the_same_webhook_twice_settles_once(card_api):
    payment = start(a_fee())
    card_api.complete(payment.provider_ref)
    event = card_api.event(payment.provider_ref)
    post_event(*event)
    post_event(*event)
    assert AuditEntry.objects.filter(action="payments.payment.settle", object_id=str(payment.pk)).count() == 1


@pytest.mark.parametrize("forgery", ["unsigned", "wrong secret", "stale", "altered"])
def test_a_webhook_not_signed_by_the_provider_is_refused(card_api, forgery):
    payment = start(a_fee())
    card_api.complete(payment.provider_ref)
    payload, signature = card_api.event(payment.provider_ref)
    if forgery == "unsigned":
        signature = ""
    elif forgery == "wrong secret":
        signature = sign(payload, secret="whsec_guess")
    elif forgery == "stale":
        signature = sign(payload, at=int(time.time()) - 3600)
    else:
        payload = payload.replace(b'"amount_total": 20000', b'"amount_total": 1')
    assert post_event(payload, signature).status_code == 400
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_a_completed_event_without_payment_does_not_mark_paid(card_api):
    payment = start(a_fee())
    post_event(*card_api.event(payment.provider_ref))  # completed, payment_status still unpaid
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_an_expired_page_is_not_paid_and_a_late_paid_event_for_another_session_is_ignored(card_api):
    payment = start(a_fee())
    card_api.sessions[payment.provider_ref]["status"] = "expired"
    post_event(*card_api.event(payment.provider_ref, "checkout.session.expired"))
    payment.refresh_from_db()
    assert payment.status == Status.FAILED
    other = {**card_api.sessions[payment.provider_ref], "id": "cs_test_other", "payment_status": "paid"}
    payload, signature = card_api.event(payment.provider_ref, obj=other)
    assert post_event(payload, signature).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.FAILED


def test_back_from_the_page_before_the_webhook_the_platform_asks(card_api):
    fee = a_fee()
    payment = start(fee)
    card_api.complete(payment.provider_ref)  # paid; the webhook never arrives
    page = client_of(fee.patient).get(f"/payments/{payment.pk}/")
    assert page.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert 'data-status="paid"' in page.content.decode()


def test_a_lost_answer_is_asked_again_under_the_same_key_and_one_page_is_made(card_api):
    card_api.delay = 1.5  # the session is made, the answer comes after the 1 s timeout
    payment = start(a_fee())
    card_api.delay = 0
    assert payment.status == Status.PENDING and payment.provider_ref == ""
    payment = services.payment_reconcile(payment=payment)
    assert payment.provider_ref in card_api.sessions
    assert card_api.creates == 1


def test_the_provider_refusing_fails_the_payment(card_api, settings):
    settings.CARD_SECRET_KEY = "sk_test_wrong"
    payment = start(a_fee())
    assert payment.status == Status.FAILED


def test_a_card_refund_is_made_once_and_never_above_what_was_paid(card_api):
    fee = a_fee(amount="200")
    payment = start(fee)
    card_api.complete(payment.provider_ref)
    post_event(*card_api.event(payment.provider_ref))
    payment.refresh_from_db()
    staff = staff_of(fee.unit)
    refund = services.refund_create(
        staff=staff, payment=payment, amount=Decimal("200"), reason="Avbokad i tid", form_key="k1"
    )
    assert refund.status == RefundStatus.DONE
    assert [r["amount"] for r in card_api.refunds.values()] == [20000]
    with pytest.raises(ValidationError):
        services.refund_create(staff=staff, payment=payment, amount=Decimal("1"), reason="Igen", form_key="k2")
    assert len(card_api.refunds) == 1


def test_a_refund_event_from_the_provider_is_idempotent(card_api):
    fee = a_fee()
    payment = start(fee)
    card_api.complete(payment.provider_ref)
    post_event(*card_api.event(payment.provider_ref))
    payment.refresh_from_db()
    card_api.down = True  # the refund's answer is lost: under way
    refund = services.refund_create(
        staff=staff_of(fee.unit), payment=payment, amount=Decimal("20"), reason="Fel", form_key="k"
    )
    card_api.down = False
    assert refund.status == RefundStatus.PENDING
    obj = {"id": "re_1", "object": "refund", "status": "succeeded", "metadata": {"refund": str(refund.pk)}}
    payload = json.dumps({"id": "evt_1", "type": "refund.updated", "data": {"object": obj}}).encode()
    post_event(payload, sign(payload))
    post_event(payload, sign(payload))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert Refund.objects.count() == 1
