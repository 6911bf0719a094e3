"""The unit most booking tests work at (a test module that needs another defines its own ``unit``)."""

from __future__ import annotations

import pytest

from tests.booking.helpers import unit_with_rules
from vardkontakt.organisation.models import CareUnit


@pytest.fixture
def unit(personas) -> CareUnit:
    return unit_with_rules(personas)
