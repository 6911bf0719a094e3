"""A socket's ticket is spent by one conditional UPDATE (video.services._spend): once, only
before it expires, and of two sockets sending it at the same moment exactly one gets it (the
race on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import functools
import secrets

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import Personas
from tests.helpers import at_once
from vardkontakt.core.tokens import digest
from vardkontakt.identity.models import User
from vardkontakt.video.models import DropInQueue, RoomToken
from vardkontakt.video.services import _spend

pytestmark = pytest.mark.django_db(transaction=True)


def ticket_for(personas: Personas, unit_x, *, expires_in: dt.timedelta) -> str:
    now = timezone.now()
    queue = DropInQueue.objects.create(
        unit=unit_x, name="Drop-in video", opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(hours=3)
    )
    secret = secrets.token_urlsafe(32)
    RoomToken.objects.create(
        digest=digest(secret),
        queue=queue,
        user=User.objects.get_or_create_for_staff(personas.staff_x),
        expires_at=now + expires_in,
    )
    return secret


def test_a_ticket_is_spent_once_and_not_after_it_expires(personas: Personas, unit_x):
    ticket = ticket_for(personas, unit_x, expires_in=dt.timedelta(minutes=2))
    now = timezone.now()
    token = _spend(ticket, now)
    assert token is not None and token.used_at == now
    assert _spend(ticket, now) is None  # the second use
    assert RoomToken.objects.get(digest=digest(ticket)).used_at == now  # not moved by the refused use
    assert _spend("not-a-ticket", now) is None

    late = ticket_for(personas, unit_x, expires_in=dt.timedelta(minutes=2))
    assert _spend(late, now + dt.timedelta(minutes=3)) is None
    assert RoomToken.objects.get(digest=digest(late)).used_at is None  # an expired ticket is not marked


def test_two_sockets_with_the_same_ticket_at_once_one_gets_it(personas: Personas, unit_x):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks (DATABASE_URL=postgres://...)")

    def spend_into(got: list[RoomToken | None], ticket: str) -> None:
        got.append(_spend(ticket, timezone.now()))

    for _ in range(5):
        ticket = ticket_for(personas, unit_x, expires_in=dt.timedelta(minutes=2))
        got: list[RoomToken | None] = []
        assert at_once([functools.partial(spend_into, got, ticket) for _ in range(4)]) == []
        assert len(got) == 4
        assert len([token for token in got if token is not None]) == 1
