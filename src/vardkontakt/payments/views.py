"""The resident's payments pages and the providers' callbacks. Thin: each calls a selector or service."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.access.acting import acting_for
from vardkontakt.access.policy import Relation
from vardkontakt.identity.decorators import PatientRequest, patient_required, public
from vardkontakt.payments import invoices, selectors, services
from vardkontakt.payments.forms import PayForm
from vardkontakt.payments.models import Method, Status


@patient_required
@require_GET
def payments_list(request: PatientRequest) -> HttpResponse:
    acting = acting_for(request)
    lines = selectors.payments_for_reader(reader=request.patient, subject=acting.subject)
    return render(
        request,
        "payments/list.html",
        {"lines": lines, "subject": acting.subject, "acting_self": acting.relation is Relation.SELF},
    )


@patient_required
@require_http_methods(["GET", "POST"])
def pay_fee(request: PatientRequest, fee_id: uuid.UUID) -> HttpResponse:
    acting = acting_for(request)
    line = selectors.fee_for_payer(reader=request.patient, subject=acting.subject, fee_id=fee_id)
    available = selectors.methods_available()
    phone = request.patient.mobile
    form = PayForm(
        request.POST or None,
        available=available,
        initial={"form_key": uuid.uuid4().hex, "phone": phone, "method": Method.SWISH if available["swish"] else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_start(
                actor=request.patient,
                fee=line.fee,
                method=data["method"],
                payer_alias=data.get("payer_alias", ""),
                idempotency_key=data["form_key"],
                language=get_language() or "sv",
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if payment.method == Method.CARD and payment.status == Status.PENDING and payment.redirect_url:
                return redirect(payment.redirect_url)  # the provider's hosted page
            return redirect("payments:status", payment_id=payment.pk)
    status = 400 if request.method == "POST" else 200
    context = {"line": line, "form": form, "available": any(available.values()), "subject": acting.subject}
    return render(request, "payments/pay.html", context, status=status)


@patient_required
@require_GET
def payment_status(request: PatientRequest, payment_id: uuid.UUID) -> HttpResponse:
    payment = selectors.payment_for_payer(reader=request.patient, payment_id=payment_id)
    waited = (timezone.now() - payment.updated_at).total_seconds()
    # Back from the card page the answer is asked at once (the webhook may come later); a Swish
    # payment whose callback is overdue is asked about too.
    if payment.status == Status.PENDING and (
        payment.method == Method.CARD or waited >= settings.PAYMENT_RECONCILE_AFTER_SECONDS
    ):
        payment = services.payment_reconcile(payment=payment)
    return render(request, "payments/status.html", {"payment": payment, "statuses": Status})


@patient_required
@require_POST
def payment_cancel(request: PatientRequest, payment_id: uuid.UUID) -> HttpResponse:
    payment = selectors.payment_for_payer(reader=request.patient, payment_id=payment_id)
    error = ""
    try:
        payment = services.payment_cancel(actor=request.patient, payment=payment)
    except ValidationError as refusal:
        error = refusal.messages[0]
    if payment.status == Status.FAILED:
        return redirect("payments:pay_fee", fee_id=payment.fee_id)
    return render(
        request,
        "payments/status.html",
        {"payment": payment, "statuses": Status, "error": error},
        status=409 if error else 200,
    )


@patient_required
@require_GET
def receipt_pdf(request: PatientRequest, payment_id: uuid.UUID) -> HttpResponse:
    payment = selectors.payment_for_payer(reader=request.patient, payment_id=payment_id)
    if payment.status != Status.PAID:
        raise Http404
    response = HttpResponse(invoices.receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="kvitto-{payment.pk}.pdf"'
    return response


@patient_required
@require_GET
def invoice_pdf(request: PatientRequest, invoice_id: uuid.UUID) -> HttpResponse:
    invoice = selectors.invoice_for_payer(reader=request.patient, invoice_id=invoice_id)
    response = HttpResponse(invoices.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="faktura-{invoice.ocr}.pdf"'
    return response


# The providers call these server to server: a browser's CSRF token does not exist in that exchange.
# Each is authenticated by what only the provider holds (Swish: the request's callbackIdentifier;
# the card provider: the HMAC signature under the webhook secret). Anything else: 404, nothing done.
@public
@csrf_exempt
@require_POST
def swish_callback(request: HttpRequest) -> HttpResponseBase:
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    identifier = request.headers.get("callbackIdentifier", "") or (
        str(body.get("callbackIdentifier") or "") if isinstance(body, dict) else ""
    )
    address = request.META.get("REMOTE_ADDR", "")
    if not services.payment_swish_callback(body=body, identifier=identifier, address=address):
        raise Http404
    return JsonResponse({"received": True})


@public
@csrf_exempt
@require_POST
def card_webhook(request: HttpRequest) -> HttpResponseBase:
    if not services.payment_card_webhook(payload=request.body, signature=request.headers.get("Stripe-Signature", "")):
        return JsonResponse({"error": "signature"}, status=400)
    return JsonResponse({"received": True})
