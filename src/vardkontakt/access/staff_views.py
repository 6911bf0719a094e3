"""The staff side of access: a unit's log review, reopening seals, blocking guardians.

Searches by personnummer are POSTed, so numbers stay out of URLs, server logs and browser history;
a page that must come back to one child carries the child's opaque id instead."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vardkontakt.access import policy, selectors, services
from vardkontakt.access.forms import LogFilterForm, PersonnummerSearchForm, ReasonForm
from vardkontakt.identity.decorators import StaffRequest, recent_login_required_for_actions, staff_required
from vardkontakt.identity.models import Patient, Staff


@staff_required
@require_http_methods(["GET", "POST"])
def unit_log(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = selectors.unit_for_log_review(staff=me, unit_id=str(unit_id))
    form = LogFilterForm(request.POST if request.method == "POST" else None)
    entries = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        patient = Patient.objects.filter(personnummer=data["patient"]).first() if data["patient"] else None
        actor = Staff.objects.filter(hsa_id=data["staff"]).first() if data["staff"] else None
        unknown = (data["patient"] and patient is None) or (data["staff"] and actor is None)
        if not unknown:
            entries = list(
                selectors.unit_log_entries(
                    staff=me, unit=unit, patient=patient, actor_staff=actor, start=data["start"], end=data["end"]
                )[:500]
            )
        else:
            entries = []
    elif not form.is_bound:
        entries = list(
            selectors.unit_log_entries(staff=me, unit=unit, patient=None, actor_staff=None, start=None, end=None)[:100]
        )
    return render(request, "access/unit_log.html", {"unit": unit, "form": form, "entries": entries})


@staff_required
@require_http_methods(["GET", "POST"])
def seals(request: StaffRequest) -> HttpResponse:
    me = request.staff
    if not policy.is_archivist(me):
        raise PermissionDenied
    form = PersonnummerSearchForm(request.POST if request.method == "POST" else None)
    found = None
    searched = False
    if form.is_bound and form.is_valid():
        searched = True
        found = selectors.seal_for_archivist(staff=me, personnummer=form.cleaned_data["personnummer"])
    return render(
        request, "access/seals.html", {"form": form, "seal": found, "searched": searched, "reason_form": ReasonForm()}
    )


@staff_required
@recent_login_required_for_actions(back="access_staff:seals")
@require_POST
def seal_reopen(request: StaffRequest, seal_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    seal = selectors.seal_to_reopen(staff=me, seal_id=str(seal_id))
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.seal_reopen(seal=seal, archivist=me, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The record has been reopened. The reason is logged."))
            return redirect("access_staff:seals")
    return render(
        request,
        "access/seals.html",
        {"form": PersonnummerSearchForm(), "seal": seal, "searched": True, "reason_form": form},
        status=400,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def guardians(request: StaffRequest) -> HttpResponse:
    me = request.staff
    if not policy.administered_units(me):
        raise PermissionDenied
    form = PersonnummerSearchForm(request.POST if request.method == "POST" else None)
    relations = None
    child = _child_of(request.GET.get("child", "")) if request.method == "GET" else None
    number = form.cleaned_data["personnummer"] if form.is_bound and form.is_valid() else None
    if child is not None:
        number = child.personnummer
    if number is not None:
        found = selectors.guardianships_for_unit_admin(staff=me, child_personnummer=number)
        # One reason form per guardian, each with its own field ids.
        relations = [(relation, ReasonForm(prefix=relation.id.hex)) for relation in found]
    return render(request, "access/guardians.html", {"form": form, "relations": relations})


@staff_required
@recent_login_required_for_actions(back="access_staff:guardians")
@require_POST
def guardian_block(request: StaffRequest, guardianship_id: uuid.UUID, action: str) -> HttpResponse:
    me = request.staff
    guardianship = selectors.guardianship_for_unit_admin(staff=me, guardianship_id=str(guardianship_id))
    if action not in ("block", "unblock"):
        raise Http404
    if action == "unblock":
        services.guardianship_unblock(guardianship=guardianship, by=me)
        messages.success(request, _("The guardian can act for the child again."))
        return redirect(f"{_guardians_url()}?child={guardianship.child_id}")
    form = ReasonForm(request.POST, prefix=guardianship.id.hex)
    if form.is_valid():
        services.guardianship_block(guardianship=guardianship, by=me, reason=form.cleaned_data["reason"])
        messages.success(request, _("The guardian is blocked from acting for the child online."))
        return redirect(f"{_guardians_url()}?child={guardianship.child_id}")
    return render(
        request,
        "access/guardians.html",
        {"form": PersonnummerSearchForm(), "relations": [(guardianship, form)]},
        status=400,
    )


def _guardians_url() -> str:
    return reverse("access_staff:guardians")


def _child_of(value: str) -> Patient | None:
    """The child a guardians page comes back to, by its opaque id (never its personnummer)."""
    try:
        return Patient.objects.filter(pk=uuid.UUID(value)).first() if value else None
    except ValueError:
        return None
