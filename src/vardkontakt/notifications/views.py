"""The resident's push notifications: the devices they turned them on for (part of their contact
settings). Their own settings only, so nothing here is logged (docs/architecture.md)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vardkontakt.identity.decorators import PatientRequest, login_is_recent, patient_required, recent_login_required
from vardkontakt.notifications import webpush
from vardkontakt.notifications.forms import PushSubscriptionForm, device_label
from vardkontakt.notifications.selectors import push_devices
from vardkontakt.notifications.services import push_subscription_remove, push_subscription_save

MAX_BODY = 4096  # a PushSubscription's JSON is a few hundred bytes


def _acting_for_someone_else(request: PatientRequest) -> HttpResponse | None:
    """One's own devices are never changed under a banner naming someone one acts for (as the
    contact settings; the acting-for choice is resolved by the access layer's middleware)."""
    resolve = getattr(request, "acting_resolved", None)
    acting = resolve() if resolve is not None else None
    if acting is None or acting.subject.pk == request.patient.pk:
        return None
    return render(
        request,
        "includes/own_account_only.html",
        {"what": _("Push notifications"), "subject": acting.subject},
        status=403 if request.method == "POST" else 200,
    )


@patient_required
@recent_login_required  # as the contact settings' changes: a session left open adds no device
@require_GET
def push_settings(request: PatientRequest) -> HttpResponse:
    if refused := _acting_for_someone_else(request):
        return refused
    return render(
        request,
        "notifications/push_settings.html",
        {"devices": push_devices(patient=request.patient), "public_key": webpush.application_server_key()},
    )


@patient_required
@require_POST
def push_subscribe(request: PatientRequest) -> JsonResponse:
    """Called by the page with the browser's subscription (JSON); subscribing again changes nothing."""
    if _acting_for_someone_else(request):
        return JsonResponse({"error": _("This page is about your own account.")}, status=403)
    if not webpush.application_server_key():
        return JsonResponse({"error": _("Push notifications are not offered here.")}, status=400)
    if not login_is_recent(request):
        error = _("Log in again to turn on push notifications: reload the page.")
        return JsonResponse({"error": error}, status=401)
    try:
        sent = json.loads(request.body[:MAX_BODY]) if len(request.body) <= MAX_BODY else None
    except ValueError:
        sent = None
    if not isinstance(sent, dict) or not isinstance(sent.get("keys"), dict):
        return JsonResponse({"error": _("The browser sent no subscription.")}, status=400)
    keys = sent["keys"]
    form = PushSubscriptionForm(
        {"endpoint": sent.get("endpoint"), "p256dh": keys.get("p256dh"), "auth": keys.get("auth")}
    )
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return JsonResponse({"error": first}, status=400)
    device = push_subscription_save(
        patient=request.patient,
        endpoint=form.cleaned_data["endpoint"],
        p256dh=form.cleaned_data["p256dh"],
        auth=form.cleaned_data["auth"],
        label=device_label(request.headers.get("User-Agent", "")),
    )
    return JsonResponse({"id": str(device.id)}, status=201)


@patient_required
@require_POST
def push_remove(request: PatientRequest, subscription_id: str) -> HttpResponse:
    if refused := _acting_for_someone_else(request):
        return refused
    push_subscription_remove(patient=request.patient, subscription_id=subscription_id)
    messages.success(request, _("Push notifications are turned off for that device."))
    return redirect("notifications:push")
