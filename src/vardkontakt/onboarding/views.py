"""Onboarding a unit: the unit's registration of interest (public) and the coordinator's pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.identity.decorators import StaffRequest, public, recent_login_required_for_actions, staff_required
from vardkontakt.onboarding import selectors
from vardkontakt.onboarding import services as steps
from vardkontakt.onboarding import unit_admin as unit_admin_steps
from vardkontakt.onboarding.forms import (
    AppointForm,
    ContactForm,
    InterestForm,
    MeetingForm,
    MemberForm,
    NewsForm,
    OpeningExceptionForm,
    TrainingForm,
)
from vardkontakt.organisation.models import CareUnit, MembershipRole
from vardkontakt.organisation.progress import TARGET_DAYS, progress


@public
@require_http_methods(["GET", "POST"])
def interest(request: HttpRequest) -> HttpResponse:
    form = InterestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            steps.interest_register(data=form.cleaned_data)
        except ValidationError as error:
            form.add_error("hsa_id", error)
        else:
            return render(request, "onboarding/interest_thanks.html")
    return render(request, "onboarding/interest.html", {"form": form}, status=400 if form.errors else 200)


@staff_required
@require_GET
def onboarding_list(request: StaffRequest) -> HttpResponse:
    me = request.staff
    today = timezone.localdate()
    rows = [progress(o, today) for o in selectors.onboardings_for_coordinator(staff=me)]
    return render(request, "onboarding/onboarding_list.html", {"rows": rows, "target": TARGET_DAYS})


@dataclass
class StepResult:
    """What a posted step left: the bound form (to show its errors), the errors, whether it was taken."""

    bound: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    taken: bool = False


def _take_step(
    request: HttpRequest, forms: dict[str, Callable[[Any], Any]], actions: dict[str, Callable[[dict[str, Any]], Any]]
) -> StepResult:
    """One POSTed step of a page of steps: its form (if it has one) checked, then its service
    called; a refusal from either is shown and nothing is saved."""
    result = StepResult()
    if request.method != "POST":
        return result
    action = request.POST.get("action", "")
    form = forms[action](request.POST) if action in forms else None
    if form is not None:
        result.bound[action] = form
    try:
        if action not in actions:
            raise ValidationError(_("Choose a step."))
        if form is not None and not form.is_valid():
            raise ValidationError(_("Check the fields below."))
        actions[action](form.cleaned_data if form is not None else {})
    except ValidationError as error:
        result.errors = list(error.messages)
    else:
        result.taken = True
        messages.success(request, _("Saved."))
    return result


@staff_required
@recent_login_required_for_actions("appoint")
@require_http_methods(["GET", "POST"])
def onboarding_detail(request: StaffRequest, onboarding_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    onboarding = selectors.onboarding_for_coordinator(staff=me, onboarding_id=onboarding_id)
    step = _take_step(
        request,
        {"meeting": MeetingForm, "appoint": AppointForm, "training": TrainingForm},
        {
            "meeting": lambda data: steps.meeting_record(onboarding=onboarding, by=me, **data),
            "activate": lambda data: steps.onboarding_activate(onboarding=onboarding, by=me),
            "appoint": lambda data: steps.administrator_appoint(
                onboarding=onboarding, by=me, staff=data["hsa_id"], trained_on=data["trained_on"]
            ),
            "training": lambda data: steps.training_record(
                onboarding=onboarding, by=me, training_id=request.POST.get("training", ""), **data
            ),
            "live": lambda data: steps.onboarding_go_live(onboarding=onboarding, by=me),
        },
    )
    if step.taken:
        return redirect("onboarding:onboarding", onboarding_id=onboarding.pk)
    bound, errors = step.bound, step.errors
    context = {
        "onboarding": onboarding,
        "progress": progress(onboarding, timezone.localdate()),
        "missing": selectors.missing_for_live(onboarding) if onboarding.activated_on and not onboarding.live_on else [],
        "errors": errors,
        "meeting_form": bound.get("meeting") or MeetingForm(),
        "appoint_form": bound.get("appoint") or AppointForm(),
        # The training dates are one small form per administrator: the one that was sent shows its error.
        "training_form": bound.get("training") or TrainingForm(),
        "training_sent": request.POST.get("training", "") if "training" in bound else "",
        "max_administrators": steps.MAX_ADMINISTRATORS,
    }
    return render(request, "onboarding/onboarding_detail.html", context, status=400 if errors else 200)


# --- Unit administration (issue 7 §2) ------------------------------------------------------------


@staff_required
@recent_login_required_for_actions("member_set", "member_remove")
@require_http_methods(["GET", "POST"])
def unit_admin(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = selectors.unit_for_admin(staff=me, unit_id=unit_id)
    step = _take_step(
        request,
        {
            "contact": lambda posted: ContactForm(posted, instance=CareUnit.objects.get(pk=unit.pk)),
            "exception_add": OpeningExceptionForm,
            "member_set": MemberForm,
            "news_publish": NewsForm,
        },
        {
            "contact": lambda data: unit_admin_steps.unit_contact_save(unit=unit, by=me, data=data),
            "exception_add": lambda data: unit_admin_steps.opening_exception_add(unit=unit, by=me, **data),
            "exception_remove": lambda data: unit_admin_steps.opening_exception_remove(
                unit=unit, by=me, exception_id=_number(request.POST.get("exception", ""))
            ),
            "member_set": lambda data: unit_admin_steps.unit_member_set(
                unit=unit, by=me, staff=data["hsa_id"], role=data["role"]
            ),
            "member_remove": lambda data: unit_admin_steps.unit_member_remove(
                unit=unit, by=me, staff_id=_uuid(request.POST.get("staff", ""))
            ),
            "news_publish": lambda data: unit_admin_steps.unit_news_publish(unit=unit, by=me, **data),
            "news_remove": lambda data: unit_admin_steps.unit_news_remove(
                unit=unit, by=me, news_id=_uuid(request.POST.get("news", ""))
            ),
        },
    )
    if step.taken:
        return redirect("onboarding:unit_admin", unit_id=unit.pk)
    bound, errors = step.bound, step.errors
    context = {
        "unit": unit,
        "errors": errors,
        "contact_form": bound.get("contact") or ContactForm(instance=unit),
        "exception_form": bound.get("exception_add") or OpeningExceptionForm(),
        "member_form": bound.get("member_set") or MemberForm(),
        "news_form": bound.get("news_publish") or NewsForm(),
        "exceptions": unit.opening_exceptions.filter(day__gte=timezone.localdate()),
        "members": unit.memberships.select_related("staff").order_by("staff__family_name", "staff__given_name"),
        "news": unit.news.select_related("author")[:20],
        "roles": MembershipRole.choices,
    }
    return render(request, "onboarding/unit_admin.html", context, status=400 if errors else 200)


def _number(value: str) -> int:
    if not value.isdigit():
        raise Http404
    return int(value)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None
