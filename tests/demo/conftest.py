"""These tests are about `load_demo` itself: every one of them builds the region for real, never
from tests/demo_snapshot.py's copy."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture
def demo_region(db: None) -> None:
    call_command("load_demo", "--no-activity", verbosity=0)
