"""Writing to the outbox (delivering from it is delivery.py, run by tasks.deliver)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.notifications import webpush
from vardkontakt.notifications.models import (
    About,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationKind,
    PushSubscription,
)
from vardkontakt.notifications.tasks import deliver_notice

if TYPE_CHECKING:
    from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


def _channels_for(recipient: Patient | Staff, kind: str, devices: list[str] | None = None) -> list[tuple[str, str]]:
    """Where a notice of ``kind`` goes. ``devices``: the resident's push subscriptions, where the
    caller read them already (in its own query); else read here."""
    if isinstance(recipient, Patient) and kind == NotificationKind.BOOKING_REMINDER:
        # Asked for at booking, for this visit: a text message whatever the general choices.
        wanted = [(Channel.SMS, True, recipient.mobile)]
    elif isinstance(recipient, Patient):
        wanted = [
            (Channel.EMAIL, recipient.notify_by_email, recipient.email),
            (Channel.SMS, recipient.notify_by_sms, recipient.mobile),
        ]
        # Every device the resident turned push notifications on for: one delivery each (none while
        # the installation has no VAPID key: they could never go).
        if webpush.vapid_private_key() is not None:
            if devices is None:
                devices = [str(pk) for pk in recipient.push_subscriptions.values_list("pk", flat=True)]
            wanted += [(Channel.PUSH, True, pk) for pk in devices]
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
    about: About = About.NOTHING,
    about_id: object = "",
    to: list[tuple[str, str]] | None = None,
) -> Notification:
    """Queue a notice for ``recipient``; the same (kind, cause) for the same person is stored once.

    Call inside the transaction of the change: the notice and its deliveries commit with it, and
    delivery starts only after the commit. ``cause_is_new`` says the cause cannot have been told
    before (it names a row this transaction created), which saves looking for it: the unique
    constraint still refuses a second one. ``about`` and ``about_id`` name the row the notice is
    about, for the link on the person's own page; they never leave the platform. ``to``: the
    (channel, address) pairs to deliver to instead of the person's own choices (an interpreter's
    notice goes where the staff who invited them said).
    """
    target = {"recipient": recipient} if isinstance(recipient, Patient) else {"recipient_staff": recipient}
    now = timezone.now()
    if cause_is_new:
        notification, deliveries = notice_build(
            recipient=recipient, kind=kind, cause=cause, context=context, about=about, about_id=about_id, to=to
        )
        notification.save(force_insert=True)
    else:
        notification, created = Notification.objects.get_or_create(
            **target,
            kind=kind,
            cause=cause,
            defaults={"created_at": now, "context": context or {}, "about": about, "about_id": str(about_id)},
        )
        if not created:
            return notification
        deliveries = _deliveries(notification, recipient, kind, to=to, now=now)
    Delivery.objects.bulk_create(deliveries)
    if deliveries:
        _enqueue_with_the_change([str(delivery.id) for delivery in deliveries])
    return notification


def notice_build(
    *,
    recipient: Patient | Staff,
    kind: NotificationKind,
    cause: str,
    context: dict[str, str] | None = None,
    about: About = About.NOTHING,
    about_id: object = "",
    to: list[tuple[str, str]] | None = None,
    devices: list[str] | None = None,
) -> tuple[Notification, list[Delivery]]:
    """A new cause's notice and its deliveries, not yet written (notification_create with
    ``cause_is_new``, for a caller that writes them in a statement of its own; ``devices`` as in
    _channels_for). The caller also queues them (delivery_task_row or queue_after_commit)."""
    target = {"recipient": recipient} if isinstance(recipient, Patient) else {"recipient_staff": recipient}
    now = timezone.now()
    notification = Notification(
        **target, kind=kind, cause=cause, created_at=now, context=context or {}, about=about, about_id=str(about_id)
    )
    return notification, _deliveries(notification, recipient, kind, to=to, now=now, devices=devices)


def _deliveries(
    notification: Notification,
    recipient: Patient | Staff,
    kind: str,
    *,
    to: list[tuple[str, str]] | None,
    now: dt.datetime,
    devices: list[str] | None = None,
) -> list[Delivery]:
    return [
        Delivery(notification=notification, channel=channel, address=address, next_attempt_at=now)
        for channel, address in (to if to is not None else _channels_for(recipient, kind, devices))
    ]


def delivery_task_row(deliveries: list[Delivery]) -> DBTaskResult | None:
    """The task row that delivers ``deliveries`` when the task queue is this database, not yet
    written (what ``deliver_notice.enqueue`` would insert, for a caller that writes it in its own
    statement; then call task_rows_written). None when the queue is elsewhere: then
    queue_after_commit."""
    if not deliveries or not _queue_is_in_the_database():
        return None
    from django_tasks import task_backends
    from django_tasks.utils import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = task_backends["default"]
    task = deliver_notice
    backend.validate_task(task)
    return DBTaskResult(
        id=backend._get_id(),  # type: ignore[attr-defined]
        args_kwargs=normalize_json({"args": [[str(delivery.id) for delivery in deliveries]], "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after or get_date_max(),
        backend_name=backend.alias,
    )


def task_rows_written(rows: list[DBTaskResult]) -> None:
    """After delivery_task_row's rows were inserted: the queue's signal, as enqueue sends it."""
    from django_tasks.signals import task_enqueued
    from django_tasks_db import DatabaseBackend

    for row in rows:
        task_enqueued.send(DatabaseBackend, task_result=row.task_result)


def queue_after_commit(deliveries: list[Delivery]) -> None:
    """Deliveries written by the caller, with a task queue elsewhere: queued once the change commits."""
    if deliveries and not _queue_is_in_the_database():
        transaction.on_commit(functools.partial(_enqueue, [str(delivery.id) for delivery in deliveries]))


def _enqueue_with_the_change(delivery_ids: list[str]) -> None:
    """A task queue in this database takes the task in the same transaction: it commits (or rolls
    back) with the change, in one commit. Any other queue gets it only after the commit, so that
    nothing is sent for a change that did not happen. (A task lost either way is picked up by
    the outbox sweep.)"""
    if _queue_is_in_the_database():
        _enqueue(delivery_ids)
    else:
        transaction.on_commit(functools.partial(_enqueue, delivery_ids))


def _queue_is_in_the_database() -> bool:
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def _enqueue(delivery_ids: list[str]) -> None:
    """One task for the notice's deliveries (one task row, where the queue is this database)."""
    deliver_notice.enqueue(delivery_ids)


