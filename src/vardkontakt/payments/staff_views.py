"""The staff's side of payments: a unit's payments, a refund, the region's invoices of a day."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.payments import invoices, selectors, services
from vardkontakt.payments.forms import RefundForm


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
