"""Invoices and reminders on their way to the person, as appointment letters go.

``payments.invoices`` makes an invoice of a fee left unpaid, and later a reminder; this module
brings each to the person. Whoever gets the person's letters (the person, a guardian while they may
act for the child, a proxy with the bookings scope: ``services.readers_of_many``) gets a neutral
notice; when none of them chose digital letters, the invoice also goes on paper in the next print
batch, with the letters, and an invoice paid before that batch is not printed. An invoice that
nobody is told of would be a debt the person never hears of: the posting is the invoice's delivery.

Each invoice and stage is posted once (a unique row), so a heartbeat that runs twice, or two
workers at once, tell nobody twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from vardkontakt.identity.models import Patient
from vardkontakt.letters.models import InvoicePaper, InvoicePost, InvoiceStage, PrintBatch
from vardkontakt.letters.services import PrintItem, readers_of_many
from vardkontakt.notifications.models import About, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.payments import invoices
from vardkontakt.payments.models import Invoice, Payment, Status

logger = logging.getLogger(__name__)

# The manifest's kinds for invoices (beside the letters' kinds).
KINDS: dict[str, str] = {InvoiceStage.INVOICE: "invoice", InvoiceStage.REMINDER: "invoice_reminder"}
PRINT_KINDS = frozenset(KINDS.values())
NOTICE: dict[str, NotificationKind] = {
    InvoiceStage.INVOICE: NotificationKind.NEW_INVOICE,
    InvoiceStage.REMINDER: NotificationKind.INVOICE_REMINDER,
}
# Posted per heartbeat at most (the rest on the next): a day's invoices of a large region.
ROUND = 2000


def _not_posted(stage: str) -> Q:
    return ~Q(Exists(InvoicePost.objects.filter(invoice=OuterRef("pk"), stage=stage)))


def _paid(invoices: list[Invoice]) -> set[uuid.UUID]:
    """The fees among the invoices' that are paid, in one query."""
    fees = {invoice.fee_id for invoice in invoices}
    return set(Payment.objects.filter(fee_id__in=fees, status=Status.PAID).values_list("fee_id", flat=True))


def invoices_post(*, now: dt.datetime | None = None) -> int:
    """On the worker heartbeat: every invoice, and every reminder, not yet posted. Returns how many
    were posted."""
    now = now or timezone.now()
    waiting: list[tuple[Invoice, str]] = []
    related = ("fee", "fee__patient", "fee__unit")
    for invoice in Invoice.objects.filter(_not_posted(InvoiceStage.INVOICE)).select_related(*related)[:ROUND]:
        waiting.append((invoice, InvoiceStage.INVOICE))
    reminded = Invoice.objects.filter(reminded_on__isnull=False).filter(_not_posted(InvoiceStage.REMINDER))
    for invoice in reminded.select_related(*related)[: ROUND - len(waiting)]:
        waiting.append((invoice, InvoiceStage.REMINDER))
    if not waiting:
        return 0
    readers = readers_of_many({invoice.fee.patient for invoice, _stage in waiting}, now=now)
    paid = _paid([invoice for invoice, _stage in waiting])
    posted = 0
    for invoice, stage in waiting:
        if _post(invoice, stage, readers[invoice.fee.patient_id], now, settled=invoice.fee_id in paid):
            posted += 1
    return posted


def _post(invoice: Invoice, stage: str, readers: list[Patient], now: dt.datetime, *, settled: bool) -> bool:
    patient = invoice.fee.patient
    digital = any(reader.digital_letters for reader in readers)
    if settled:
        paper = InvoicePaper.SETTLED  # paid between the invoice's making and its posting: nobody is told
    elif digital:
        paper = InvoicePaper.NONE
    else:
        paper = InvoicePaper.DUE if patient.has_address else InvoicePaper.NO_ADDRESS
    try:
        with transaction.atomic():
            post = InvoicePost.objects.create(
                invoice=invoice, stage=stage, created_at=now, digital=digital and not settled, paper=paper
            )
            if not settled:
                for reader in readers:
                    notification_create(
                        recipient=reader,
                        kind=NOTICE[stage],
                        cause=f"invoice:{invoice.pk}:{stage}",
                        cause_is_new=True,
                        about=About.INVOICE,
                        about_id=invoice.pk,
                    )
    except IntegrityError:
        return False  # another worker posted it
    if post.paper == InvoicePaper.NO_ADDRESS:
        logger.warning("invoice %s (%s) cannot go on paper: no registered address", invoice.pk, stage)
    return True


def print_items(*, limit: int) -> list[PrintItem]:
    """The invoices and reminders waiting for paper, locked for the caller's batch (up to ``limit``);
    those paid meanwhile are taken off paper instead. Within the caller's transaction."""
    if limit <= 0:
        return []
    due = list(
        InvoicePost.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(paper=InvoicePaper.DUE)
        .select_related("invoice__fee__patient", "invoice__fee__unit", "invoice__region")
        .order_by("created_at", "pk")[:limit]
    )
    paid = _paid([post.invoice for post in due])
    settled = [post.pk for post in due if post.invoice.fee_id in paid]
    if settled:
        InvoicePost.objects.filter(pk__in=settled).update(paper=InvoicePaper.SETTLED)
    items = []
    for post in due:
        invoice = post.invoice
        if invoice.fee_id in paid:
            continue
        items.append(PrintItem(post.pk, KINDS[post.stage], invoice.fee.patient, post.created_at, _pdf_of(invoice)))
    return items


def _pdf_of(invoice: Invoice) -> Callable[[], bytes]:
    return lambda: invoices.invoice_pdf(invoice)


def printed(post_ids: list[uuid.UUID], batch: PrintBatch) -> None:
    InvoicePost.objects.filter(pk__in=post_ids).update(paper=InvoicePaper.PRINTED, print_batch=batch)
