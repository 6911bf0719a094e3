"""Clients in English (the assertions read English; the Swedish catalogue is tested apart) and a
way to publish a message without the form."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from tests.helpers import login_as
from vardkontakt.demo.demo_data import REGION_NAME
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.operations.models import Audience, MessageKind, OperationalMessage
from vardkontakt.operations.services import message_create
from vardkontakt.organisation.models import Region


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def client_of(person: Patient | Staff | None) -> Client:
    client = english(Client())
    if isinstance(person, Patient):
        login_as(client, User.objects.get_or_create_for_patient(person))
    elif isinstance(person, Staff):
        login_as(client, User.objects.get_or_create_for_staff(person))
    return client


Publish = Callable[..., OperationalMessage]


@pytest.fixture
def publish(personas) -> Publish:
    """Publish a message through the service, as the demo region's administrator."""

    def _publish(
        *,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        audience: Audience = Audience.ALL,
        title: str = "Planerat underhåll",
        text: str = "E-tjänsterna är stängda under natten.",
        kind: MessageKind = MessageKind.PLANNED_DOWNTIME,
    ) -> OperationalMessage:
        return message_create(
            region=Region.objects.get(name=REGION_NAME),
            by=personas.region_admin,
            kind=kind,
            title=title,
            text=text,
            starts_at=starts_at,
            ends_at=ends_at,
            audience=audience,
            idempotency_key=uuid.uuid4().hex,
        )

    return _publish
