"""Every write of payments: starting one, what the providers tell us (callbacks, webhooks and our own
questions), cancelling, refunds.

The order in ``payment_start`` is what keeps a fee from being charged twice: lock the fee's row,
look for a payment paid or under way, write ours, commit, and only then ask the provider, naming the
payment's own id (Swish's instruction UUID, Stripe's idempotency key). A second tab waits on the lock
and finds the first tab's payment; a request resent after a timeout names the same instruction, which
the provider will not carry out twice; the database's partial unique indexes refuse a second payment
under way or paid whatever the code does. A provider's answer is applied under the payment's row lock
by ``_apply``, which only moves forward: a duplicate callback changes nothing, a late "failed" after
"paid" is ignored, and a "paid" for a fee already paid by another payment is recorded as paid twice
and paid back at once.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import json
import logging
import secrets
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access.audit import SYSTEM, Actor, audit
from vardkontakt.fees.models import Fee
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.payments import card, swish
from vardkontakt.payments.models import Method, Payment, Refund, RefundStatus, Status
from vardkontakt.payments.providers import ProviderError, ProviderUnreachable, State

log = logging.getLogger(__name__)

PAYMENT_START = "payments.payment.start"
PAYMENT_SETTLE = "payments.payment.settle"
PAYMENT_CANCEL = "payments.payment.cancel"
REFUND_CREATE = "payments.refund.create"
# What the payer sees in their Swish app and on the card receipt: never the kind of visit or unit.
PAYER_TEXT = "Patientavgift"


def ore(amount: Decimal) -> int:
    return int(amount * 100)


def _available(method: str) -> bool:
    return swish.configured() if method == Method.SWISH else card.configured() if method == Method.CARD else False


def payment_start(
    *,
    actor: Patient,
    fee: Fee,
    method: str,
    idempotency_key: str,
    payer_alias: str = "",
    language: str = "sv",
) -> Payment:
    """Begin paying ``fee`` by Swish (a request to ``payer_alias``) or by card (the hosted page in
    ``payment.redirect_url``). Returns the payment that pays it: this one, or the one already under way
    (another tab's), or refuses a fee already paid. The same form sent twice starts one payment."""
    found = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if found is not None:
        if found.fee_id != fee.pk:
            raise ValidationError(_("The form was sent for another fee. Start again from your payments."))
        return found
    if method not in (Method.SWISH, Method.CARD) or not _available(method):
        raise ValidationError(_("This way of paying is not available. Choose another."))
    if method == Method.SWISH and not payer_alias:
        raise ValidationError(_("Enter the mobile number your Swish is connected to."))
    if fee.amount_charged <= 0:
        raise ValidationError(_("There is nothing to pay for this fee."))
    try:
        with transaction.atomic():
            Fee.objects.select_for_update().get(pk=fee.pk)  # a second tab waits here, then finds ours
            if Payment.objects.filter(fee=fee, status=Status.PAID).exists():
                raise ValidationError(_("This fee is already paid."))
            under_way = Payment.objects.filter(fee=fee, status=Status.PENDING).first()
            if under_way is not None:
                return under_way
            payment = Payment.objects.create(
                fee=fee,
                method=method,
                amount=fee.amount_charged,
                idempotency_key=idempotency_key,
                payer_alias=payer_alias if method == Method.SWISH else "",
                callback_secret=secrets.token_hex(16) if method == Method.SWISH else "",
                started_by=actor,
            )
            audit(
                actor=Actor.of_patient(actor),
                action=PAYMENT_START,
                patient=fee.patient,
                on_behalf_of=fee.patient,
                obj=payment,
                unit=fee.unit,
                detail=f"{method} {payment.amount}",
            )
    except IntegrityError:  # the same form or the same fee at the same moment elsewhere: that one stands
        found = (
            Payment.objects.filter(idempotency_key=idempotency_key).first()
            or Payment.objects.filter(fee=fee, status__in=[Status.PENDING, Status.PAID]).first()
        )
        if found is None:
            raise
        return found
    _send(payment, language=language)
    payment.refresh_from_db()
    return payment


def _return_url(payment: Payment) -> str:
    return settings.SITE_URL + reverse("payments:status", kwargs={"payment_id": payment.pk})


def _send(payment: Payment, *, language: str = "sv") -> None:
    """Ask the provider (outside any transaction: a slow provider holds no lock)."""
    try:
        if payment.method == Method.SWISH:
            swish.create(
                payment_id=payment.pk,
                payer_alias=payment.payer_alias,
                amount=payment.amount,
                message=PAYER_TEXT,
                reference=payment.pk.hex[:35],
                callback_identifier=payment.callback_secret,
            )
            Payment.objects.filter(pk=payment.pk, status=Status.PENDING, provider_status="").update(
                provider_status="CREATED", error_code="", error_message=""
            )
        else:
            session = card.create(
                payment_id=payment.pk,
                amount_ore=ore(payment.amount),
                description=PAYER_TEXT,
                return_url=_return_url(payment),
                language=language,
            )
            Payment.objects.filter(pk=payment.pk).update(
                provider_ref=session.id, redirect_url=session.url, error_code="", error_message=""
            )
    except ProviderError as refusal:
        _apply(payment.pk, State("failed", "REFUSED", error_code=refusal.code, error_message=refusal.message))
    except ProviderUnreachable as unknown:
        log.warning("payment %s: no answer from %s (%s); asked again later", payment.pk, payment.method, unknown)
        Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
            error_code="no_answer", error_message=str(unknown)[:300]
        )


