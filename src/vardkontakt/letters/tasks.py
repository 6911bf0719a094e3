"""The letters' work on the worker heartbeat (settings.PERIODIC_JOBS): each cheap when there is
nothing to do."""

from __future__ import annotations

from vardkontakt.letters.invoice_post import invoices_post
from vardkontakt.letters.services import (
    letters_issue_due,
    letters_remove_expired,
    letters_to_paper,
    print_batches_deliver,
    print_batches_due,
)


def issue_letters() -> int:
    return letters_issue_due()


def letters_on_paper() -> int:
    """Unopened digital letters to paper first, and invoices and reminders to their people, then the
    batch, so they leave in the same one; then the batches to the provider's SFTP server where one
    is configured (and earlier failed ones)."""
    letters_to_paper()
    invoices_post()
    made = print_batches_due()
    print_batches_deliver()
    return made


def remove_expired_letters() -> int:
    return letters_remove_expired()
