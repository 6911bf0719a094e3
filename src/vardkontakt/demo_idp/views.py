"""The demo identity provider's endpoints: discovery, JWKS, authorize (the person chooser), token.

Only installed with VK_DEMO=true. Its person chooser deliberately keeps no state in the platform's
login session: the authorization request travels signed in the form itself.

Like a real provider it keeps a single sign-on session of its own (a signed cookie under its own
path, per tenant): an authorization request without ``prompt=login``, and within ``max_age`` when
one is given, completes without asking again, with the original ``auth_time``. ``prompt=login``
or an older authentication than ``max_age`` allows shows the chooser again; ``prompt=none``
without a session answers ``login_required``.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import unquote_plus, urlencode

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.core.ratelimit import Limit, client_address, register, retry_after
from vardkontakt.demo_idp import protocol
from vardkontakt.demo_idp.forms import ChooserForm
from vardkontakt.demo_idp.keys import signing_key
from vardkontakt.identity.decorators import public

_REQUEST_SALT = "vardkontakt.demo_idp.authorize"
_REQUEST_MAX_AGE = 600
_AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "acr_values",
    "ui_locales",
    "prompt",
    "max_age",
)
_SSO_SALT = "vardkontakt.demo_idp.sso"
_SSO_COOKIE = "vk_demo_idp_sso"
_SSO_LIFETIME = 8 * 3600


def _tenant(tenant: str) -> str:
    if tenant not in protocol.TENANT_SIDE:
        raise Http404
    return tenant


def _throttled(request: HttpRequest) -> int:
    """Seconds the address must wait: the chooser and the token endpoint are limited per address."""
    limit, address = Limit.named("demo_idp"), client_address(request)
    return retry_after(limit, address) or register(limit, address)


@public
@require_GET
def root(request: HttpRequest, tenant: str) -> HttpResponse:
    return JsonResponse(protocol.metadata(_tenant(tenant)))


@public
@require_GET
def discovery(request: HttpRequest, tenant: str) -> JsonResponse:
    return JsonResponse(protocol.metadata(_tenant(tenant)))


@public
@require_GET
def jwks(request: HttpRequest, tenant: str) -> JsonResponse:
    _tenant(tenant)
    public_key = signing_key().as_dict(private=False)
    public_key.update({"use": "sig", "alg": "RS256"})
    return JsonResponse({"keys": [public_key]})


def _error(request: HttpRequest, description: str) -> HttpResponse:
    context = {"description": description, "site_url": settings.SITE_URL}
    return render(request, "demo_idp/error.html", context, status=400)


def _sso_session(request: HttpRequest, tenant: str) -> dict[str, Any] | None:
    try:
        session: dict[str, Any] = signing.loads(
            request.COOKIES.get(_SSO_COOKIE, ""), salt=f"{_SSO_SALT}.{tenant}", max_age=_SSO_LIFETIME
        )
    except signing.BadSignature:
        return None
    return session


def _silent_ok(params: dict[str, str], session: dict[str, Any] | None) -> bool:
    """Whether the single sign-on session may answer without asking the person again."""
    if session is None or "login" in params.get("prompt", "").split():
        return False
    max_age = params.get("max_age", "")
    if max_age:
        if not max_age.isdigit():
            return False
        return time.time() - int(session["auth_time"]) <= int(max_age)
    return True


def _issue(client: protocol.Client, tenant: str, params: dict[str, str], claims: dict[str, Any]) -> HttpResponse:
    code = protocol.issue_code(client=client, params=params, claims=claims)
    query = urlencode({"code": code, "state": params["state"], "iss": protocol.issuer(tenant)})
    return HttpResponseRedirect(f"{client.redirect_uri}?{query}")


def _redirect_error(client: protocol.Client, state: str, error: str, description: str) -> HttpResponse:
    query = urlencode({"error": error, "error_description": description, "state": state})
    return HttpResponseRedirect(f"{client.redirect_uri}?{query}")


@public
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest, tenant: str) -> HttpResponse:
    tenant = _tenant(tenant)
    if wait := _throttled(request):
        response = render(
            request,
            "demo_idp/error.html",
            {"description": "Too many requests.", "site_url": settings.SITE_URL},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if request.method == "GET":
        params = {name: request.GET.get(name, "") for name in _AUTHORIZE_PARAMS}
    else:
        try:
            params = signing.loads(request.POST.get("request", ""), salt=_REQUEST_SALT, max_age=_REQUEST_MAX_AGE)
        except signing.BadSignature:
            return _error(request, "The login request expired.")
    try:
        client = protocol.validate_authorization_request(tenant, params)
    except protocol.ProtocolError as exc:
        # Never redirect to an unverified redirect_uri: show the error here instead.
        return _error(request, exc.description)
    session = _sso_session(request, tenant)
    if request.method == "GET":
        if session is not None and _silent_ok(params, session):
            return _issue(client, tenant, params, session)
        if "none" in params.get("prompt", "").split():
            return _redirect_error(client, params["state"], "login_required", "The user must log in.")
    form = ChooserForm(
        request.POST if request.method == "POST" else None,
        tenant=tenant,
        required_acr=settings.OIDC_REQUIRED_ACR,
        initial={"person": session["identity"]} if session and request.method == "GET" else None,
    )
    if request.method == "POST":
        if "cancel" in request.POST:
            return _redirect_error(client, params["state"], "access_denied", "The user cancelled the login.")
        if form.is_valid():
            # The person authenticated now: this is the auth_time the ID token carries.
            claims = {
                "identity": form.cleaned_data["identity"],
                "token_claims": form.token_claims(client.subject_claim),
                "auth_time": int(time.time()),
            }
            response = _issue(client, tenant, params, claims)
            response.set_cookie(
                _SSO_COOKIE,
                signing.dumps(claims, salt=f"{_SSO_SALT}.{tenant}"),
                max_age=_SSO_LIFETIME,
                path=reverse("demo_idp:root", kwargs={"tenant": tenant}),
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
            return response
    signed_request = signing.dumps(params, salt=_REQUEST_SALT)
    return render(
        request,
        "demo_idp/chooser.html",
        {"form": form, "tenant": tenant, "signed_request": signed_request, "is_staff": tenant == "siths"},
    )


def _basic_auth(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


# The token endpoint is called server to server by the relying party and authenticated by the
# client secret (RFC 6749 §3.2); a browser CSRF token does not exist in that exchange.
@public
@csrf_exempt
@require_POST
def token(request: HttpRequest, tenant: str) -> JsonResponse:
    tenant = _tenant(tenant)
    if wait := _throttled(request):
        refused = JsonResponse({"error": "slow_down", "error_description": "Too many requests."}, status=429)
        refused["Retry-After"] = str(wait)
        return refused
    try:
        body = protocol.exchange_code(tenant, basic=_basic_auth(request), form=request.POST.dict())
    except protocol.ProtocolError as exc:
        status = 401 if exc.error == "invalid_client" else 400
        return JsonResponse({"error": exc.error, "error_description": exc.description}, status=status)
    response = JsonResponse(body)
    response["Pragma"] = "no-cache"
    return response