def _apply(payment_id: uuid.UUID, state: State, *, session_id: str = "") -> Payment:
    """What the provider says about a payment, applied under its row lock; only ever forward."""
    double = None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("fee").get(pk=payment_id)
        if session_id and not payment.provider_ref:
            payment.provider_ref = session_id
            payment.save(update_fields=["provider_ref", "updated_at"])
        if state.amount_ore is not None and state.amount_ore != ore(payment.amount):
            log.error("payment %s: the provider names %s öre, not %s", payment.pk, state.amount_ore, payment.amount)
            return payment
        if state.outcome == "paid" and payment.status in (Status.PENDING, Status.FAILED):
            double = _settle_paid(payment, state)
        elif state.outcome == "failed" and payment.status == Status.PENDING:
            payment.status = Status.FAILED
            payment.provider_status = state.provider_status
            payment.error_code = state.error_code[:40]
            payment.error_message = state.error_message[:300]
            payment.save(update_fields=["status", "provider_status", "error_code", "error_message", "updated_at"])
            audit(
                actor=SYSTEM,
                action=PAYMENT_SETTLE,
                patient=payment.fee.patient,
                obj=payment,
                unit=payment.fee.unit,
                detail=f"{payment.method} not paid: {state.provider_status} {state.error_code}".strip(),
            )
        elif state.outcome == "pending" and payment.status == Status.PENDING and state.provider_status:
            payment.provider_status = state.provider_status
            payment.save(update_fields=["provider_status", "updated_at"])
    if double is not None:
        _refund_send(double)
    return payment


def _settle_paid(payment: Payment, state: State) -> Refund | None:
    """Paid. If another payment already paid the fee (a payment given up and then paid anyway), this
    one is recorded as paid twice and its refund is made at once: returned, to be sent after commit."""
    payment.provider_status = state.provider_status
    payment.provider_charge = state.charge_ref or payment.provider_charge
    payment.paid_at = timezone.now()
    twice = Payment.objects.filter(fee_id=payment.fee_id, status=Status.PAID).exclude(pk=payment.pk).exists()
    payment.status = Status.PAID_TWICE if twice else Status.PAID
    fields = ["status", "provider_status", "provider_charge", "paid_at", "updated_at"]
    payment.save(update_fields=fields)
    audit(
        actor=SYSTEM,
        action=PAYMENT_SETTLE,
        patient=payment.fee.patient,
        obj=payment,
        unit=payment.fee.unit,
        detail=f"{payment.method} {payment.amount} {'paid twice' if twice else 'paid'}",
    )
    if not twice:
        return None
    return _refund_record(
        payment=payment,
        amount=payment.amount - payment.refunded,
        reason="The fee was already paid: paid back automatically.",
        by=None,
        form_key=f"twice-{payment.pk}",
    )


