"""The local providers, configured as the platform's Swish and card provider for a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.payments.servers import (
    CARD_KEY,
    PAYEE_ALIAS,
    WEBHOOK_SECRET,
    CardServer,
    SwishServer,
    card_server,
    swish_server,
)


@pytest.fixture
def swish_api(settings) -> Iterator[SwishServer]:
    server = swish_server()
    settings.SWISH_API_URL = server.url
    settings.SWISH_PAYEE_ALIAS = PAYEE_ALIAS
    settings.SWISH_TIMEOUT_SECONDS = 1
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def card_api(settings) -> Iterator[CardServer]:
    server = card_server()
    settings.CARD_API_URL = server.url
    settings.CARD_SECRET_KEY = CARD_KEY
    settings.CARD_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.CARD_TIMEOUT_SECONDS = 1
    try:
        yield server
    finally:
        server.close()
