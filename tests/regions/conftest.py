"""The region pages' tests: the demo installation's one region."""

from __future__ import annotations

import pytest

from vardkontakt.organisation.models import Region


@pytest.fixture
def region(personas) -> Region:
    return Region.objects.get()
