"""The region administrators' pages: the region's administrations and units."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.regions import selectors, services
from vardkontakt.regions.forms import AdministrationForm, UnitForm

UNIT_FIELDS = UnitForm.Meta.fields


@staff_required
@require_GET
def overview(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    return render(request, "regions/overview.html", {"region": region})


@staff_required
@require_http_methods(["GET", "POST"])
def administrations(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    form = AdministrationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.administration_create(region=region, by=request.staff, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error)
        else:
            messages.success(request, _("The administration is added."))
            return redirect("regions:administrations", region_id=region.id)
    context = {"region": region, "form": form, "administrations": selectors.administrations_of(region)}
    return render(request, "regions/administrations.html", context, status=400 if form.errors else 200)


@staff_required
@require_GET
def units(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    query = request.GET.get("q", "")[:100]
    page = selectors.units_of(region, query=query, page=request.GET.get("page", 1))
    return render(request, "regions/units.html", {"region": region, "page": page, "query": query})


@staff_required
@require_http_methods(["GET", "POST"])
def unit_create(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    form = UnitForm(request.POST if request.method == "POST" else None, region=region)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in UNIT_FIELDS}
        unit = services.unit_create(region=region, by=request.staff, fields=fields)
        messages.success(request, _("%(unit)s is added. It goes live through onboarding.") % {"unit": unit.name})
        return redirect("regions:units", region_id=region.id)
    context = {"region": region, "form": form, "unit": None}
    return render(request, "regions/unit_form.html", context, status=400 if form.errors else 200)


@staff_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    unit = selectors.unit_for_region_admin(staff=request.staff, unit_id=unit_id)
    region = unit.administration.region
    form = UnitForm(request.POST if request.method == "POST" else None, instance=unit, region=region)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in UNIT_FIELDS}
        unit.refresh_from_db()  # the form wrote its values onto the instance; compare with what is stored
        services.unit_update(unit=unit, by=request.staff, fields=fields)
        messages.success(request, _("The unit is saved."))
        return redirect("regions:units", region_id=region.id)
    context = {"region": region, "form": form, "unit": unit}
    return render(request, "regions/unit_form.html", context, status=400 if form.errors else 200)
