"""The kiosk's pages (no login: the device's cookie is the door, the person's short visit its own
cookie) and the unit administrator's page of the unit's kiosks."""

from __future__ import annotations

import uuid
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.booking import checkin
from vardkontakt.identity.decorators import StaffRequest, public, staff_required
from vardkontakt.identity.oidc import Side, VerifiedLogin, start_login_for
from vardkontakt.kiosk import selectors, services
from vardkontakt.kiosk.forms import DeviceForm, IdentifyForm
from vardkontakt.kiosk.models import VISIT_SECONDS
from vardkontakt.kiosk.selectors import DEVICE_COOKIE, VISIT_COOKIE

DEVICE_COOKIE_SECONDS = 5 * 365 * 24 * 3600  # until revoked; a registered kiosk is not re-registered yearly
IDLE_SECONDS = 60  # the page goes back to the start after this long without a touch
RECEIPT_SECONDS = 15  # the check-in receipt stays this long, then the start again


def _start_url(unit_id: uuid.UUID) -> str:
    return reverse("kiosk:start", kwargs={"unit_id": unit_id})


def _set_cookie(response: HttpResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/kiosk/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _pay_url(fee_id: uuid.UUID | None) -> str:
    if fee_id is None:
        return ""
    try:
        return reverse("payments:pay_fee", kwargs={"fee_id": fee_id})
    except NoReverseMatch:
        return ""


def _qr_svg(url: str) -> str:
    """The login start link as an inline SVG QR code (no script, no image request)."""
    return str(segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff", omitsize=False))


# --- registering a device ------------------------------------------------------------------------


@public
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, code: str) -> HttpResponse:
    """Opened on the device itself: GET asks, POST registers it and sets its cookie (only here)."""
    if request.method == "POST":
        device, token = services.kiosk_device_register(code=code)
        response = redirect(_start_url(device.unit_id))
        _set_cookie(response, DEVICE_COOKIE, token, DEVICE_COOKIE_SECONDS)
        return response
    waiting = services.device_for_code(code)
    if waiting is None:
        raise Http404
    return render(request, "kiosk/register.html", {"device": waiting})


# --- the kiosk -------------------------------------------------------------------------------------


def _kiosk(
    request: HttpRequest, template: str, device: Any, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {
        "device": device,
        "unit": device.unit,
        "idle_seconds": IDLE_SECONDS,
        "done_url": reverse("kiosk:done", kwargs={"unit_id": device.unit_id}),
        **context,
    }
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@public
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, unit_id: uuid.UUID) -> HttpResponse:
    """The start: mobile BankID (a QR code) or personnummer and the time of the appointment."""
    device = selectors.device_of(request, unit_id)
    form = IdentifyForm(request.POST or None)
    status = 200
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            _visit, token = services.kiosk_identify(
                device=device, personnummer=form.cleaned_data["personnummer"], time=form.cleaned_data["time"]
            )
        except services.Unidentified as unidentified:
            status = 400
            error = "wait" if unidentified.wait else "unknown"
        else:
            onward = redirect("kiosk:bookings", unit_id=unit_id)
            _set_cookie(onward, VISIT_COOKIE, token, VISIT_SECONDS)
            return onward
    elif request.method == "POST":
        status = 400
    login, secret = services.kiosk_login_begin(device=device)
    bankid_url = request.build_absolute_uri(reverse("kiosk:bankid_start", kwargs={"secret": secret}))
    context = {
        "form": form,
        "error": error,
        "qr": _qr_svg(bankid_url),
        "bankid_url": bankid_url,
        "poll_url": reverse("kiosk:bankid_poll", kwargs={"unit_id": unit_id, "login_id": login.pk}),
        "reset": False,
    }
    response = _kiosk(request, "kiosk/start.html", device, context, status=status)
    response.delete_cookie(VISIT_COOKIE, path="/kiosk/")
    return response


@public
@require_http_methods(["GET", "POST"])
def bookings(request: HttpRequest, unit_id: uuid.UUID) -> HttpResponse:
    """The person's bookings today at the unit (GET), and checking in for one (POST)."""
    device = selectors.device_of(request, unit_id)
    visit = selectors.visit_of(request, device)
    if visit is None:
        return redirect("kiosk:start", unit_id=unit_id)
    message = ""
    if request.method == "POST":
        try:
            done = services.kiosk_check_in(visit=visit, booking_id=_uuid_or_404(request.POST.get("booking", "")))
        except checkin.CheckInRefused as refused:
            message = str(refused)
        else:
            paid = checkin.receipt_of(done.arrival.booking, done.arrival)
            context = {"arrival": done.arrival, "paid": paid, "pay_url": _pay_url(paid.fee_id), "reset": True}
            response = _kiosk(request, "kiosk/done.html", device, {**context, "idle_seconds": RECEIPT_SECONDS})
            response.delete_cookie(VISIT_COOKIE, path="/kiosk/")
            return response
    found = selectors.bookings_for_visit(visit)
    context = {"visit": visit, "bookings": found, "message": message, "reset": True}
    return _kiosk(request, "kiosk/bookings.html", device, context, status=400 if message else 200)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value[:40])
    except ValueError:
        raise Http404 from None


