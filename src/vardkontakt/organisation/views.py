"""Onboarding a unit: the unit's registration of interest (public) and the coordinator's pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.access.decorators import public, staff_required
from vardkontakt.identity.models import Staff
from vardkontakt.organisation import onboarding as steps
from vardkontakt.organisation import unit_admin as unit_admin_steps
from vardkontakt.organisation.forms import (
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


def _me(request: HttpRequest) -> Staff:
    return request.user.staff  # type: ignore[union-attr]


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
            return render(request, "organisation/interest_thanks.html")
    return render(request, "organisation/interest.html", {"form": form}, status=400 if form.errors else 200)


@staff_required
@require_GET
def onboarding_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    today = timezone.localdate()
    rows = [steps.progress(o, today) for o in steps.onboardings_for(me)]
    if not rows and not me.coordinated_administrations.exists():
        raise PermissionDenied
    return render(request, "organisation/onboarding_list.html", {"rows": rows, "target": steps.TARGET_DAYS})


FORMS: dict[str, Any] = {"meeting": MeetingForm, "appoint": AppointForm, "training": TrainingForm}


@staff_required
@require_http_methods(["GET", "POST"])
def onboarding_detail(request: HttpRequest, onboarding_id: uuid.UUID) -> HttpResponse:
    me = _me(request)
    onboarding = steps.onboarding_for_coordinator(staff=me, onboarding_id=onboarding_id)
    bound: dict[str, Any] = {}
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        form = FORMS[action](request.POST) if action in FORMS else None
        if form is not None:
            bound[action] = form
        try:
            if form is not None and not form.is_valid():
                raise ValidationError(_("Check the fields below."))
            data = form.cleaned_data if form is not None else {}
            if action == "meeting":
                steps.meeting_record(onboarding=onboarding, by=me, **data)
            elif action == "activate":
                steps.activate(onboarding=onboarding, by=me)
            elif action == "appoint":
                steps.administrator_appoint(onboarding=onboarding, by=me, staff=data["hsa_id"], trained_on=data["trained_on"])  # fmt: skip
            elif action == "training":
                steps.training_record(
                    onboarding=onboarding, by=me, training_id=request.POST.get("training", ""), **data
                )
            elif action == "live":
                steps.go_live(onboarding=onboarding, by=me)
            else:
                raise ValidationError(_("Choose a step."))
        except ValidationError as error:
            errors = list(error.messages)
        else:
            messages.success(request, _("Saved."))
            return redirect("organisation:onboarding", onboarding_id=onboarding.pk)
    context = {
        "onboarding": onboarding,
        "progress": steps.progress(onboarding, timezone.localdate()),
        "missing": steps.missing_for_live(onboarding) if onboarding.activated_on and not onboarding.live_on else [],
        "errors": errors,
        "meeting_form": bound.get("meeting") or MeetingForm(),
        "appoint_form": bound.get("appoint") or AppointForm(),
        "training_form": TrainingForm(),
        "max_administrators": steps.MAX_ADMINISTRATORS,
    }
    return render(request, "organisation/onboarding_detail.html", context, status=400 if errors else 200)


# --- Unit administration (issue 7 §2) ------------------------------------------------------------

ADMIN_FORMS: dict[str, Any] = {
    "contact": ContactForm,
    "exception_add": OpeningExceptionForm,
    "member_set": MemberForm,
    "news_publish": NewsForm,
}


@staff_required
@require_http_methods(["GET", "POST"])
def unit_admin(request: HttpRequest, unit_id: uuid.UUID) -> HttpResponse:
    me = _me(request)
    unit = unit_admin_steps.unit_for_admin(staff=me, unit_id=unit_id)
    bound: dict[str, Any] = {}
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        form_class = ADMIN_FORMS.get(action)
        form: Any = None
        if action == "contact":
            form = ContactForm(request.POST, instance=CareUnit.objects.get(pk=unit.pk))
        elif form_class is not None:
            form = form_class(request.POST)
        if form is not None:
            bound[action] = form
        try:
            if form is not None and not form.is_valid():
                raise ValidationError(_("Check the fields below."))
            data = form.cleaned_data if form is not None else {}
            if action == "contact":
                unit_admin_steps.contact_save(unit=unit, by=me, data=data)
            elif action == "exception_add":
                unit_admin_steps.exception_add(unit=unit, by=me, **data)
            elif action == "exception_remove":
                unit_admin_steps.exception_remove(
                    unit=unit, by=me, exception_id=_number(request.POST.get("exception", ""))
                )
            elif action == "member_set":
                unit_admin_steps.member_set(unit=unit, by=me, staff=data["hsa_id"], role=data["role"])
            elif action == "member_remove":
                unit_admin_steps.member_remove(unit=unit, by=me, staff_id=_uuid(request.POST.get("staff", "")))
            elif action == "news_publish":
                unit_admin_steps.news_publish(unit=unit, by=me, **data)
            elif action == "news_remove":
                unit_admin_steps.news_remove(unit=unit, news_id=_uuid(request.POST.get("news", "")))
            else:
                raise ValidationError(_("Choose a step."))
        except ValidationError as error:
            errors = list(error.messages)
        else:
            messages.success(request, _("Saved."))
            return redirect("organisation:unit_admin", unit_id=unit.pk)
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
    return render(request, "organisation/unit_admin.html", context, status=400 if errors else 200)


def _number(value: str) -> int:
    if not value.isdigit():
        raise Http404
    return int(value)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None
