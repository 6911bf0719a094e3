from __future__ import annotations

from django_tasks import task

from vardkontakt.notifications.services import deliveries_due, delivery_attempt


@task()
def deliver(delivery_id: str) -> None:
    delivery_attempt(delivery_id)


def sweep_outbox() -> int:
    """Run on every worker heartbeat: queue whatever is due, whatever happened to its own task
    (lost, or its worker died mid-send). A delivery queued twice is still sent once: the second
    attempt finds it no longer due."""
    due = deliveries_due()
    for delivery_id in due:
        deliver.enqueue(delivery_id)
    return len(due)
