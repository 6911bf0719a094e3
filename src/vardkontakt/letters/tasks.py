"""The letters' work on the worker heartbeat (settings.PERIODIC_JOBS): each cheap when there is
nothing to do."""

from __future__ import annotations

from vardkontakt.letters.services import (
    letters_issue_due,
    letters_remove_expired,
    letters_to_paper,
    print_batches_due,
)


def issue_letters() -> int:
    return letters_issue_due()


def letters_on_paper() -> int:
    """Unopened digital letters to paper first, then the batch, so they leave in the same one."""
    letters_to_paper()
    return print_batches_due()


def remove_expired_letters() -> int:
    return letters_remove_expired()
