"""The region administrators' pages: the region's administrations and units."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.identity.decorators import StaffRequest, recent_login_required_for_changes, staff_required
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Region
from vardkontakt.records.publishing import rules_of
from vardkontakt.regions import selectors, services
from vardkontakt.regions.forms import AdministrationForm, MembershipForm, RegionRoleForm, StaffAddForm, UnitForm

UNIT_FIELDS = UnitForm.Meta.fields


@staff_required
@require_GET
def overview(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    return render(request, "regions/overview.html", {"region": region})


@staff_required
@recent_login_required_for_changes
@require_http_methods(["GET", "POST"])
def administrations(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    action = request.POST.get("action", "add") if request.method == "POST" else ""
    form = AdministrationForm(request.POST if action == "add" else None)
    coordinator_error = ""
    if action == "add" and form.is_valid():
        try:
            services.administration_create(region=region, by=request.staff, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error)
        else:
            messages.success(request, _("The administration is added."))
            return redirect("regions:administrations", region_id=region.id)
    elif action in ("coordinator", "coordinator_remove"):
        administration = selectors.administration_of(region, request.POST.get("administration"))
        try:
            if action == "coordinator":
                services.coordinator_appoint(
                    administration=administration, hsa_id=request.POST.get("hsa_id", ""), by=request.staff
                )
            else:
                services.coordinator_remove(
                    administration=administration, staff_id=request.POST.get("staff"), by=request.staff
                )
        except ValidationError as error:
            coordinator_error = " ".join(error.messages)
        else:
            messages.success(request, _("The change is saved."))
            return redirect("regions:administrations", region_id=region.id)
    context = {
        "region": region,
        "form": form,
        "administrations": selectors.administrations_of(region),
        "coordinator_error": coordinator_error,
    }
    failed = bool(form.errors or coordinator_error)
    return render(request, "regions/administrations.html", context, status=400 if failed else 200)


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
    # A new unit starts flagged for a manual harm assessment when the region's rules say so.
    initial = {"needs_harm_assessment": rules_of(region).harm_assessment_for_new_units}
    form = UnitForm(request.POST if request.method == "POST" else None, region=region, initial=initial)
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


@staff_required
@require_GET
def staff_list(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    query = request.GET.get("q", "")[:100]
    page = selectors.staff_of(region, query=query, page=request.GET.get("page", 1))
    return render(request, "regions/staff_list.html", {"region": region, "page": page, "query": query})


@staff_required
@recent_login_required_for_changes
@require_http_methods(["GET", "POST"])
def staff_add(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    form = StaffAddForm(request.POST if request.method == "POST" else None, region=region)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.staff_add(region=region, by=request.staff, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(person)s is added.") % {"person": person.full_name})
            return redirect("regions:staff", region_id=region.id, staff_id=person.id)
    return render(
        request, "regions/staff_add.html", {"region": region, "form": form}, status=400 if form.errors else 200
    )


@staff_required
@recent_login_required_for_changes
@require_http_methods(["GET", "POST"])
def staff_detail(request: StaffRequest, region_id: uuid.UUID, staff_id: uuid.UUID) -> HttpResponse:
    """One person's places in the region; every change here needs a fresh login (step-up)."""
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    person = selectors.staff_for_region_admin(region=region, staff_id=staff_id)
    membership_form = MembershipForm(None, region=region, prefix="membership")
    role_form = RegionRoleForm(None, prefix="role")
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "membership":
                membership_form = MembershipForm(request.POST, region=region, prefix="membership")
                if membership_form.is_valid():
                    services.membership_set(by=request.staff, staff=person, **membership_form.cleaned_data)
                    return _saved(request, region, person)
            elif action == "membership_remove":
                unit = selectors.unit_for_region_admin(staff=request.staff, unit_id=_uuid(request.POST.get("unit")))
                services.membership_remove(unit=unit, staff=person, by=request.staff)
                return _saved(request, region, person)
            elif action == "role":
                role_form = RegionRoleForm(request.POST, prefix="role")
                if role_form.is_valid():
                    services.region_role_grant(region=region, staff=person, by=request.staff, **role_form.cleaned_data)
                    return _saved(request, region, person)
            elif action == "role_revoke":
                services.region_role_revoke(
                    region=region, staff=person, role=request.POST.get("role", ""), by=request.staff
                )
                return _saved(request, region, person)
            elif action == "end_access":
                services.staff_access_end(region=region, staff=person, by=request.staff)
                messages.success(request, _("%(person)s can no longer log in.") % {"person": person.full_name})
                return redirect("regions:staff_list", region_id=region.id)
            else:
                error = _("Choose what to change.")
        except ValidationError as refused:
            error = " ".join(refused.messages)
    context = {
        "region": region,
        "person": person,
        "membership_form": membership_form,
        "role_form": role_form,
        "error": error,
        **selectors.places_of(region, person),
    }
    failed = request.method == "POST"
    return render(request, "regions/staff_detail.html", context, status=400 if failed else 200)


def _saved(request: StaffRequest, region: Region, person: Staff) -> HttpResponse:
    messages.success(request, _("The change is saved."))
    return redirect("regions:staff", region_id=region.id, staff_id=person.id)


def _uuid(value: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None
