"""Writing to the outbox and delivering from it."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.notifications import messages, sms
from vardkontakt.notifications.models import Channel, Delivery, DeliveryStatus, Notification, NotificationKind

logger = logging.getLogger(__name__)

# Wait this long before attempt n+1 (then the last value until MAX_ATTEMPTS).
BACKOFF = [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15), dt.timedelta(hours=1)]
MAX_ATTEMPTS = 48  # about two days of hourly retries: a gateway outage does not lose a message
CLAIM = dt.timedelta(minutes=2)


def _channels_for(recipient: Patient | Staff, kind: str) -> list[tuple[str, str]]:
    if isinstance(recipient, Patient) and kind == NotificationKind.BOOKING_REMINDER:
        # Asked for at booking, for this visit: a text message whatever the general choices.
        wanted = [(Channel.SMS, True, recipient.mobile)]
    elif isinstance(recipient, Patient):
        wanted = [
            (Channel.EMAIL, recipient.notify_by_email, recipient.email),
            (Channel.SMS, recipient.notify_by_sms, recipient.mobile),
        ]
    elif kind == NotificationKind.CASE_ASSIGNED:
        wanted = [
            (Channel.EMAIL, recipient.notify_assigned_by_email, recipient.email),
            (Channel.SMS, recipient.notify_assigned_by_sms, recipient.mobile),
        ]
    else:
        wanted = [(Channel.EMAIL, bool(recipient.email), recipient.email)]
    return [(channel, address) for channel, chosen, address in wanted if chosen and address]


def notification_create(
    *,
    recipient: Patient | Staff,
    kind: NotificationKind,
    cause: str,
    context: dict[str, str] | None = None,
    cause_is_new: bool = False,
) -> Notification:
    """Queue a notice for ``recipient``; the same (kind, cause) for the same person is stored once.

    Call inside the transaction of the change: the notice and its deliveries commit with it, and
    delivery starts only after the commit. ``cause_is_new`` says the cause cannot have been told
    before (it names a row this transaction created), which saves looking for it: the unique
    constraint still refuses a second one.
    """
    target = {"recipient": recipient} if isinstance(recipient, Patient) else {"recipient_staff": recipient}
    now = timezone.now()
    if cause_is_new:
        notification = Notification.objects.create(
            **target, kind=kind, cause=cause, created_at=now, context=context or {}
        )
    else:
        notification, created = Notification.objects.get_or_create(
            **target, kind=kind, cause=cause, defaults={"created_at": now, "context": context or {}}
        )
        if not created:
            return notification
    deliveries = [
        Delivery(notification=notification, channel=channel, address=address, next_attempt_at=now)
        for channel, address in _channels_for(recipient, kind)
    ]
    Delivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        _enqueue_with_the_change(str(delivery.id))
    return notification


def _enqueue_with_the_change(delivery_id: str) -> None:
    """A task queue in this database takes the task in the same transaction: it commits (or rolls
    back) with the change, in one commit. Any other queue gets it only after the commit, so that
    nothing is sent for a change that did not happen. (A task lost either way is picked up by
    the outbox sweep.)"""
    if _queue_is_in_the_database():
        _enqueue(delivery_id)
    else:
        transaction.on_commit(functools.partial(_enqueue, delivery_id))


def _queue_is_in_the_database() -> bool:
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def _enqueue(delivery_id: str, *, after: dt.datetime | None = None) -> None:
    from vardkontakt.notifications.tasks import deliver

    (deliver.using(run_after=after) if after else deliver).enqueue(delivery_id)


def _send(delivery: Delivery) -> str:
    message = messages.render(
        delivery.notification.kind, language=delivery.language, context=delivery.notification.context
    )
    if delivery.channel == Channel.SMS:
        return sms.gateway().send(to=delivery.address, message=message.body)
    email = EmailMessage(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [delivery.address])
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise sms.DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise sms.DeliveryError(f"mail server: {exc.__class__.__name__}: {exc}") from exc
    return ""


def delivery_attempt(delivery_id: str) -> str | None:
    """Try one delivery if it is due. Returns its status afterwards, or None if it was not ours.

    The claim (PENDING → SENDING) is one UPDATE, so of two workers only one sends. A worker that
    dies while sending leaves a claim that lapses after CLAIM and is retried: at least once is the
    guarantee a mail server or SMS gateway without idempotency keys allows.
    """
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        )
        .update(status=DeliveryStatus.SENDING, claimed_until=now + CLAIM, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("notification").get(pk=delivery_id)
    try:
        provider_id = _send(delivery)
    except sms.DeliveryError as error:
        delivery.last_error = str(error)[:500]
        if error.permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            logger.warning("delivery %s failed for good: %s", delivery.id, error)
        else:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
            _enqueue(str(delivery.id), after=delivery.next_attempt_at)
        delivery.claimed_until = None
        delivery.save(update_fields=["status", "next_attempt_at", "claimed_until", "last_error"])
        return delivery.status
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = timezone.now()
    delivery.provider_id = provider_id
    delivery.claimed_until = None
    delivery.last_error = ""
    delivery.save(update_fields=["status", "sent_at", "provider_id", "claimed_until", "last_error"])
    return delivery.status


def deliveries_withdraw(*, kind: NotificationKind, cause: str) -> int:
    """Stop what has not gone out yet (a reminder of a visit that was cancelled)."""
    return Delivery.objects.filter(
        notification__kind=kind, notification__cause=cause, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.WITHDRAWN)


def deliveries_due(*, now: dt.datetime | None = None) -> list[str]:
    """Deliveries the worker should try now (also those whose task was lost, or whose sender died)."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    )
    return [str(pk) for pk in due.values_list("pk", flat=True)[:500]]
