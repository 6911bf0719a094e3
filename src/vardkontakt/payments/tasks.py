"""The payments' work on the worker heartbeat (settings.PERIODIC_JOBS): each cheap with nothing to do."""

from __future__ import annotations

from django.utils import timezone

from vardkontakt.payments import invoices, services


def reconcile_payments() -> int:
    """Payments and refunds under way whose answer is late: asked about (a lost callback is found)."""
    return services.payments_reconcile_stale()


def invoices_due() -> int:
    """Today's invoices of fees left unpaid, and reminders of invoices past due (Swedish days)."""
    today = timezone.localdate()
    return len(invoices.invoices_issue(today=today)) + len(invoices.invoices_remind(today=today))
