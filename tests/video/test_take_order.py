"""A nurse takes callers in the order their places say, also when two joined in the same instant
(the places count by join time, then by id: the take must not pick the second of them first)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from tests.conftest import Personas
from vardkontakt.video import queues
from vardkontakt.video.models import CallerState, DropInQueue, QueueCaller

pytestmark = pytest.mark.django_db


def test_callers_who_joined_in_the_same_instant_are_taken_in_the_order_of_their_places(personas: Personas, unit_x):
    now = timezone.now()
    queue = DropInQueue.objects.create(
        unit=unit_x,
        name="Barnakuten video",
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(hours=2),
    )
    joined = now - dt.timedelta(minutes=3)
    # Stored in the opposite order of their ids: a take by storage order would differ from the places.
    callers = [
        QueueCaller.objects.create(
            pk=uuid.UUID(int=n), queue=queue, patient=p, joined_by=p, reason="Feber", waiting_since=joined
        )
        for n, p in ((3, personas.tolvan), (2, personas.guardian), (1, personas.child_9))
    ]
    places = {c.pk: queues.place_of(c.pk) for c in callers}
    in_order = sorted(callers, key=lambda c: places[c.pk].position)  # type: ignore[union-attr]
    assert [places[c.pk].position for c in in_order] == [1, 2, 3]  # type: ignore[union-attr]
    for expected in in_order:
        assert queues.caller_take_next(staff=personas.staff_x, queue_id=queue.pk) is not None
        expected.refresh_from_db()
        assert expected.state == CallerState.TAKEN
    assert queues.caller_take_next(staff=personas.staff_x, queue_id=queue.pk) is None
