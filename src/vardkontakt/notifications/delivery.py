"""Delivering from the outbox: one attempt at a time, with back-off, sent once.

The outbox is written by services.notification_create (in the transaction of the change); the
worker's task (tasks.deliver) calls delivery_attempt here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import smtplib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import transaction
from django.db.models import F, Q
from django.templatetags.static import static
from django.utils import timezone

from vardkontakt.notifications import messages, sms, webpush
from vardkontakt.notifications.models import Channel, Delivery, DeliveryStatus, PushSubscription

logger = logging.getLogger(__name__)

# Wait this long before attempt n+1 (then the last value until GIVE_UP_AFTER).
BACKOFF = [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15), dt.timedelta(hours=1)]
# Tried again for two days after the notice was written: a gateway outage does not lose a message.
# (By time, not by a count of attempts: the probe of a failing gateway adds attempts.)
GIVE_UP_AFTER = dt.timedelta(days=2)
CLAIM = dt.timedelta(minutes=2)


def _send(delivery: Delivery, mail_connection: BaseEmailBackend, mark_sent: Callable[[], None]) -> str:
    """Send one delivery. An e-mail is marked sent here (``mark_sent``; over SMTP before the
    message's last line, see _email_over_smtp); anything else is marked by the caller."""
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
        connection=mail_connection,
    )
    try:
        # Opened here and closed by the caller after the commit (delivery_attempt): the QUIT
        # exchange is not part of the window in which a killed worker has sent without knowing.
        mail_connection.open()
        if isinstance(mail_connection, SmtpBackend) and mail_connection.connection is not None:
            _email_over_smtp(email, mail_connection.connection, mark_sent)
        else:  # another backend (the console's, the tests' outbox): sent, then marked
            email.send()
            mark_sent()
    except smtplib.SMTPRecipientsRefused as exc:
        raise sms.DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise sms.DeliveryError(f"mail server: {exc.__class__.__name__}: {exc}") from exc
    return ""


LEADING_DOT = re.compile(rb"(?m)^\.")


