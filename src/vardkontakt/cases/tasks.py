from __future__ import annotations

from vardkontakt.cases.attachments import remove_abandoned


def remove_abandoned_uploads() -> int:
    """Run on the worker heartbeat: files of cases that were never sent go after a day."""
    return remove_abandoned()
