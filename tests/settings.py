"""Settings of the test suite, the type checker and the migration check: the demo configuration,
asked for explicitly (the production default refuses to start without its settings)."""

from __future__ import annotations

import os

os.environ["VK_DEMO"] = "true"
os.environ.setdefault("DJANGO_DEBUG", "false")

from vardkontakt.settings import *  # noqa: F403
