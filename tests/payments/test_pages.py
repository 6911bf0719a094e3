"""The payments pages as residents (their own, a child's, a principal's) and staff see them."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.payments.helpers import a_fee, client_of
from vardkontakt.access.acting import ACTING_FOR
from vardkontakt.access.models import AuditEntry
from vardkontakt.payments import services, swish
from vardkontakt.payments.models import Method, Payment, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(personas):
    return personas.staff_x.memberships.get().unit


def acting(client, subject):
    session = client.session
    session[ACTING_FOR] = str(subject.pk)
    session.save()
    return client


def test_the_list_shows_each_fee_with_its_state(personas, unit, swish_api, django_assert_max_num_queries):
    tolvan = personas.tolvan
    unpaid = a_fee(patient=tolvan, unit=unit, amount="200")
    paid = a_fee(patient=tolvan, unit=unit, amount="100")
    Payment.objects.create(
        fee=paid, method=Method.CARD, amount=paid.amount_charged, idempotency_key="p", status=Status.PAID
    )
    free = a_fee(patient=tolvan, unit=unit, amount="0")
    client = client_of(tolvan)
    with django_assert_max_num_queries(40):
        page = client.get("/payments/")
    body = page.content.decode()
    assert page.status_code == 200
    assert f"/payments/fees/{unpaid.pk}/pay/" in body
    assert f"/payments/fees/{paid.pk}/pay/" not in body and f"/payments/fees/{free.pk}/pay/" not in body
    assert AuditEntry.objects.filter(action="payments.list.read", patient_id=str(tolvan.pk)).count() == 1


def test_a_guardian_pays_the_childs_fee_by_swish(personas, unit, swish_api):
    fee = a_fee(patient=personas.child_9, unit=unit)
    client = acting(client_of(personas.guardian), personas.child_9)
    assert f"/payments/fees/{fee.pk}/pay/" in client.get("/payments/").content.decode()
    form = client.get(f"/payments/fees/{fee.pk}/pay/")
    assert form.status_code == 200
    response = client.post(
        f"/payments/fees/{fee.pk}/pay/", {"method": "swish", "phone": "070-123 45 67", "form_key": "k1"}
    )
    payment = Payment.objects.get(fee=fee)
    assert response.status_code == 302 and response["Location"] == f"/payments/{payment.pk}/"
    assert payment.started_by == personas.guardian and payment.payer_alias == "46701234567"
    entry = AuditEntry.objects.get(action="payments.payment.start")
    assert (entry.actor_id, entry.patient_id, entry.on_behalf_of_id) == (
        str(personas.guardian.pk),
        str(personas.child_9.pk),
        str(personas.child_9.pk),
    )
    again = client.post(
        f"/payments/fees/{fee.pk}/pay/", {"method": "swish", "phone": "070-123 45 67", "form_key": "k1"}
    )
    assert again.status_code == 302 and len(swish_api.puts) == 1  # a double click: one request


def test_card_sends_the_browser_to_the_providers_page(personas, unit, card_api):
    fee = a_fee(patient=personas.tolvan, unit=unit)
    response = client_of(personas.tolvan).post(f"/payments/fees/{fee.pk}/pay/", {"method": "card", "form_key": "c1"})
    assert response.status_code == 302 and response["Location"].startswith(f"{card_api.url}/pay/cs_test_")


@pytest.mark.parametrize(
    "data", [{"method": "swish", "phone": "12"}, {"method": "swish", "phone": "+4781234567"}, {"method": ""}]
)
def test_bad_input_is_refused_and_nothing_is_started(personas, unit, swish_api, card_api, data):
    fee = a_fee(patient=personas.tolvan, unit=unit)
    response = client_of(personas.tolvan).post(f"/payments/fees/{fee.pk}/pay/", {**data, "form_key": "b"})
    assert response.status_code == 400
    assert "nhsuk-error-summary" in response.content.decode()
    assert not Payment.objects.exists() and swish_api.puts == []


def test_a_method_not_configured_is_not_offered(personas, unit, swish_api):
    fee = a_fee(patient=personas.tolvan, unit=unit)
    client = client_of(personas.tolvan)
    assert 'value="card"' not in client.get(f"/payments/fees/{fee.pk}/pay/").content.decode()
    assert client.post(f"/payments/fees/{fee.pk}/pay/", {"method": "card", "form_key": "x"}).status_code == 400


def test_other_peoples_fees_and_payments_are_not_found(personas, unit, swish_api):
    fee = a_fee(patient=personas.other_patient, unit=unit)
    payment = services.payment_start(
        actor=personas.other_patient, fee=fee, method=Method.SWISH, payer_alias="46701234567", idempotency_key="o"
    )
    for person in (personas.tolvan, personas.revoked_proxy, personas.guardian):
        client = client_of(person)
        assert client.get(f"/payments/fees/{fee.pk}/pay/").status_code == 404
        assert client.get(f"/payments/{payment.pk}/").status_code == 404
        assert client.post(f"/payments/{payment.pk}/cancel/").status_code == 404
        assert client.get(f"/payments/{payment.pk}/receipt/").status_code == 404
    assert client_of(personas.other_patient).get(f"/payments/{payment.pk}/receipt/").status_code == 404  # not paid
    assert client_of(personas.tolvan).get(f"/payments/fees/{uuid.uuid4()}/pay/").status_code == 404


def test_a_proxy_with_bookings_scope_pays_for_the_principal(personas, unit, swish_api):
    fee = a_fee(patient=personas.principal, unit=unit)
    client = acting(client_of(personas.adult_proxy), personas.principal)
    assert client.get(f"/payments/fees/{fee.pk}/pay/").status_code == 200


def test_the_status_page_follows_the_payment_and_stopping_leads_back_to_paying(personas, unit, swish_api):
    fee = a_fee(patient=personas.tolvan, unit=unit)
    client = client_of(personas.tolvan)
    client.post(f"/payments/fees/{fee.pk}/pay/", {"method": "swish", "phone": "0701234567", "form_key": "s"})
    payment = Payment.objects.get(fee=fee)
    assert 'data-status="pending"' in client.get(f"/payments/{payment.pk}/").content.decode()
    stop = client.post(f"/payments/{payment.pk}/cancel/")
    assert stop.status_code == 302 and stop["Location"] == f"/payments/fees/{fee.pk}/pay/"
    assert swish_api.requests[swish.instruction_id(payment.pk)]["status"] == "CANCELLED"


def test_staff_of_the_unit_pay_back_with_a_reason(personas, unit, swish_api):
    fee = a_fee(patient=personas.tolvan, unit=unit, amount="200")
    payment = services.payment_start(
        actor=personas.tolvan, fee=fee, method=Method.SWISH, payer_alias="46701234567", idempotency_key="s"
    )
    services._apply(payment.pk, swish.state_of(swish_api.decide(swish.instruction_id(payment.pk), "PAID")))
    staff = client_of(personas.staff_x)
    listing = staff.get(f"/staff/units/{unit.pk}/payments/")
    assert listing.status_code == 200 and f"/staff/payments/{payment.pk}/refund/" in listing.content.decode()
    url = f"/staff/payments/{payment.pk}/refund/"
    assert staff.get(url).status_code == 200
    assert staff.post(url, {"amount": "50", "reason": " ", "form_key": "r"}).status_code == 400
    assert staff.post(url, {"amount": "250", "reason": "Fel", "form_key": "r"}).status_code == 400
    assert staff.post(url, {"amount": "50", "reason": "Fel avgift", "form_key": "r"}).status_code == 302
    payment.refresh_from_db()
    assert payment.refunded == Decimal("50.00")
    receipt = client_of(personas.tolvan).get(f"/payments/{payment.pk}/receipt/")
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    import io

    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(receipt.content)).pages[0].extract_text()
    assert "Kvitto" in text and "200,00 kr" in text and "50,00 kr" in text
    elsewhere = client_of(personas.nurse)  # staff of another unit
    assert elsewhere.get(url).status_code == 404
    assert elsewhere.get(f"/staff/units/{unit.pk}/payments/").status_code == 404
    assert client_of(personas.tolvan).get(url).status_code == 403