def deliveries_withdraw(*, kind: NotificationKind, cause: str) -> int:
    """Stop what has not gone out yet (a reminder of a visit that was cancelled)."""
    return Delivery.objects.filter(
        notification__kind=kind, notification__cause=cause, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.WITHDRAWN)


def notification_mark_read(*, notification: Notification) -> int:
    """Opened or dismissed: the notice leaves the person's list, with every other unread one about
    the same thing (a booking's confirmation and its reminder go together). Returns how many went."""
    unread = Notification.objects.filter(recipient=notification.recipient, read_at__isnull=True)
    if notification.about and notification.about_id:
        unread = unread.filter(about=notification.about, about_id=notification.about_id)
    else:
        unread = unread.filter(pk=notification.pk)
    return unread.update(read_at=timezone.now())


def notifications_mark_all_read(*, recipient: Patient) -> int:
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).update(read_at=timezone.now())


def push_subscription_save(*, patient: Patient, endpoint: str, p256dh: str, auth: str, label: str) -> PushSubscription:
    """Turn push notices on for one device (what PushManager.subscribe() gave the page). The endpoint
    names the device, so a browser that subscribes twice keeps one row (with its newest keys), and
    a device someone else had subscribed now belongs to this resident only."""
    values = {"patient": patient, "p256dh": p256dh, "auth": auth, "label": label}
    with transaction.atomic():
        found = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if found is None:
            try:
                with transaction.atomic():  # a savepoint: a twin request may insert first
                    return PushSubscription.objects.create(endpoint=endpoint, created_at=timezone.now(), **values)
            except IntegrityError:
                found = PushSubscription.objects.select_for_update().get(endpoint=endpoint)
        if found.patient_id != patient.pk:
            _push_deliveries_withdraw(found)  # what was waiting for the previous owner stays unsent
        for name, value in values.items():
            setattr(found, name, value)
        found.save(update_fields=list(values))
        return found


def push_subscription_remove(*, patient: Patient, subscription_id: str) -> None:
    """Turn push notices off for one of the resident's own devices; anyone else's is not found."""
    with transaction.atomic():
        found = PushSubscription.objects.select_for_update().filter(pk=subscription_id, patient=patient).first()
        if found is None:
            raise Http404
        _push_deliveries_withdraw(found)
        found.delete()


def _push_deliveries_withdraw(subscription: PushSubscription) -> None:
    Delivery.objects.filter(channel=Channel.PUSH, address=str(subscription.pk), status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.WITHDRAWN
    )
