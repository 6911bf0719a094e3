"""OAuth2 client credentials (RFC 6749 §4.4) for the source systems, and bearer checks (RFC 6750).

Scopes follow SMART backend services: ``system/<ResourceType>.read`` and ``.write``. A token
carries the scopes asked for (all the client's scopes when none are asked for); every request
names the scope it needs, and a token without it is refused with ``insufficient_scope``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from vardkontakt.core.ratelimit import Limit, client_address, register, reset, retry_after
from vardkontakt.core.tokens import digest, new_secret
from vardkontakt.fhir.appointments import APPOINTMENT_TYPES, SCHEDULING_TYPES
from vardkontakt.fhir.importer import RESOURCE_TYPES, Sender
from vardkontakt.fhir.models import IntegrationClient, IntegrationToken
from vardkontakt.fhir.responses import refuse
from vardkontakt.identity.decorators import integration
from vardkontakt.organisation.models import CareUnit

TOKEN_LIFETIME = dt.timedelta(hours=1)
ACTIONS = ("read", "write")


def scope(resource_type: str, action: str) -> str:
    return f"system/{resource_type}.{action}"


def all_scopes() -> list[str]:
    types = [*RESOURCE_TYPES, *APPOINTMENT_TYPES, *SCHEDULING_TYPES]
    return [scope(resource_type, action) for resource_type in types for action in ACTIONS]


def client_create(
    *,
    client_id: str,
    name: str,
    source_system: str,
    scopes: list[str],
    units: Iterable[CareUnit] = (),
    secret: str | None = None,
) -> tuple[IntegrationClient, str]:
    """Register a source system for the care units whose record data it may write; the secret is
    returned once and only its digest is kept."""
    unknown = sorted(set(scopes) - set(all_scopes()))
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    units = list(units)
    secret = secret or new_secret()
    client, _ = IntegrationClient.objects.update_or_create(
        client_id=client_id,
        defaults={
            "name": name,
            "source_system": source_system,
            "scopes": sorted(set(scopes)),
            "secret_digest": digest(secret),
            "active": True,
        },
    )
    client.units.set(units)
    return client, secret


def _token_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="fhir"'
    return response


def _locked_out(seconds: int) -> JsonResponse:
    response = _token_error("invalid_client", f"too many failed attempts: try again in {seconds} seconds", status=429)
    response["Retry-After"] = str(seconds)
    return response


def _client_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        return (unquote(client_id), unquote(secret)) if sep else None
    if request.POST.get("client_id") and request.POST.get("client_secret"):
        return request.POST["client_id"], request.POST["client_secret"]
    return None


@integration
@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """The token endpoint: grant_type=client_credentials, client authenticated by Basic or by POST body."""
    if request.method != "POST":
        return _token_error("invalid_request", "use POST", status=405)
    if request.POST.get("grant_type") != "client_credentials":
        return _token_error("unsupported_grant_type", "only client_credentials is supported")
    credentials = _client_credentials(request)
    if credentials is None:
        return _token_error("invalid_client", "client authentication is required", status=401)
    # Wrong secrets lock the client id and the address out, with back-off; while locked out even the
    # right secret is refused, so guessing and then succeeding is not possible.
    by_client, by_address = Limit.named("fhir_token_client"), Limit.named("fhir_token_address")
    address = client_address(request)
    wait = max(retry_after(by_client, credentials[0]), retry_after(by_address, address))
    if wait:
        return _locked_out(wait)
    client = IntegrationClient.objects.filter(client_id=credentials[0], active=True).first()
    # Compare digests in constant time; an unknown client costs the same as a wrong secret.
    expected = client.secret_digest if client else digest("")
    if not hmac.compare_digest(expected, digest(credentials[1])) or client is None:
        locked = max(register(by_client, credentials[0]), register(by_address, address))
        if locked:
            return _locked_out(locked)
        return _token_error("invalid_client", "unknown client or wrong secret", status=401)
    reset(by_client, credentials[0])
    asked = request.POST.get("scope", "").split()
    granted = asked or list(client.scopes)
    if not set(granted) <= set(client.scopes):
        return _token_error(
            "invalid_scope", "the client may not have: " + " ".join(sorted(set(granted) - set(client.scopes)))
        )
    value = new_secret()
    now = timezone.now()
    with transaction.atomic():
        IntegrationToken.objects.filter(expires_at__lt=now).delete()
        IntegrationToken.objects.create(
            token_digest=digest(value), client=client, scopes=granted, issued_at=now, expires_at=now + TOKEN_LIFETIME
        )
    return JsonResponse(
        {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "scope": " ".join(granted),
        }
    )


@dataclass(frozen=True)
class Caller:
    client: IntegrationClient
    scopes: frozenset[str]

    @property
    def sender(self) -> Sender:
        """The client as an import's sender: its source system and the units it is registered for."""
        units = frozenset(self.client.units.values_list("pk", flat=True))
        return Sender(self.client.source_system, self.client.name, units)


def bearer(request: HttpRequest) -> Caller | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    found = (
        IntegrationToken.objects.select_related("client")
        .filter(token_digest=digest(header[7:].strip()), expires_at__gt=timezone.now(), client__active=True)
        .first()
    )
    return Caller(found.client, frozenset(found.scopes)) if found else None


Refusal = Callable[[int, str, str], HttpResponse]


def integration_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Declares the view for integration clients: no session, no CSRF, a bearer token instead.

    The view gets the caller and checks the scope for the resource type it touches.
    """

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        caller = bearer(request)
        if caller is None:
            response = refuse(401, "login", "a valid bearer token is required")
            response["WWW-Authenticate"] = 'Bearer realm="fhir", error="invalid_token"'
            return response
        request.fhir_caller = caller  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return integration(wrapper)


def require_scope(request: HttpRequest, resource_type: str, action: str) -> HttpResponse | None:
    return require_scopes(request, [scope(resource_type, action)])


def require_scopes(request: HttpRequest, needed: list[str]) -> HttpResponse | None:
    """None when the token has every scope; otherwise a 403 naming each missing one."""
    missing = [name for name in needed if name not in request.fhir_caller.scopes]  # type: ignore[attr-defined]
    if not missing:
        return None
    response = refuse(403, "forbidden", f"the token lacks the scope {' '.join(missing)}")
    response["WWW-Authenticate"] = f'Bearer realm="fhir", error="insufficient_scope", scope="{" ".join(missing)}"'
    return response
