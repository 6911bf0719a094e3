from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from requests import RequestException

from vardkontakt.core.ratelimit import Limit, client_address, register, retry_after
from vardkontakt.identity.decorators import (
    PatientRequest,
    StaffRequest,
    patient_required,
    public,
    recent_login_required_for_changes,
    staff_required,
)
from vardkontakt.identity.forms import PatientSettingsForm, StaffSettingsForm
from vardkontakt.identity.middleware import mark_login
from vardkontakt.identity.oidc import (
    REFUSAL_MESSAGES,
    LoginRefused,
    Side,
    check_fresh,
    complete_login,
    purpose_of,
    start_login,
)
from vardkontakt.identity.signals import login_completed, login_refused

logger = logging.getLogger(__name__)
NEXT_KEY = "vk_login_next"
PROVIDER_UNREACHABLE = gettext_lazy("The e-ID service cannot be reached right now. Please try again in a few minutes.")
TOO_MANY_LOGINS = gettext_lazy(
    "Too many logins have been started from your connection. Wait %(minutes)d minutes and try again."
)


def _side(value: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise Http404 from None


@public
@require_GET
def login_choice(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/login_choice.html", {"next": request.GET.get("next", "")})


@public
@require_GET
def login_start(request: HttpRequest, side: str) -> HttpResponse:
    chosen = _side(side)
    limit, address = Limit.named("login_start"), client_address(request)
    wait = retry_after(limit, address) or register(limit, address)
    if wait:
        response = render(
            request,
            "identity/login_refused.html",
            {"message": TOO_MANY_LOGINS % {"minutes": max(1, -(-wait // 60))}, "reason": "rate", "side": str(chosen)},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if not request.user.is_authenticated:
        # A login never finished leaves a session row: it lasts minutes, not the session's hours.
        request.session.set_expiry(settings.LOGIN_PENDING_SESSION_SECONDS)
    next_url = request.GET.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        request.session[NEXT_KEY] = next_url
    else:
        request.session.pop(NEXT_KEY, None)
    try:
        return start_login(request, chosen, step_up=request.GET.get("stepup") == "1")
    except RequestException as exc:
        logger.error("identity provider unreachable side=%s: %r", chosen, exc)
        return render(
            request,
            "identity/login_refused.html",
            {"message": PROVIDER_UNREACHABLE, "reason": "unreachable", "side": str(chosen)},
            status=503,
        )


@public
@require_GET
def oidc_callback(request: HttpRequest, side: str) -> HttpResponse:
    chosen = _side(side)
    try:
        verified = complete_login(request, chosen)
        check_fresh(request, verified)
    except LoginRefused as refusal:
        logger.warning("login refused side=%s reason=%s detail=%s", chosen, refusal.reason, refusal.detail)
        if refusal.subject:
            # Support can then tell a person why their login failed (operations.LoginRecord).
            login_refused.send(
                sender=Side, side=chosen, subject=refusal.subject, reason=refusal.reason, acr=refusal.acr
            )
        return render(
            request,
            "identity/login_refused.html",
            {"message": REFUSAL_MESSAGES[refusal.reason], "reason": str(refusal.reason), "side": str(chosen)},
            status=403,
        )
    purpose = purpose_of(request)
    if purpose is not None:  # e.g. a kiosk's BankID QR code: the person is known, nobody logged in here
        handler, value = purpose
        return handler(request, verified, value)
    next_url = request.session.pop(NEXT_KEY, "")
    # login() gives the session a new id, so an id planted before login is worthless after it.
    login(request, verified.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session.set_expiry(None)  # the platform's session limits from here, not the login's minutes
    mark_login(request, authenticated_at=verified.auth_time)
    request.session["vk_acr"] = verified.acr
    login_completed.send(sender=Side, user=verified.user, acr=verified.acr)
    if verified.user.is_staff_member and verified.user.staff.settings_confirmed_at is None:
        messages.info(request, _("Welcome! Start by choosing how you want to be notified and your signature."))
        return redirect("identity:staff_settings")
    if next_url:
        return redirect(next_url)
    return redirect("home:home")


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the server-side session
    messages.success(request, _("You are logged out."))
    return redirect("home:start")


@patient_required
@recent_login_required_for_changes
@require_http_methods(["GET", "POST"])
def patient_settings(request: PatientRequest) -> HttpResponse:
    patient = request.patient
    # One's own contact details, never changed under a banner naming someone one acts for. The
    # acting-for choice is resolved by the access layer's middleware (read here without importing it).
    resolve = getattr(request, "acting_resolved", None)
    acting = resolve() if resolve is not None else None
    if acting is not None and acting.subject.pk != patient.pk:
        return render(
            request,
            "includes/own_account_only.html",
            {"what": _("Contact details and notifications"), "subject": acting.subject},
            status=403 if request.method == "POST" else 200,
        )
    data = request.POST if request.method == "POST" else getattr(request, "stepup_stash", None)
    form = PatientSettingsForm(data, instance=patient)
    if request.method == "POST" and form.is_valid():
        patient = form.save(commit=False)
        patient.save(update_fields=[*form.Meta.fields, "updated_at"])
        messages.success(request, _("Your settings are saved."))
        return redirect("identity:patient_settings")
    return render(request, "identity/patient_settings.html", {"form": form, "patient": patient})


@staff_required
@require_http_methods(["GET", "POST"])
def staff_settings(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    form = StaffSettingsForm(request.POST if request.method == "POST" else None, instance=staff)
    if request.method == "POST" and form.is_valid():
        staff = form.save(commit=False)
        staff.settings_confirmed_at = staff.settings_confirmed_at or timezone.now()
        staff.save(update_fields=[*form.Meta.fields, "settings_confirmed_at", "updated_at"])
        messages.success(request, _("Your settings are saved."))
        return redirect("identity:staff_settings")
    return render(request, "identity/staff_settings.html", {"form": form, "staff": staff})
