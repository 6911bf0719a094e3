"""Paying by Swish against a local Swish server: the request, the callback (authentic, twice, out of
order, never), refusals, timeouts reconciled, and never two charges for one fee."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from tests.payments.helpers import a_fee
from vardkontakt.access.models import AuditEntry
from vardkontakt.payments import services, swish
from vardkontakt.payments.models import Method, Payment, Refund, RefundStatus, Status

pytestmark = pytest.mark.django_db
CALLBACK = "/payments/callbacks/swish/"
PAYER = "46701234567"


def start(fee, key: str | None = None, payer: str = PAYER) -> Payment:
    return services.payment_start(
        actor=fee.patient, fee=fee, method=Method.SWISH, payer_alias=payer, idempotency_key=key or uuid.uuid4().hex
    )


def deliver(server, payment: Payment, body=None, identifier: str | None = None):
    """Swish's callback, as it would arrive, sent to the platform."""
    instruction = swish.instruction_id(payment.pk)
    return Client().post(
        CALLBACK,
        data=body or server.callback_body(instruction),
        content_type="application/json",
        headers={"callbackIdentifier": server.identifiers[instruction] if identifier is None else identifier},
    )


def settled(payment: Payment) -> int:
    return AuditEntry.objects.filter(action="payments.payment.settle", object_id=str(payment.pk)).count()


def test_a_request_goes_to_the_payers_swish_and_the_callback_marks_it_paid(swish_api):
    fee = a_fee(amount="200")
    payment = start(fee)
    instruction = swish.instruction_id(payment.pk)
    sent = swish_api.requests[instruction]
    assert (sent["amount"], sent["currency"], sent["payerAlias"], sent["payeeAlias"]) == (
        200.0,
        "SEK",
        PAYER,
        "1231181189",
    )
    assert sent["message"] == "Patientavgift"  # nothing about the visit reaches the payer's app
    assert payment.status == Status.PENDING and payment.provider_status == "CREATED"

    swish_api.decide(instruction, "PAID")
    assert deliver(swish_api, payment).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert payment.provider_charge == swish_api.requests[instruction]["paymentReference"]
    assert AuditEntry.objects.filter(action="payments.payment.start", patient_id=str(fee.patient.pk)).count() == 1
    assert settled(payment) == 1


def test_a_callback_sent_twice_or_out_of_order_changes_nothing_after_paid(swish_api):
    payment = start(a_fee())
    instruction = swish.instruction_id(payment.pk)
    paid = swish_api.decide(instruction, "PAID")
    assert deliver(swish_api, payment, body=paid).status_code == 200
    assert deliver(swish_api, payment, body=paid).status_code == 200  # Swish retries: the same answer
    late_error = {**paid, "status": "ERROR", "errorCode": "TM01"}
    assert deliver(swish_api, payment, body=late_error).status_code == 200  # an older state, arriving last
    created = {**paid, "status": "CREATED"}
    assert deliver(swish_api, payment, body=created).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert settled(payment) == 1


@pytest.mark.parametrize("forgery", ["no identifier", "another request's identifier", "unknown request", "other payee"])
def test_a_callback_that_is_not_swishs_is_refused_and_changes_nothing(swish_api, forgery):
    payment = start(a_fee())
    other = start(a_fee())
    instruction = swish.instruction_id(payment.pk)
    body = swish_api.decide(instruction, "PAID")
    identifier = None
    if forgery == "no identifier":
        identifier = ""
    elif forgery == "another request's identifier":
        identifier = swish_api.identifiers[swish.instruction_id(other.pk)]
    elif forgery == "unknown request":
        body = {**body, "id": uuid.uuid4().hex.upper()}
    else:
        body = {**body, "payeeAlias": "1239999999"}
    response = deliver(swish_api, payment, body=body, identifier=identifier)
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert settled(payment) == 0