def payment_reconcile(*, payment: Payment, now: dt.datetime | None = None) -> Payment:
    """Ask the provider about a payment still under way (its callback may be late or lost)."""
    if payment.status != Status.PENDING:
        return payment
    now = now or timezone.now()
    try:
        if payment.method == Method.SWISH:
            found = swish.retrieve(payment.pk)
            if found is not None:
                return _apply(payment.pk, found)
            # Swish never received it: once a resend could no longer be on its way, it has failed.
            if (now - payment.created_at).total_seconds() > 2 * settings.SWISH_TIMEOUT_SECONDS:
                return _apply(payment.pk, State("failed", "NOT_RECEIVED", error_code="not_received"))
            return payment
        if payment.method == Method.CARD:
            if not payment.provider_ref:  # the page was never made (or its answer was lost): the same key again
                _send(payment)
                payment.refresh_from_db()
                return payment
            session = card.retrieve(payment.provider_ref)
            return _apply(payment.pk, session.state, session_id=session.id)
    except (ProviderError, ProviderUnreachable) as exc:
        log.warning("payment %s: could not ask %s (%s)", payment.pk, payment.method, exc)
    return payment


def payments_reconcile_stale(*, now: dt.datetime | None = None) -> int:
    """Every payment under way past the waiting time, asked about once (a task runs this)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)
    stale = list(Payment.objects.filter(status=Status.PENDING, created_at__lte=cutoff))
    for payment in stale:
        payment_reconcile(payment=payment, now=now)
    for refund in Refund.objects.filter(status=RefundStatus.PENDING, created_at__lte=cutoff).select_related("payment"):
        refund_reconcile(refund=refund)
    return len(stale)


def payment_cancel(*, actor: Patient, payment: Payment) -> Payment:
    """Give up a payment under way (to pay another way): the provider withdraws it first, so it can
    never be paid after; one the payer paid meanwhile ends as paid."""
    if payment.status != Status.PENDING:
        return payment
    try:
        if payment.method == Method.SWISH:
            state = swish.cancel(payment.pk)
        else:
            if not payment.provider_ref:
                _send(payment)
                payment.refresh_from_db()
            if not payment.provider_ref:
                raise ValidationError(_("The payment could not be stopped just now. Try again in a minute."))
            state = card.expire(payment.provider_ref).state
    except (ProviderError, ProviderUnreachable) as exc:
        log.warning("payment %s: could not cancel (%s)", payment.pk, exc)
        raise ValidationError(_("The payment could not be stopped just now. Try again in a minute.")) from exc
    payment = _apply(payment.pk, state)
    if payment.status == Status.FAILED:
        audit(
            actor=Actor.of_patient(actor),
            action=PAYMENT_CANCEL,
            patient=payment.fee.patient,
            on_behalf_of=payment.fee.patient,
            obj=payment,
            unit=payment.fee.unit,
        )
    return payment


# --- callbacks -----------------------------------------------------------------------------------


def _from_swish(address: str) -> bool:
    networks = settings.SWISH_CALLBACK_NETWORKS
    if not networks:
        return True
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network, strict=False) for network in networks)


def payment_swish_callback(*, body: Any, identifier: str, address: str = "") -> bool:
    """Swish's callback. Authentic when it comes from Swish's networks (if configured), names a
    payment request we issued and carries that request's own callbackIdentifier (a secret only
    Swish was given); a refund's callback is a signal to ask Swish about the refund (its body is not
    trusted). False: not ours."""
    if not isinstance(body, dict) or not _from_swish(address):
        return False
    try:
        instruction = uuid.UUID(hex=str(body.get("id") or ""))
    except ValueError:
        return False
    if body.get("originalPaymentReference"):
        refund = Refund.objects.filter(pk=instruction, payment__method=Method.SWISH).select_related("payment").first()
        if refund is None:
            return False
        refund_reconcile(refund=refund)
        return True
    payment = Payment.objects.filter(pk=instruction, method=Method.SWISH).first()
    if payment is None or not payment.callback_secret:
        return False
    if not hmac.compare_digest(identifier.encode(), payment.callback_secret.encode()):
        return False
    if str(body.get("payeeAlias") or "") != settings.SWISH_PAYEE_ALIAS:
        return False
    _apply(payment.pk, swish.state_of(body))
    return True


def payment_card_webhook(*, payload: bytes, signature: str) -> bool:
    """The card provider's webhook. False: the signature does not hold (or is too old)."""
    if not card.signature_valid(payload, signature):
        return False
    try:
        event = json.loads(payload)
    except ValueError:
        return False
    if not isinstance(event, dict):
        return False
    obj = (event.get("data") or {}).get("object") or {}
    if isinstance(obj, dict) and obj.get("object") == "refund":
        _card_refund_event(obj)
        return True
    found = card.session_of_event(event)
    if found is None:
        return True  # an event we do not use: acknowledged, so it is not sent again
    _kind, session = found
    try:
        payment_id = uuid.UUID(card.reference_of_event(event))
    except ValueError:
        return True
    payment = Payment.objects.filter(pk=payment_id, method=Method.CARD).first()
    if payment is None or (payment.provider_ref and payment.provider_ref != session.id):
        return True
    _apply(payment.pk, session.state, session_id=session.id)
    return True


