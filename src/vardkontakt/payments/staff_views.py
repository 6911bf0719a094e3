"""The staff's side of payments: a unit's payments, a refund, the region's invoices of a day."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.payments import bank, invoices, selectors, services
from vardkontakt.payments.forms import BankFileForm, RefundForm, RulesForm

MAX_BANK_FILE = 5_000_000  # characters: a day's deposits of a large region fit many times over


@staff_required
@require_GET
def unit_payments(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    unit = selectors.unit_for_payments(staff=request.staff, unit_id=unit_id)
    payments = selectors.unit_payments(staff=request.staff, unit=unit)
    return render(request, "payments/staff_unit.html", {"unit": unit, "payments": payments})


@staff_required
@require_http_methods(["GET", "POST"])
def refund(request: StaffRequest, payment_id: uuid.UUID) -> HttpResponse:
    payment = selectors.payment_for_staff(staff=request.staff, payment_id=payment_id)
    left = payment.amount - payment.refunded
    form = RefundForm(request.POST or None, initial={"form_key": uuid.uuid4().hex, "amount": left})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = services.refund_create(
                staff=request.staff,
                payment=payment,
                amount=data["amount"],
                reason=data["reason"],
                form_key=data["form_key"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(amount)s kronor are being paid back.") % {"amount": done.amount})
            return redirect("payments_staff:unit_payments", unit_id=payment.fee.unit_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "payments/staff_refund.html", {"payment": payment, "left": left, "form": form}, status=status
    )


@staff_required
@require_GET
def invoice_export(request: StaffRequest, region_id: uuid.UUID, day: str) -> HttpResponse:
    region = selectors.region_for_invoices(staff=request.staff, region_id=region_id)
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        return HttpResponse(_("Give the day as YYYY-MM-DD."), status=400, content_type="text/plain; charset=utf-8")
    found = selectors.invoices_of_day(staff=request.staff, region=region, day=date)
    response = HttpResponse(invoices.invoices_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fakturor-{date.isoformat()}.csv"'
    return response


@staff_required
@require_http_methods(["GET", "POST"])
def region_payments(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    """The region's invoicing: its settings, the day's file, and the bank's file of deposits."""
    region = selectors.region_for_invoices(staff=request.staff, region_id=region_id)
    current = invoices.rules_of(region)
    form = RulesForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        changed = services.payment_rules_update(staff=request.staff, region=region, values=form.cleaned_data)
        messages.success(request, _("Saved.") if changed else _("Nothing was changed."))
        return redirect("payments_staff:region_payments", region_id=region.pk)
    context = {"region": region, "form": form, "upload": BankFileForm(), "yesterday": _yesterday()}
    return render(request, "payments/staff_region.html", context, status=400 if request.method == "POST" else 200)


@staff_required
@require_POST
def bank_import(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_invoices(staff=request.staff, region_id=region_id)
    upload = BankFileForm(request.POST, request.FILES)
    outcome = None
    if upload.is_valid():
        try:
            content = upload.cleaned_data["file"].read(MAX_BANK_FILE + 1).decode("utf-8-sig")
        except UnicodeDecodeError:
            upload.add_error("file", _("The file is not text in UTF-8."))
        else:
            if len(content) > MAX_BANK_FILE:
                upload.add_error("file", _("The file is too large."))
            else:
                outcome = bank.invoices_match_bank_file(staff=request.staff, region=region, content=content)
    context = {
        "region": region,
        "form": RulesForm(instance=invoices.rules_of(region)),
        "upload": upload,
        "outcome": outcome,
        "yesterday": _yesterday(),
    }
    return render(request, "payments/staff_region.html", context, status=200 if outcome else 400)


def _yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)
