"""The region administrator's fees page (issue 19 §1): the schedule in force today, the changes to
come, a new change from a later day, and the region's fee rules. Thin: the reads are
``fees.rules``', the writes ``fees.services``' (audited there)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vardkontakt.access.audit import Actor
from vardkontakt.fees import rules as fee_rules
from vardkontakt.fees import services as fee_services
from vardkontakt.identity.decorators import StaffRequest, recent_login_required_for_changes, staff_required
from vardkontakt.regions import selectors
from vardkontakt.regions.fee_forms import FeeChangeForm, FeeRulesForm

CHANGE, RULES = "change", "rules"


@staff_required
@recent_login_required_for_changes
@require_http_methods(["GET", "POST"])
def fees(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    today = timezone.localdate()
    current = fee_rules.rules_of(region)
    initial_rules = {name: getattr(current, name) for name in fee_services.RULE_FIELDS}
    action = request.POST.get("action") if request.method == "POST" else None
    change_form = FeeChangeForm(request.POST if action == CHANGE else None, today=today, initial={"counts": True})
    rules_form = FeeRulesForm(request.POST if action == RULES else None, initial=initial_rules)
    actor = Actor.of_staff(request.staff)
    status = 200
    if action == CHANGE:
        if change_form.is_valid():
            data = change_form.cleaned_data
            try:
                fee_services.fee_schedule_set(
                    actor=actor,
                    region=region,
                    kind=data["kind"],
                    unit_kind=data["unit_kind"],
                    amount=data["amount"],
                    counts=data["counts"],
                    effective_from=data["effective_from"],
                    today=today,
                )
            except ValidationError as error:
                change_form.add_error(None, error)
            else:
                messages.success(request, _("The fee change is saved."))
                return redirect("regions:fees", region_id=region.id)
        status = 400
    elif action == RULES:
        if rules_form.is_valid():
            changed = fee_services.fee_rules_update(actor=actor, region=region, values=rules_form.cleaned_data)
            messages.success(request, _("The fee rules are saved.") if changed else _("Nothing was changed."))
            return redirect("regions:fees", region_id=region.id)
        status = 400
    elif request.method == "POST":
        status = 400
    context = {
        "region": region,
        "today": today,
        "schedule": fee_rules.schedule_of(region, today),
        "change_form": change_form,
        "rules_form": rules_form,
    }
    return render(request, "regions/fees.html", context, status=status)
