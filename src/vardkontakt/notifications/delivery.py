"""Delivering from the outbox: one attempt at a time, with back-off, sent once.

The outbox is written by services.notification_create (in the transaction of the change); the
worker's task (tasks.deliver) calls delivery_attempt here.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.templatetags.static import static
from django.utils import timezone

from vardkontakt.notifications import messages, sms, webpush
from vardkontakt.notifications.models import Channel, Delivery, DeliveryStatus, PushSubscription

logger = logging.getLogger(__name__)

# Wait this long before attempt n+1 (then the last value until MAX_ATTEMPTS).
BACKOFF = [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15), dt.timedelta(hours=1)]
MAX_ATTEMPTS = 48  # about two days of hourly retries: a gateway outage does not lose a message
CLAIM = dt.timedelta(minutes=2)


def _send(delivery: Delivery) -> str:
    message = messages.render(
        delivery.notification.kind, language=delivery.language, context=delivery.notification.context
    )
    if delivery.channel == Channel.SMS:
        return sms.gateway().send(to=delivery.address, message=message.body)
    if delivery.channel == Channel.PUSH:
        return _push(delivery, message)
    email = EmailMessage(
        message.subject,
        message.body,
        settings.DEFAULT_FROM_EMAIL,
        [delivery.address],
        headers={"Message-ID": message_id(delivery)},
    )
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise sms.DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise sms.DeliveryError(f"mail server: {exc.__class__.__name__}: {exc}") from exc
    return ""


def _already_accepted(delivery: Delivery, interrupted: bool) -> str:
    """For an SMS whose last attempt was interrupted (its worker was killed after claiming it, maybe
    after the gateway's acceptance and before our commit): the gateway's id if the gateway has it,
    so it is not sent again. Anything with this text to this number since the notice was written,
    except what other deliveries already recorded, counts as this one."""
    if not interrupted or delivery.channel != Channel.SMS:
        return ""
    message = messages.render(
        delivery.notification.kind, language=delivery.language, context=delivery.notification.context
    )
    since = delivery.notification.created_at - dt.timedelta(seconds=5)  # the gateway's clock may differ a little
    known = set(
        Delivery.objects.filter(channel=Channel.SMS, address=delivery.address, sent_at__gte=since)
        .exclude(pk=delivery.pk)
        .values_list("provider_id", flat=True)
    )
    found = sms.gateway().find_sent(
        to=delivery.address,
        message=message.body,
        after=since,
        before=timezone.now() + dt.timedelta(seconds=5),
        known=known,
    )
    if found:
        logger.info("delivery %s: the gateway had accepted it before its worker died (%s)", delivery.id, found)
    return found


def message_id(delivery: Delivery) -> str:
    """The same Message-ID on every attempt of one delivery. SMTP has no idempotency key: a worker
    killed after the server's 250 and before our commit sends the notice again when its claim
    lapses. With a stable Message-ID that second copy is recognisably the same message (mail
    stores and relays that de-duplicate on it drop it; the SMTP sink in the fault test counts by
    it), and the window is kept to the one UPDATE that follows the server's answer."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "vardkontakt.invalid"
    return f"<delivery-{delivery.id}@{domain}>"


def _push(delivery: Delivery, message: messages.OutgoingMessage) -> str:
    """To one device. Its subscription is read now (the address is its id): a device removed since
    the notice was written gets nothing, and one the push service calls gone is forgotten."""
    subscription = PushSubscription.objects.filter(pk=delivery.address).first()
    if subscription is None:
        raise sms.DeliveryError("the device was removed before the notice went out", permanent=True)
    payload = {
        "title": message.subject,
        "body": message.body,
        "url": settings.SITE_URL + "/home/",
        "icon": settings.SITE_URL + static("vardkontakt/img/app-icon-192.png"),
        "tag": str(delivery.notification_id),
    }
    try:
        provider_id = webpush.send(
            endpoint=subscription.endpoint, p256dh=subscription.p256dh, auth=subscription.auth, payload=payload
        )
    except webpush.SubscriptionGone:
        # Only this row, as it was read: a browser that subscribed again since keeps its new keys.
        PushSubscription.objects.filter(pk=subscription.pk, p256dh=subscription.p256dh).delete()
        raise
    PushSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=timezone.now())
    return provider_id


def delivery_attempt(delivery_id: str) -> str | None:
    """Try one delivery if it is due. Returns its status afterwards, or None if it was not ours.
    A failure that will be tried again is left PENDING with its next_attempt_at (the task queues
    that attempt; the outbox sweep finds it too).

    The claim (PENDING → SENDING) is one UPDATE, so of two workers only one sends. A worker that
    dies while sending leaves a claim that lapses after CLAIM and is retried: at least once is the
    guarantee a mail server or SMS gateway without idempotency keys allows.
    """
    now = timezone.now()
    # Read before claiming: a delivery still SENDING was in flight when its worker died, and may
    # have reached the gateway.
    before = Delivery.objects.filter(pk=delivery_id).values_list("status", "claimed_until").first()
    interrupted = bool(before and before[0] == DeliveryStatus.SENDING)
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
        provider_id = _already_accepted(delivery, interrupted)
    except sms.DeliveryError as error:
        # Whether the gateway has it is still unknown: it stays in flight (SENDING), and the gateway
        # is asked again when this claim lapses, rather than risking a second copy.
        delivery.last_error = str(error)[:500]
        delivery.claimed_until = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
        delivery.save(update_fields=["claimed_until", "last_error"])
        return delivery.status
    try:
        provider_id = provider_id or _send(delivery)
    except sms.DeliveryError as error:
        delivery.last_error = str(error)[:500]
        if error.permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            logger.warning("delivery %s failed for good: %s", delivery.id, error)
        else:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
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


def deliveries_due(*, now: dt.datetime | None = None) -> list[str]:
    """Deliveries the worker should try now (also those whose task was lost, or whose sender died)."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    )
    return [str(pk) for pk in due.values_list("pk", flat=True)[:500]]
