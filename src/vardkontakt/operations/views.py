"""Operational messages (the region administrator's pages), the public support page and the
support role's account lookup."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.access import policy
from vardkontakt.access.forms import PersonnummerSearchForm
from vardkontakt.identity.decorators import StaffRequest, public, staff_required
from vardkontakt.operations import information, selectors, services
from vardkontakt.operations.forms import MessageForm
from vardkontakt.operations.models import InformationPage
from vardkontakt.operations.support import support_contacts, support_hours


@public
@require_GET
def support(request: HttpRequest) -> HttpResponse:
    audience = selectors.audience_of(request)
    return render(
        request,
        "operations/support.html",
        {
            "contacts": support_contacts(),
            "hours": support_hours(),
            "current": selectors.current_messages_for(request),
            "coming": selectors.coming_messages(audience=audience),
            # The page lists the messages itself; the banner above it would say the same twice.
            "hide_operations_banner": True,
        },
    )


@public
@require_GET
def information_page(request: HttpRequest, page: str) -> HttpResponse:
    """The footer's pages: accessibility statement, personal data and cookies, about the service."""
    if page not in InformationPage.values:
        raise Http404
    shown = information.region_for_reader(request)
    region = shown.region
    context = {
        "page": information.information_page(page=page, region=region),
        "region": region,
        "region_choices": shown.choices,
        "contacts": support_contacts(),
        "hours": support_hours(),
        "digg_report_url": information.DIGG_REPORT_URL,
        "cookies": _cookies(),
    }
    return render(request, "operations/information.html", context)


def _cookies() -> list[tuple[str, str]]:
    """The cookies the service sets (all needed for it to work), with what each is for."""
    return [
        (settings.SESSION_COOKIE_NAME, _("Keeps you logged in. Removed when you log out or close the browser.")),
        (settings.CSRF_COOKIE_NAME, _("Protects the forms you send against forgery.")),
        (settings.LANGUAGE_COOKIE_NAME, _("Remembers the language you chose.")),
    ]


@staff_required
@require_GET
def message_list(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=str(region_id))
    now = timezone.now()
    found = selectors.messages_of_region(region=region, now=now)
    sections = [
        (_("Shown now"), found.current, _("No message is shown now.")),
        (_("Coming"), found.coming, _("No message is planned.")),
        (_("Ended"), found.past, _("No message has ended yet.")),
    ]
    return render(request, "operations/message_list.html", {"region": region, "sections": sections, "now": now})


@staff_required
@require_http_methods(["GET", "POST"])
def message_create(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    region = selectors.region_for_admin(staff=me, region_id=str(region_id))
    form = MessageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.message_create(
            region=region, by=me, idempotency_key=form.cleaned_data["idempotency_key"], **form.content()
        )
        messages.success(request, _("The message is published."))
        return redirect("operations_staff:messages", region_id=region.id)
    return render(request, "operations/message_form.html", {"region": region, "form": form, "message": None})


@staff_required
@require_http_methods(["GET", "POST"])
def message_edit(request: StaffRequest, message_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    message = selectors.message_for_admin(staff=me, message_id=str(message_id))
    form = MessageForm(request.POST if request.method == "POST" else None, instance=message)
    if request.method == "POST" and form.is_valid():
        services.message_update(message=message, by=me, **form.content())
        messages.success(request, _("The message is saved."))
        return redirect("operations_staff:messages", region_id=message.region_id)
    return render(
        request,
        "operations/message_form.html",
        {"region": message.region, "form": form, "message": message, "is_current": selectors.is_current(message)},
    )


@staff_required
@require_POST
def message_end(request: StaffRequest, message_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    message = selectors.message_for_admin(staff=me, message_id=str(message_id))
    try:
        services.message_end(message=message, by=me)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("The message is no longer shown."))
    return redirect("operations_staff:messages", region_id=message.region_id)


@staff_required
@require_http_methods(["GET", "POST"])
def support_lookup(request: StaffRequest) -> HttpResponse:
    """Search by personnummer with POST, so the number stays out of URLs, logs and browser history."""
    me = request.staff
    if not policy.is_support(me):
        raise PermissionDenied
    form = PersonnummerSearchForm(request.POST if request.method == "POST" else None)
    found = None
    searched = False
    if request.method == "POST" and form.is_valid():
        searched = True
        found = selectors.account_for_support(staff=me, personnummer=form.cleaned_data["personnummer"])
    context = {
        "form": form,
        "found": found,
        "searched": searched,
        "login_retention_days": settings.LOGIN_RECORD_RETENTION_DAYS,
    }
    return render(request, "operations/support_lookup.html", context)
