"""The demo identity provider's endpoints: discovery, JWKS, authorize (the person chooser), token.

Only installed when DEBUG or VK_DEMO is on. Its person chooser deliberately keeps no state in
the platform's login session: the authorization request travels signed in the form itself.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus, urlencode

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

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
)


def _tenant(tenant: str) -> str:
    if tenant not in protocol.TENANT_SIDE:
        raise Http404
    return tenant


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


def _redirect_error(client: protocol.Client, state: str, error: str, description: str) -> HttpResponse:
    query = urlencode({"error": error, "error_description": description, "state": state})
    return HttpResponseRedirect(f"{client.redirect_uri}?{query}")


@public
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest, tenant: str) -> HttpResponse:
    tenant = _tenant(tenant)
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
    form = ChooserForm(
        request.POST if request.method == "POST" else None, tenant=tenant, required_acr=settings.OIDC_REQUIRED_ACR
    )
    if request.method == "POST":
        if "cancel" in request.POST:
            return _redirect_error(client, params["state"], "access_denied", "The user cancelled the login.")
        if form.is_valid():
            code = protocol.issue_code(
                client=client,
                params=params,
                claims={
                    "identity": form.cleaned_data["identity"],
                    "token_claims": form.token_claims(client.subject_claim),
                },
            )
            query = urlencode({"code": code, "state": params["state"], "iss": protocol.issuer(tenant)})
            return HttpResponseRedirect(f"{client.redirect_uri}?{query}")
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
    try:
        body = protocol.exchange_code(tenant, basic=_basic_auth(request), form=request.POST.dict())
    except protocol.ProtocolError as exc:
        status = 401 if exc.error == "invalid_client" else 400
        return JsonResponse({"error": exc.error, "error_description": exc.description}, status=status)
    response = JsonResponse(body)
    response["Pragma"] = "no-cache"
    return response