def _card_refund_event(obj: dict[str, Any]) -> None:
    try:
        refund_id = uuid.UUID(str((obj.get("metadata") or {}).get("refund") or ""))
    except ValueError:
        return
    status = str(obj.get("status") or "")
    if status == "succeeded":
        _refund_finish(refund_id, done=True, provider_ref=str(obj.get("id") or ""))
    elif status in ("failed", "canceled"):
        _refund_finish(refund_id, done=False, error=str(obj.get("failure_reason") or status))


# --- refunds -------------------------------------------------------------------------------------


def _refund_record(*, payment: Payment, amount: Decimal, reason: str, by: Staff | None, form_key: str) -> Refund:
    """Inside the caller's transaction, with the payment's row locked."""
    refund = Refund.objects.create(payment=payment, amount=amount, reason=reason, by=by, form_key=form_key)
    payment.refunded += amount
    payment.save(update_fields=["refunded", "updated_at"])
    audit(
        actor=Actor.of_staff(by) if by else SYSTEM,
        action=REFUND_CREATE,
        patient=payment.fee.patient,
        obj=refund,
        unit=payment.fee.unit,
        detail=f"{amount} by {payment.method}: {reason}"[:500],
    )
    return refund


def refund_create(*, staff: Staff, payment: Payment, amount: Decimal, reason: str, form_key: str) -> Refund:
    """Pay back ``amount`` of a paid payment, to the way it was paid, with a reason (logged). Never
    more than was paid less what is already paid back; the same form sent twice pays back once."""
    found = Refund.objects.filter(form_key=form_key).first()
    if found is not None:
        return found
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the fee is paid back."))
    if amount <= 0:
        raise ValidationError(_("Enter an amount above 0 kronor."))
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("fee").get(pk=payment.pk)
        if locked.status != Status.PAID:
            raise ValidationError(_("Only a paid payment can be paid back."))
        if locked.method not in (Method.SWISH, Method.CARD):
            # A deposit on an invoice has no provider to send money back through.
            raise ValidationError(_("A payment on an invoice is paid back by the region's accounting."))
        left = locked.amount - locked.refunded
        if amount > left:
            raise ValidationError(_("At most %(left)s kronor can be paid back.") % {"left": left})
        refund = _refund_record(payment=locked, amount=amount, reason=reason, by=staff, form_key=form_key)
    _refund_send(refund)
    refund.refresh_from_db()
    return refund


