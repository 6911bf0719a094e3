from __future__ import annotations

from django_tasks import task

from vardkontakt.notifications.delivery import deliveries_due, delivery_attempt, delivery_release_next, gateways_probe
from vardkontakt.notifications.models import Delivery, DeliveryStatus


@task()
def deliver(delivery_id: str) -> None:
    status = delivery_attempt(delivery_id)
    if status == DeliveryStatus.PENDING:
        # It failed and will be tried again: queue that attempt for when it is due.
        retry_at = Delivery.objects.values_list("next_attempt_at", flat=True).get(pk=delivery_id)
        deliver.using(run_after=retry_at).enqueue(delivery_id)
    elif status in (DeliveryStatus.SENT, DeliveryStatus.FAILED) and (waiting := delivery_release_next(delivery_id)):
        # In order per recipient: the next notice to the same address waited for this one.
        deliver.enqueue(waiting)


@task()
def deliver_notice(delivery_ids: list[str]) -> None:
    """The deliveries of one notice (its e-mail, text message and pushes) in one task: a booking
    writes one task row per notice instead of one per delivery. Each is tried as ``deliver``
    tries it, and one that fails is queued again on its own. (A worker killed in the middle leaves
    the rest due, and the outbox sweep queues them.)"""
    for delivery_id in delivery_ids:
        deliver.call(delivery_id)


def sweep_outbox() -> int:
    """Run on every worker heartbeat: queue whatever is due, whatever happened to its own task
    (lost, or its worker died mid-send). A delivery queued twice is still sent once: the second
    attempt finds it no longer due."""
    gateways_probe()  # a failing gateway's oldest waiting delivery: due now, once a minute
    due = deliveries_due()
    for delivery_id in due:
        deliver.enqueue(delivery_id)
    return len(due)