def _email_over_smtp(email: EmailMessage, smtp: smtplib.SMTP, mark_sent: Callable[[], None]) -> None:
    """SMTP's transaction with the delivery marked sent, in a database transaction of its own,
    before the message's last line (the lone dot) goes out, and committed right after it.

    SMTP has no idempotency key: a worker killed after the server has the whole message and before
    our commit sends it again when its claim lapses. Marked after the server's answer, that window
    was the answer's way back, the return through smtplib and Django and an UPDATE with its commit
    (in ``make faults`` about one kill in twenty-five sent an e-mail twice); now it is the step
    from writing the dot to sending COMMIT. A server that refuses the message at its end (a 4xx or
    5xx after the dot) is a failure like any other: the caller writes the retry over the mark."""
    encoding = email.encoding or settings.DEFAULT_CHARSET
    sender = sanitize_address(email.from_email, encoding)
    recipients = [sanitize_address(address, encoding) for address in email.recipients()]
    body = email.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]  # Django's MIME classes take it
    smtp.ehlo_or_helo_if_needed()  # as smtplib's sendmail does first
    options = [f"SIZE={len(body)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
    code, reply = smtp.mail(sender, options)
    if code != 250:
        smtp.rset()
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.docmd("data")
    if code != 354:
        smtp.rset()
        raise smtplib.SMTPDataError(code, reply)
    quoted = LEADING_DOT.sub(b"..", body)  # RFC 5321 4.5.2: a line's leading dot doubled
    smtp.send(quoted if quoted.endswith(b"\r\n") else quoted + b"\r\n")
    # Committed as the block ends, right after the dot (inside a caller's transaction, the tests',
    # a savepoint: the caller's commit decides).
    with transaction.atomic():
        mark_sent()
        smtp.send(b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


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
    """Try one delivery if it is due. Returns its status afterwards, or None if it was not ours
    (claimed by another worker, not due, or waiting behind an earlier notice to the same address).
    A failure that will be tried again is left PENDING with its next_attempt_at (the task queues
    that attempt; the outbox sweep finds it too).

    The claim (PENDING → SENDING) is one UPDATE, so of two workers only one sends. A worker that
    dies while sending leaves a claim that lapses after CLAIM and is retried: at least once is the
    guarantee a mail server or SMS gateway without idempotency keys allows.
    """
    now = timezone.now()
    # Read before claiming: a delivery still SENDING was in flight when its worker died, and may
    # have reached the gateway.
    before = (
        Delivery.objects.filter(pk=delivery_id)
        .values_list("status", "next_attempt_at", "channel", "address", "notification__created_at", "notification_id")
        .first()
    )
    interrupted = bool(before and before[0] == DeliveryStatus.SENDING)
    due = bool(before and before[0] == DeliveryStatus.PENDING and before[1] <= now)
    if before and due and (wait := _behind_earlier(delivery_id, *before[2:], now)):
        # Not now: the earlier one's task queues this one when it is out (delivery_release_next);
        # the outbox sweep finds it at ``wait`` otherwise.
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(next_attempt_at=wait)
        return None
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
    mail_connection = get_connection()
    try:
        return _attempt(delivery, provider_id, now, mail_connection)
    finally:
        with contextlib.suppress(Exception):  # the message is out or not; QUIT failing changes nothing
            mail_connection.close()


def _attempt(delivery: Delivery, provider_id: str, now: dt.datetime, mail_connection: BaseEmailBackend) -> str:
    def mark_sent(gateway_id: str = "") -> None:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        delivery.provider_id = gateway_id
        delivery.claimed_until = None
        delivery.last_error = ""
        delivery.save(update_fields=["status", "sent_at", "provider_id", "claimed_until", "last_error"])

    try:
        provider_id = provider_id or _send(delivery, mail_connection, mark_sent)
    except sms.DeliveryError as error:
        delivery.last_error = str(error)[:500]
        if error.permanent or now - delivery.notification.created_at >= GIVE_UP_AFTER:
            delivery.status = DeliveryStatus.FAILED
            logger.warning("delivery %s failed for good: %s", delivery.id, error)
        else:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
            _gateway_failing(delivery.channel)
        delivery.claimed_until = None
        delivery.sent_at = None  # an e-mail marked sent before the server refused it at its end
        delivery.save(update_fields=["status", "next_attempt_at", "claimed_until", "last_error", "sent_at"])
        return delivery.status
    if delivery.status != DeliveryStatus.SENT:  # not an e-mail, which _send marked
        mark_sent(provider_id)
    _gateway_answers(delivery.channel, now)
    return delivery.status


# The SMS gateway and the mail server are one each for the installation: when one has failed and
# then takes a message again, whatever waits on back-off for it is due at once (the outbox sweep
# queues it on the next heartbeat; each recipient's notices still go oldest first), instead of up
# to an hour after the outage. Push goes to each device's own push service: no such flag.
_FAILING = "notifications:gateway-failing:"
_FAILING_SECONDS = 3 * 24 * 3600  # longer than GIVE_UP_AFTER
# While a gateway is failing, the outbox sweep makes one waiting delivery of it due at most this
# often (the oldest: the head of its recipient's line), so a recovery is noticed within about this
# long even when no new notice comes (a circuit breaker's half-open probe); the rest keep their
# back-off and do not knock on the gateway meanwhile.
PROBE_EVERY = dt.timedelta(minutes=1)
_PROBED = "notifications:gateway-probed:"


def _gateway_failing(channel: str) -> None:
    if channel in (Channel.SMS, Channel.EMAIL):
        try:
            cache.set(_FAILING + channel, True, timeout=_FAILING_SECONDS)
        except Exception:  # the cache down: the back-off alone decides, as before
            logger.warning("gateway state: the cache cannot be written", exc_info=True)


def _gateway_answers(channel: str, now: dt.datetime) -> None:
    if channel not in (Channel.SMS, Channel.EMAIL):
        return
    try:
        was_failing = cache.get(_FAILING + channel) and cache.delete(_FAILING + channel)
    except Exception:
        logger.warning("gateway state: the cache cannot be read", exc_info=True)
        return
    if was_failing:  # only the worker that cleared the flag: one UPDATE per recovery
        waiting = Delivery.objects.filter(
            channel=channel, status=DeliveryStatus.PENDING, attempts__gt=0, next_attempt_at__gt=now
        ).update(next_attempt_at=now)
        logger.info("the %s gateway answers again: %d deliveries waiting on back-off are due now", channel, waiting)


# A notice waiting behind an earlier one to the same address is due again this long after the
# earlier one's next attempt (or the end of its claim, while it is being sent): the earlier one's
# task releases it as soon as it is out (delivery_release_next), so this is only the sweep's
# fallback, and it keeps the sweep from queueing the waiting notices again and again.
BEHIND = dt.timedelta(seconds=30)


def _behind_earlier(
    delivery_id: str, channel: str, address: str, created_at: dt.datetime, notification_id: object, now: dt.datetime
) -> dt.datetime | None:
    """In order per recipient: an SMS or e-mail waits while an earlier notice to the same number
    or address is not out yet (after a gateway outage the oldest goes first, then the next). None
    when nothing earlier is waiting; else when the sweep should look at it again. Push goes per
    device and out of order (a device shows the newest on top anyway)."""
    if channel == Channel.PUSH:
        return None
    earlier = (
        Delivery.objects.filter(
            channel=channel, address=address, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
        )
        .filter(
            Q(notification__created_at__lt=created_at)
            | Q(notification__created_at=created_at, notification_id__lt=notification_id)
        )
        .exclude(pk=delivery_id)
        .order_by("next_attempt_at")
        .values_list("status", "next_attempt_at", "claimed_until")
        .first()
    )
    if earlier is None:
        return None
    status, next_attempt_at, claimed_until = earlier
    its_turn = next_attempt_at if status == DeliveryStatus.PENDING else claimed_until or now
    return max(its_turn, now) + BEHIND


def delivery_release_next(delivery_id: str) -> str | None:
    """After a delivery is out (or given up): the oldest notice still waiting for the same number
    or address, made due now if it was only waiting for its turn (one that failed on its own keeps
    its back-off). Its id, for the caller to queue, or None."""
    done = Delivery.objects.filter(pk=delivery_id).values_list("channel", "address").first()
    if done is None or done[0] == Channel.PUSH:
        return None
    found = (
        Delivery.objects.filter(channel=done[0], address=done[1], status=DeliveryStatus.PENDING)
        .order_by("notification__created_at", "notification_id")
        .values_list("pk", "last_error")
        .first()
    )
    if found is None:
        return None
    if not found[1]:
        Delivery.objects.filter(pk=found[0], status=DeliveryStatus.PENDING, last_error="").update(
            next_attempt_at=timezone.now()
        )
    return str(found[0])


def gateways_probe(*, now: dt.datetime | None = None) -> list[str]:
    """For each failing gateway, once per PROBE_EVERY across all workers: its oldest delivery
    waiting on back-off is made due now. Returns the channels probed."""
    now = now or timezone.now()
    probed: list[str] = []
    for channel in (Channel.SMS, Channel.EMAIL):
        try:
            failing = cache.get(_FAILING + channel)
            turn = failing and cache.add(_PROBED + channel, True, timeout=int(PROBE_EVERY.total_seconds()))
        except Exception:
            logger.warning("gateway state: the cache cannot be read", exc_info=True)
            return probed
        if not turn:
            continue
        oldest = (
            Delivery.objects.filter(channel=channel, status=DeliveryStatus.PENDING, next_attempt_at__gt=now)
            .order_by("notification__created_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if oldest is not None:
            Delivery.objects.filter(pk=oldest, status=DeliveryStatus.PENDING).update(next_attempt_at=now)
            probed.append(str(channel))
    return probed


def deliveries_due(*, now: dt.datetime | None = None) -> list[str]:
    """Deliveries the worker should try now (also those whose task was lost, or whose sender died)."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    )
    # Oldest notice first: after an outage, each recipient's notices go out in the order written.
    return [str(pk) for pk in due.order_by("notification__created_at", "pk").values_list("pk", flat=True)[:500]]