def _refund_send(refund: Refund) -> None:
    payment = refund.payment
    try:
        if payment.method == Method.SWISH:
            swish.refund(
                refund_id=refund.pk,
                original_reference=payment.provider_charge,
                amount=refund.amount,
                message="Återbetalning patientavgift",
            )
        elif payment.method == Method.CARD:
            status = card.refund(
                refund_id=refund.pk, payment_intent=payment.provider_charge, amount_ore=ore(refund.amount)
            )
            if status == "succeeded":
                _refund_finish(refund.pk, done=True)
            elif status in ("failed", "canceled"):
                _refund_finish(refund.pk, done=False, error=status)
    except ProviderError as refusal:
        _refund_finish(refund.pk, done=False, error=f"{refusal.code} {refusal.message}")
    except ProviderUnreachable as unknown:
        log.warning("refund %s: no answer (%s); asked again later", refund.pk, unknown)


def _refund_finish(refund_id: uuid.UUID, *, done: bool, error: str = "", provider_ref: str = "") -> None:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None or refund.status != RefundStatus.PENDING:
            return  # a duplicate or late answer: decided already
        if provider_ref:
            refund.provider_ref = provider_ref
        if done:
            refund.status, refund.done_at = RefundStatus.DONE, timezone.now()
        else:
            refund.status, refund.error_message = RefundStatus.FAILED, error[:300]
            payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
            payment.refunded -= refund.amount  # not paid back: it may be tried again
            payment.save(update_fields=["refunded", "updated_at"])
        refund.save(update_fields=["status", "done_at", "error_message", "provider_ref"])


def refund_reconcile(*, refund: Refund) -> None:
    """Ask the provider about a refund under way; one it never received is sent again (same id)."""
    if refund.status != RefundStatus.PENDING:
        return
    try:
        if refund.payment.method == Method.SWISH:
            status = swish.refund_state(refund.pk)
            if status is None:
                _refund_send(refund)
            elif status == "PAID":
                _refund_finish(refund.pk, done=True)
            elif status == "ERROR":
                _refund_finish(refund.pk, done=False, error="ERROR")
        else:
            _refund_send(refund)  # the same idempotency key: Stripe answers with the refund it made
    except (ProviderError, ProviderUnreachable) as exc:
        log.warning("refund %s: could not ask (%s)", refund.pk, exc)


# --- the region's invoicing ------------------------------------------------------------------------

RULES_UPDATE = "payments.rules.update"
RULE_FIELDS = ("bankgiro", "invoice_after_days", "due_days", "reminder_after_days", "reminder_fee")


@transaction.atomic
def payment_rules_update(*, staff: Staff, region: Any, values: dict[str, Any]) -> list[str]:
    """The region's invoicing settings: stores those that differ and returns their names (none:
    nothing written, nothing logged)."""
    from vardkontakt.organisation.models import Region
    from vardkontakt.payments.models import PaymentRules

    Region.objects.select_for_update().get(pk=region.pk)
    current = PaymentRules.objects.filter(region=region).first() or PaymentRules(region=region)
    changed = [name for name in RULE_FIELDS if getattr(current, name) != values[name]]
    if not changed:
        return []
    for name in changed:
        setattr(current, name, values[name])
    current.save()
    audit(
        actor=Actor.of_staff(staff),
        action=RULES_UPDATE,
        obj=current,
        detail=f"{region.name}: " + ", ".join(f"{name} {getattr(current, name)}" for name in changed),
    )
    return changed
