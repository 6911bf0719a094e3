"""The region administrator's rules page (issue 15 §2)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vardkontakt.identity.decorators import StaffRequest, recent_login_required_for_changes, staff_required
from vardkontakt.regions import rule_services, selectors
from vardkontakt.regions.rule_forms import RegionRulesForm


@staff_required
@recent_login_required_for_changes
@require_http_methods(["GET", "POST"])
def rules(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    initial = rule_services.rules_initial(region)
    form = RegionRulesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = rule_services.region_rules_update(region=region, by=request.staff, values=form.cleaned_data)
        messages.success(request, _("The region's rules are saved.") if changed else _("Nothing was changed."))
        return redirect("regions:rules", region_id=region.id)
    context = {"region": region, "form": form}
    return render(request, "regions/rules.html", context, status=400 if form.errors else 200)
