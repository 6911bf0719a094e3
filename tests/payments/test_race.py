"""Two browser tabs paying the same fee at the same moment: one payment, one request to Swish
(PostgreSQL: the fee's row lock and the partial unique index decide)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection

from tests.payments.helpers import a_fee
from vardkontakt.payments import services
from vardkontakt.payments.models import Method, Payment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case"),
]


def _at_once(calls) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.parametrize("methods", [("swish", "swish"), ("swish", "card")])
def test_two_tabs_paying_one_fee_at_once_make_one_payment_request(swish_api, card_api, methods):
    for _round in range(3):
        fee = a_fee()

        def tab(method, fee=fee):
            return lambda: services.payment_start(
                actor=fee.patient,
                fee=fee,
                method=method,
                payer_alias="46701234567",
                idempotency_key=uuid.uuid4().hex,
            )

        results, errors = _at_once([tab(m) for m in methods])
        assert errors == []
        assert len({payment.pk for payment in results}) == 1  # both tabs follow the same payment
        assert Payment.objects.filter(fee=fee).count() == 1
    assert len(swish_api.puts) + card_api.creates == 3


def test_the_same_form_sent_twice_at_once_makes_one_payment(swish_api):
    fee = a_fee()
    call = lambda: services.payment_start(  # noqa: E731
        actor=fee.patient, fee=fee, method=Method.SWISH, payer_alias="46701234567", idempotency_key="same"
    )
    results, errors = _at_once([call, call])
    assert errors == [] and len({p.pk for p in results}) == 1
    assert len(swish_api.puts) == 1
