"""The resident's high-cost page and the staff's frikort check and registration of a fee paid
elsewhere. Thin: each calls one selector or service."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.access.acting import acting_for
from vardkontakt.access.policy import Relation
from vardkontakt.fees import policy, selectors, services
from vardkontakt.fees.forms import RegisterForm, VerifyForm
from vardkontakt.identity.decorators import PatientRequest, StaffRequest, patient_required, staff_required


@patient_required
@require_GET
def high_cost(request: PatientRequest) -> HttpResponse:
    acting = acting_for(request)
    found = selectors.high_cost_for_reader(reader=request.patient, subject=acting.subject)
    return render(request, "fees/high_cost.html", {"found": found, "acting_self": acting.relation is Relation.SELF})


def _staff_door(request: StaffRequest) -> None:
    if not policy.may_handle_fees(request.staff):
        raise PermissionDenied


@staff_required
@require_http_methods(["GET", "POST"])
def verify(request: StaffRequest) -> HttpResponse:
    _staff_door(request)
    result = None
    form = VerifyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = selectors.frikort_verify(staff=request.staff, code=form.cleaned_data["code"])
        else:
            status = 400
    return render(request, "fees/verify.html", {"form": form, "result": result}, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def register(request: StaffRequest) -> HttpResponse:
    _staff_door(request)
    units = policy.units_of(request.staff)
    form = RegisterForm(request.POST or None, units=units, initial={"form_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = selectors.patient_for_fee_registration(personnummer=data["personnummer"])
        if patient is None:
            form.add_error("personnummer", _("Nobody with this personal identity number uses the e-services."))
        else:
            try:
                fee = services.fee_register_external(
                    staff=request.staff,
                    unit=data["unit"],
                    patient=patient,
                    day=data["date_of_care"],
                    amount=data["amount"],
                    provider=data["provider"],
                    reason=data["reason"],
                    counts=data["counts"],
                    form_key=data["form_key"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Registered: %(amount)s kronor paid, %(charged)s kronor counted toward the ceiling.")
                    % {"amount": fee.amount_before, "charged": fee.amount_charged if fee.counts else 0},
                )
                return redirect("fees:register")
    status = 400 if request.method == "POST" else 200
    return render(request, "fees/register.html", {"form": form}, status=status)