def test_a_callback_from_outside_swishs_networks_is_refused(swish_api, settings):
    payment = start(a_fee())
    body = swish_api.decide(swish.instruction_id(payment.pk), "PAID")
    settings.SWISH_CALLBACK_NETWORKS = ["213.132.115.0/24"]  # the test client comes from 127.0.0.1
    assert deliver(swish_api, payment, body=body).status_code == 404
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    settings.SWISH_CALLBACK_NETWORKS = ["127.0.0.0/8"]
    assert deliver(swish_api, payment, body=body).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.PAID


def test_a_callback_with_another_amount_is_not_taken_as_paid(swish_api):
    payment = start(a_fee(amount="200"))
    body = {**swish_api.decide(swish.instruction_id(payment.pk), "PAID"), "amount": 2.0}
    deliver(swish_api, payment, body=body)
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_a_payer_swish_refuses_fails_at_once_and_another_try_is_possible(swish_api):
    fee = a_fee()
    swish_api.refused_payers.add("46709999999")
    payment = start(fee, payer="46709999999")
    assert payment.status == Status.FAILED
    assert payment.error_code == "ACMT03"
    again = start(fee)
    assert again.pk != payment.pk and again.status == Status.PENDING


def test_the_payer_declines_in_the_app(swish_api):
    payment = start(a_fee())
    deliver(swish_api, payment, body=swish_api.decide(swish.instruction_id(payment.pk), "DECLINED"))
    payment.refresh_from_db()
    assert (payment.status, payment.provider_status) == (Status.FAILED, "DECLINED")


def test_the_same_form_sent_twice_makes_one_request(swish_api):
    fee = a_fee()
    first = start(fee, key="form-1")
    second = start(fee, key="form-1")
    assert first.pk == second.pk
    assert len(swish_api.puts) == 1


def test_a_second_tab_finds_the_payment_under_way(swish_api):
    fee = a_fee()
    first = start(fee)
    second = services.payment_start(
        actor=fee.patient, fee=fee, method=Method.SWISH, payer_alias="46701111111", idempotency_key="tab-2"
    )
    assert second.pk == first.pk
    assert len(swish_api.puts) == 1


def test_a_paid_fee_is_not_paid_again(swish_api):
    fee = a_fee()
    payment = start(fee)
    deliver(swish_api, payment, body=swish_api.decide(swish.instruction_id(payment.pk), "PAID"))
    with pytest.raises(ValidationError):
        start(fee)
    assert len(swish_api.puts) == 1


def test_the_database_refuses_two_payments_paid_or_under_way_for_one_fee(swish_api):
    fee = a_fee()
    start(fee)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(fee=fee, method=Method.CARD, amount=fee.amount_charged, idempotency_key="x")
    Payment.objects.filter(fee=fee).update(status=Status.PAID)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            fee=fee, method=Method.CARD, amount=fee.amount_charged, idempotency_key="y", status=Status.PAID
        )


def test_an_answer_lost_to_a_timeout_is_found_and_a_late_callback_agrees(swish_api):
    """Swish took the request but answered after our timeout: the payment waits, is asked about,
    and follows what Swish says; the callback that comes even later changes nothing."""
    fee = a_fee()
    swish_api.delay = 1.5  # longer than the 1 s timeout
    payment = start(fee)
    swish_api.delay = 0
    assert payment.status == Status.PENDING and payment.error_code == "no_answer"
    instruction = swish.instruction_id(payment.pk)
    assert instruction in swish_api.requests  # it did arrive
    assert services.payment_reconcile(payment=payment).status == Status.PENDING  # not answered yet
    paid = swish_api.decide(instruction, "PAID")
    assert services.payment_reconcile(payment=payment).status == Status.PAID
    deliver(swish_api, payment, body=paid)
    payment.refresh_from_db()
    assert payment.status == Status.PAID and settled(payment) == 1
    assert len(swish_api.puts) == 1


def test_a_request_swish_never_received_fails_once_a_resend_cannot_be_under_way(swish_api):
    swish_api.down = True
    payment = start(a_fee())
    assert payment.status == Status.PENDING
    swish_api.down = False
    assert services.payment_reconcile(payment=payment).status == Status.PENDING  # too soon to tell
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert services.payment_reconcile(payment=payment).status == Status.FAILED


