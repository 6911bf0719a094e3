"""bench/booking_rush.py's ``booking_without``: the online booking with some of its writes left out,
to measure what each costs the database beside the whole booking (issue 20 part 1, BENCH_WITHOUT).

A measurement of "the booking less its notices" means something only if exactly the notices are
missing: each group must leave out its own rows and nothing else, and once the block ends the
project books with every row again."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.booking_rush import booking_without
from tests.booking.helpers import (  # noqa: F401 (fixtures: unit, visit, slots, chain_rows)
    ONLINE_NOW,
    chain_rows,
    clock_at,
    online_slots,
    online_unit,
    online_visit,
)
from vardkontakt.access.audit import verify_chain
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking import services
from vardkontakt.booking.external_models import AppointmentChange
from vardkontakt.booking.models import Booking, BookingStatus
from vardkontakt.notifications.models import Delivery, Notification

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the statements are PostgreSQL's"),
]
clock = clock_at(ONLINE_NOW)


def _rows_of(booking: Booking) -> set[str]:
    """Which of the booking's own writes are in the database."""
    there = {
        "notices": Notification.objects.filter(cause=f"booking_confirmed:{booking.pk}").exists(),
        "deliveries": Delivery.objects.filter(notification__cause=f"booking_confirmed:{booking.pk}").exists(),
        "audit": AuditEntry.objects.filter(action="booking.book", object_id=str(booking.pk)).exists(),
        "change": AppointmentChange.objects.filter(booking=booking).exists(),
    }
    return {name for name, found in there.items() if found}


@pytest.mark.parametrize(
    "left_out",
    [("notices",), ("audit",), ("change",), ("audit", "change"), ("audit", "change", "notices")],
    ids=lambda parts: "+".join(parts),
)
def test_a_booking_without_a_group_lacks_exactly_its_rows_and_the_next_one_has_all(personas, unit, slots, left_out):
    tolvan = personas.tolvan
    type(tolvan).objects.filter(pk=tolvan.pk).update(email="tolvan@example.test", notify_by_email=True)
    tolvan.refresh_from_db()
    with booking_without(left_out):
        booking = services.booking_create_online(
            slot_id=slots[0].pk, unit=unit, subject=tolvan, actor=tolvan, idempotency_key="without"
        )
    expected = {"notices", "deliveries", "audit", "change"} - set(left_out)
    if "notices" in left_out:
        expected.discard("deliveries")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.ACTIVE
    assert _rows_of(booking) == expected
    # The audit chain is left as it was (the head not moved), never broken.
    assert verify_chain().intact

    after = services.booking_create_online(
        slot_id=slots[1].pk, unit=unit, subject=tolvan, actor=tolvan, idempotency_key="after"
    )
    assert _rows_of(after) == {"notices", "deliveries", "audit", "change"}
    assert verify_chain().intact


def test_an_unknown_group_is_refused_before_anything_is_booked(personas, unit, slots):
    with pytest.raises(SystemExit, match="unknown"), booking_without(("notice",)):
        services.booking_create_online(slot_id=slots[0].pk, unit=unit, subject=personas.tolvan, actor=personas.tolvan)
    assert not Booking.objects.exists()