@public
@require_POST
def done(request: HttpRequest, unit_id: uuid.UUID) -> HttpResponse:
    """The reset ("Klar", or the idle script): the person's visit ends and the start shows again."""
    device = selectors.device_of(request, unit_id)
    visit = selectors.visit_of(request, device)
    if visit is not None:
        services.kiosk_visit_end(visit=visit)
    response = redirect("kiosk:start", unit_id=unit_id)
    response.delete_cookie(VISIT_COOKIE, path="/kiosk/")
    return response


@public
@require_GET
def bankid_poll(request: HttpRequest, unit_id: uuid.UUID, login_id: uuid.UUID) -> HttpResponse:
    """Asked by the kiosk's page every two seconds: has the person finished the BankID login on
    their phone? Then their visit begins here."""
    device = selectors.device_of(request, unit_id)
    taken = services.kiosk_login_take(device=device, login_id=login_id)
    if taken is None:
        return JsonResponse({"done": False})
    _visit, token = taken
    response = JsonResponse({"done": True, "next": reverse("kiosk:bookings", kwargs={"unit_id": unit_id})})
    _set_cookie(response, VISIT_COOKIE, token, VISIT_SECONDS)
    return response


@public
@require_GET
def bankid_start(request: HttpRequest, secret: str) -> HttpResponse:
    """The QR code's link, opened on the person's phone: the usual e-ID login, for the kiosk."""
    login = services.kiosk_login_for_secret(secret)
    if login is None:
        raise Http404
    return start_login_for(request, Side.RESIDENT, purpose="kiosk", value=str(login.pk))


def bankid_done(request: HttpRequest, verified: VerifiedLogin, value: str) -> HttpResponse:
    """The login's purpose handler (identity.oidc): the person is known to the kiosk; on the phone
    nobody is logged in, and the session that carried the login's state is emptied."""
    patient = getattr(verified.user, "patient", None)
    completed = patient is not None and services.kiosk_login_complete(login_id=uuid.UUID(value), patient=patient)
    request.session.flush()
    return render(request, "kiosk/phone_done.html", {"completed": completed}, status=200 if completed else 410)


# --- the unit administrator's kiosks -------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def devices(request: StaffRequest, unit_id: uuid.UUID) -> HttpResponse:
    """The unit's kiosks; a new one gives its one-time registration link, shown once."""
    me = request.staff
    unit = selectors.unit_for_admin(staff=me, unit_id=unit_id)
    form = DeviceForm(request.POST or None, initial={"form_key": uuid.uuid4().hex})
    made = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                made = services.kiosk_device_create(
                    staff=me, unit=unit, name=form.cleaned_data["name"], form_key=form.cleaned_data["form_key"]
                )
            except ValidationError as error:
                form.add_error("name", error)
                status = 400
            else:
                form = DeviceForm(initial={"form_key": uuid.uuid4().hex})
        else:
            status = 400
    context: dict[str, Any] = {"unit": unit, "devices": selectors.devices_of(unit), "form": form}
    if made is not None:
        context["made"] = made.device
        context["link"] = request.build_absolute_uri(reverse("kiosk:register", kwargs={"code": made.code}))
    response = render(request, "kiosk/devices.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_POST
def revoke(request: StaffRequest, unit_id: uuid.UUID, device_id: uuid.UUID) -> HttpResponse:
    me = request.staff
    unit = selectors.unit_for_admin(staff=me, unit_id=unit_id)
    device = selectors.device_to_revoke(unit=unit, device_id=device_id)
    services.kiosk_device_revoke(staff=me, device=device)
    text = _("The kiosk “%(name)s” no longer works. Register a new one to use the device again.")
    messages.success(request, text % {"name": device.name})
    return redirect("kiosk_staff:devices", unit_id=unit.pk)
