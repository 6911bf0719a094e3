"""The demo OpenID Connect provider's protocol rules: clients, codes, tokens.

Two tenants, as in production: ``eid`` (residents' e-ID) and ``siths`` (staff). Each accepts
exactly the platform's relying party for that side, with its secret and its callback URL.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from joserfc import jwt

from vardkontakt.demo_idp.keys import signing_key
from vardkontakt.demo_idp.models import AuthorizationCode

TENANT_SIDE = {"eid": "resident", "siths": "staff"}
CODE_LIFETIME = dt.timedelta(minutes=2)
TOKEN_LIFETIME = dt.timedelta(minutes=5)
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
PLATFORM_URLCONF = "vardkontakt.urls"


class ProtocolError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Client:
    tenant: str
    client_id: str
    client_secret: str
    redirect_uri: str
    subject_claim: str


def issuer(tenant: str) -> str:
    # Served on its own (standalone_settings.py) the provider has its own address; inside the app, the app's.
    base = settings.DEMO_IDP_URL or settings.SITE_URL
    return base + reverse("demo_idp:root", kwargs={"tenant": tenant}).rstrip("/")


def client_of(tenant: str) -> Client:
    side = TENANT_SIDE[tenant]
    conf = settings.OIDC_PROVIDERS[side]
    return Client(
        tenant=tenant,
        client_id=conf["client_id"],
        client_secret=conf["client_secret"],
        # The platform's callback, named in the platform's URL conf: a provider on its own serves
        # none of the platform's pages, so its own URL conf cannot name it.
        redirect_uri=settings.SITE_URL
        + reverse("identity:oidc_callback", kwargs={"side": side}, urlconf=PLATFORM_URLCONF),
        subject_claim=conf["subject_claim"],
    )


def metadata(tenant: str) -> dict[str, Any]:
    base = issuer(tenant)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile"],
        "acr_values_supported": [settings.OIDC_REQUIRED_ACR, LOA2],
        "claims_supported": [
            "sub",
            "acr",
            "auth_time",
            "given_name",
            "family_name",
            "name",
            client_of(tenant).subject_claim,
        ],
    }


def validate_authorization_request(tenant: str, params: dict[str, str]) -> Client:
    """Errors that must not redirect (unknown client or redirect) raise; others are for the client."""
    client = client_of(tenant)
    if params.get("client_id") != client.client_id:
        raise ProtocolError("invalid_client", "Unknown client_id.")
    if params.get("redirect_uri") != client.redirect_uri:
        raise ProtocolError("invalid_request", "redirect_uri is not registered for this client.")
    if params.get("response_type") != "code":
        raise ProtocolError("unsupported_response_type", "Only the authorization code flow is supported.")
    if "openid" not in (params.get("scope") or "").split():
        raise ProtocolError("invalid_scope", "The openid scope is required.")
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        raise ProtocolError("invalid_request", "PKCE with S256 is required.")
    if not params.get("state"):
        raise ProtocolError("invalid_request", "state is required.")
    return client


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue_code(*, client: Client, params: dict[str, str], claims: dict[str, Any]) -> str:
    code = secrets.token_urlsafe(32)
    now = timezone.now()
    AuthorizationCode.objects.create(
        code_hash=_hash(code),
        tenant=client.tenant,
        client_id=client.client_id,
        redirect_uri=client.redirect_uri,
        code_challenge=params["code_challenge"],
        nonce=params.get("nonce", ""),
        claims=claims,
        issued_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    return code


def _authenticate_client(client: Client, basic: tuple[str, str] | None, form: dict[str, str]) -> None:
    client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
    if not (constant_time_compare(client_id, client.client_id) and constant_time_compare(secret, client.client_secret)):
        raise ProtocolError("invalid_client", "Client authentication failed.")


def exchange_code(tenant: str, *, basic: tuple[str, str] | None, form: dict[str, str]) -> dict[str, Any]:
    client = client_of(tenant)
    _authenticate_client(client, basic, form)
    if form.get("grant_type") != "authorization_code":
        raise ProtocolError("unsupported_grant_type", "Only authorization_code is supported.")
    now = timezone.now()
    # One UPDATE marks the code used: of two concurrent exchanges exactly one wins.
    claimed = AuthorizationCode.objects.filter(
        code_hash=_hash(form.get("code", "")), tenant=tenant, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        raise ProtocolError("invalid_grant", "The code is unknown, expired or already used.")
    grant = AuthorizationCode.objects.get(code_hash=_hash(form.get("code", "")))
    if grant.client_id != client.client_id or grant.redirect_uri != form.get("redirect_uri"):
        raise ProtocolError("invalid_grant", "The code was issued to another client or redirect_uri.")
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not verifier or not constant_time_compare(challenge, grant.code_challenge):
        raise ProtocolError("invalid_grant", "PKCE verification failed.")
    access_token = secrets.token_urlsafe(32)
    key = signing_key()
    issued = int(now.timestamp())
    claims = {
        "iss": issuer(tenant),
        "aud": client.client_id,
        "iat": issued,
        "exp": issued + int(TOKEN_LIFETIME.total_seconds()),
        # When the person chose themselves in the chooser (a single sign-on answer keeps the first time).
        "auth_time": int(grant.claims.get("auth_time") or grant.issued_at.timestamp()),
        # A pairwise subject: stable per person and client, not the identity number itself.
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}:{client.client_id}:{grant.claims['identity']}")),
        **grant.claims["token_claims"],
    }
    if grant.nonce:
        claims["nonce"] = grant.nonce
    claims["at_hash"] = _at_hash(access_token)
    id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        "id_token": id_token,
        "scope": "openid profile",
    }


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