def test_a_callback_that_never_comes_is_replaced_by_asking(swish_api):
    payment = start(a_fee())
    swish_api.decide(swish.instruction_id(payment.pk), "ERROR", error_code="TM01")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert services.payments_reconcile_stale() == 1
    payment.refresh_from_db()
    assert (payment.status, payment.error_code) == (Status.FAILED, "TM01")


def test_stopping_a_request_withdraws_it_at_swish_so_card_can_be_used(swish_api, card_api):
    fee = a_fee()
    payment = start(fee)
    stopped = services.payment_cancel(actor=fee.patient, payment=payment)
    assert stopped.status == Status.FAILED
    assert swish_api.requests[swish.instruction_id(payment.pk)]["status"] == "CANCELLED"
    by_card = services.payment_start(actor=fee.patient, fee=fee, method=Method.CARD, idempotency_key="card")
    assert by_card.method == Method.CARD and by_card.redirect_url.startswith(card_api.url)


def test_stopping_a_request_already_paid_leaves_it_paid(swish_api):
    fee = a_fee()
    payment = start(fee)
    swish_api.decide(swish.instruction_id(payment.pk), "PAID")  # paid, the callback not yet here
    assert services.payment_cancel(actor=fee.patient, payment=payment).status == Status.PAID


def test_a_payment_given_up_and_paid_anyway_is_paid_back_at_once(swish_api):
    """No double charge even then: a second payment found paid after the fee was paid is refunded."""
    fee = a_fee()
    first = start(fee)
    first_paid = swish_api.decide(swish.instruction_id(first.pk), "PAID")
    Payment.objects.filter(pk=first.pk).update(status=Status.FAILED)  # as if given up before its answer
    second = start(fee)
    deliver(swish_api, second, body=swish_api.decide(swish.instruction_id(second.pk), "PAID"))
    deliver(swish_api, first, body=first_paid)
    first.refresh_from_db()
    assert first.status == Status.PAID_TWICE
    refund = Refund.objects.get(payment=first)
    assert refund.amount == first.amount and refund.by is None
    assert (
        swish_api.refunds[swish.instruction_id(refund.pk)]["originalPaymentReference"] == first_paid["paymentReference"]
    )
    assert Payment.objects.filter(fee=fee, status=Status.PAID).count() == 1


def test_a_refund_goes_back_to_the_payers_swish(swish_api):
    from tests.payments.helpers import staff_of

    fee = a_fee(amount="200")
    payment = start(fee)
    paid = swish_api.decide(swish.instruction_id(payment.pk), "PAID")
    deliver(swish_api, payment, body=paid)
    staff = staff_of(fee.unit)
    refund = services.refund_create(
        staff=staff, payment=payment, amount=Decimal("150"), reason="Fel avgift", form_key="r1"
    )
    sent = swish_api.refunds[swish.instruction_id(refund.pk)]
    assert (sent["amount"], sent["originalPaymentReference"], sent["payerAlias"]) == (
        150.0,
        paid["paymentReference"],
        "1231181189",
    )
    assert refund.status == RefundStatus.PENDING
    body = {**sent, "status": "PAID"}  # Swish's refund callback: the platform asks Swish itself
    Client().post(CALLBACK, data=body, content_type="application/json")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    with pytest.raises(ValidationError):
        services.refund_create(staff=staff, payment=payment, amount=Decimal("50.01"), reason="Mer", form_key="r2")
    assert (
        services.refund_create(staff=staff, payment=payment, amount=Decimal("150"), reason="Fel avgift", form_key="r1")
        == refund
    )
    payment.refresh_from_db()
    assert payment.refunded == Decimal("150.00")
    entry = AuditEntry.objects.get(action="payments.refund.create")
    assert entry.actor_id == str(staff.pk) and "Fel avgift" in entry.detail
