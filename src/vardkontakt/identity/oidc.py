"""The OpenID Connect relying parties: residents (e-ID) and staff (SITHS).

Authorization code flow with PKCE (S256), state and nonce, ID token signature checked against
the provider's JWKS, and issuer, audience and assurance level (acr) checked by us. This is the
only way into the platform; the demo provider is reached through exactly this code.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from joserfc.errors import JoseError
from requests import RequestException

from vardkontakt.identity.models import Staff, User
from vardkontakt.identity.numbers import normalise_hsa_id, normalise_personnummer
from vardkontakt.identity.services import patient_get_or_register

logger = logging.getLogger(__name__)


class Side(enum.StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"


class Refusal(enum.StrEnum):
    STATE = "state"
    PROVIDER = "provider"
    TOKEN = "token"  # noqa: S105 - a refusal reason, not a secret
    ACR = "acr"
    NO_SUBJECT = "no_subject"
    SAMORDNINGSNUMMER = "samordningsnummer"
    INVALID_NUMBER = "invalid_number"
    UNKNOWN_STAFF = "unknown_staff"
    ACCESS_ENDED = "access_ended"
    NOT_FRESH = "not_fresh"


REFUSAL_MESSAGES = {
    Refusal.STATE: _(
        "The login could not be completed: it was started in another window, has already been used "
        "or has expired. Please log in again."
    ),
    Refusal.PROVIDER: _("The identity provider did not complete the login. Please try again."),
    Refusal.TOKEN: _("We could not verify the answer from the identity provider. Please log in again."),
    Refusal.ACR: _(
        "Your e-ID does not give a high enough level of assurance. Log in with BankID, Freja+ or your SITHS card."
    ),
    Refusal.NO_SUBJECT: _("The identity provider did not tell us who you are, so we cannot log you in."),
    Refusal.SAMORDNINGSNUMMER: _(
        "You have a coordination number (samordningsnummer). The e-services can only be used with a "
        "Swedish personal identity number. Contact your care unit by phone."
    ),
    Refusal.INVALID_NUMBER: _(
        "Your identity number cannot be used to log in to the e-services (for example a reserve "
        "number). Contact your care unit by phone."
    ),
    Refusal.UNKNOWN_STAFF: _(
        "Your HSA-id is not registered as staff in this service. Ask your unit administrator to add you."
    ),
    Refusal.ACCESS_ENDED: _(
        "Your access to the staff service has ended. Ask your region's administrator if this is wrong."
    ),
    Refusal.NOT_FRESH: _(
        "The identity provider did not confirm that you logged in again just now, so the change was not "
        "allowed. Please try again and log in when you are asked to."
    ),
}


class LoginRefused(Exception):
    """``subject`` and ``acr`` are set only when a verified ID token said who tried and how (so the
    refusal can be recorded for support)."""

    def __init__(self, reason: Refusal, detail: str = "", *, subject: str = "", acr: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.subject = subject
        self.acr = acr


_clients: dict[tuple[str, str, str], DjangoOAuth2App] = {}
_clients_lock = threading.Lock()


def client_for(side: Side) -> DjangoOAuth2App:
    """One Authlib client per configured provider; it caches discovery metadata and the JWKS."""
    conf = settings.OIDC_PROVIDERS[side]
    key = (str(side), conf["issuer"], conf["client_id"])
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            registry = OAuth()
            client = registry.register(
                name=str(side),
                client_id=conf["client_id"],
                client_secret=conf["client_secret"],
                server_metadata_url=f"{conf['issuer']}/.well-known/openid-configuration",
                client_kwargs={
                    "scope": "openid profile",
                    "code_challenge_method": "S256",
                    "token_endpoint_auth_method": "client_secret_basic",
                    # Authlib only honours default_timeout; without it a hung provider hangs us.
                    "default_timeout": settings.OIDC_HTTP_TIMEOUT_SECONDS,
                },
            )
            _clients[key] = client
    return client


def callback_url(side: Side) -> str:
    return settings.SITE_URL + reverse("identity:oidc_callback", kwargs={"side": str(side)})


STEPUP_REQUESTED_AT = "vk_stepup_requested_at"


def start_login(request: HttpRequest, side: Side, *, step_up: bool = False) -> HttpResponse:
    """Every login asks the provider to authenticate the person anew (prompt=login): the platform
    has no single logout, so a provider's single sign-on session must not log the next person at
    a shared computer in as the last. A step-up also sends max_age=0, and the callback requires an
    auth_time from after this moment (check_fresh)."""
    client = client_for(side)
    extra: dict[str, Any] = {"prompt": "login"}
    if step_up:
        extra["max_age"] = 0
        request.session[STEPUP_REQUESTED_AT] = int(time.time())
    else:
        request.session.pop(STEPUP_REQUESTED_AT, None)
    response: HttpResponse = client.authorize_redirect(
        request,
        callback_url(side),
        acr_values=settings.OIDC_REQUIRED_ACR,
        ui_locales=getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
        **extra,
    )
    return response


# A login begun for another purpose than a session: a check-in kiosk's mobile BankID QR code, opened
# on the person's phone. The purpose rides in the (anonymous) session as "name:value"; the callback
# hands the verified login to the handler registered under that name instead of logging anyone in.
# Apps above identity register their handler in their AppConfig.ready().
LOGIN_PURPOSE = "vk_login_purpose"
_purposes: dict[str, Callable[[HttpRequest, VerifiedLogin, str], HttpResponse]] = {}


def register_login_purpose(name: str, handler: Callable[[HttpRequest, VerifiedLogin, str], HttpResponse]) -> None:
    _purposes[name] = handler


def start_login_for(request: HttpRequest, side: Side, *, purpose: str, value: str) -> HttpResponse:
    request.session[LOGIN_PURPOSE] = f"{purpose}:{value}"
    return start_login(request, side)


def purpose_of(request: HttpRequest) -> tuple[Callable[[HttpRequest, VerifiedLogin, str], HttpResponse], str] | None:
    """The handler of the purpose the login was begun for, and its value; None for a plain login."""
    purpose = str(request.session.pop(LOGIN_PURPOSE, "") or "")
    name, _sep, value = purpose.partition(":")
    handler = _purposes.get(name)
    return (handler, value) if handler is not None else None


@dataclass(frozen=True)
class VerifiedLogin:
    user: User
    acr: str
    auth_time: int | None = None


def _auth_time(claims: dict[str, Any]) -> int | None:
    value = claims.get("auth_time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def check_fresh(request: HttpRequest, verified: VerifiedLogin) -> None:
    """A step-up login must carry an auth_time from after the step-up began (with the clock leeway)
    and not from the future: proof that the provider authenticated the person again."""
    requested_at = request.session.pop(STEPUP_REQUESTED_AT, None)
    if requested_at is None:
        return
    leeway = settings.OIDC_LEEWAY_SECONDS
    auth_time = verified.auth_time
    if auth_time is None or auth_time < int(requested_at) - leeway or auth_time > time.time() + leeway:
        raise LoginRefused(Refusal.NOT_FRESH, f"auth_time={auth_time} requested_at={requested_at}")


def complete_login(request: HttpRequest, side: Side) -> VerifiedLogin:
    """Verify the provider's answer and return the platform user, or raise LoginRefused."""
    conf = settings.OIDC_PROVIDERS[side]
    client = client_for(side)
    claims_options = {
        # Passing claims_options replaces Authlib's own issuer check, so both are spelled out.
        "iss": {"essential": True, "values": [conf["issuer"]]},
        "aud": {"essential": True, "values": [conf["client_id"]]},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    try:
        token = client.authorize_access_token(
            request, claims_options=claims_options, leeway=settings.OIDC_LEEWAY_SECONDS
        )
    except MismatchingStateError as exc:
        raise LoginRefused(Refusal.STATE, str(exc)) from exc
    except OAuthError as exc:
        # invalid_grant: the code was already used, has expired, or PKCE did not match.
        raise LoginRefused(Refusal.PROVIDER, f"{exc.error}: {exc.description}") from exc
    except (JoseError, ValueError, KeyError) as exc:
        raise LoginRefused(Refusal.TOKEN, repr(exc)) from exc
    except RequestException as exc:
        raise LoginRefused(Refusal.PROVIDER, repr(exc)) from exc

    claims: dict[str, Any] | None = token.get("userinfo")
    if not claims:
        # Authlib validates the ID token only when one is present; its absence is a refusal.
        raise LoginRefused(Refusal.TOKEN, "no id_token in the token response")
    acr = str(claims.get("acr") or "")
    subject = str(claims.get(conf["subject_claim"]) or "")
    if acr != settings.OIDC_REQUIRED_ACR:
        # The token is verified, so the subject is who tried: support can tell them why it failed.
        raise LoginRefused(Refusal.ACR, acr, subject=subject, acr=acr)
    if not subject:
        raise LoginRefused(Refusal.NO_SUBJECT, conf["subject_claim"])
    if side is Side.RESIDENT:
        user = _resident_user(subject, claims)
    else:
        user = _staff_user(subject)
    return VerifiedLogin(user=user, acr=acr, auth_time=_auth_time(claims))


@transaction.atomic
def _resident_user(number: str, claims: dict[str, Any]) -> User:
    try:
        personnummer = normalise_personnummer(number)
    except ValidationError as exc:
        if exc.code == "samordningsnummer":
            raise LoginRefused(Refusal.SAMORDNINGSNUMMER) from exc
        raise LoginRefused(Refusal.INVALID_NUMBER, exc.code or "") from exc
    # Every resident with a personnummer may use the e-services: the first login registers them,
    # with the name the e-ID carries (as the national service does from the population register).
    patient, _registered = patient_get_or_register(
        personnummer=personnummer,
        given_name=str(claims.get("given_name") or ""),
        family_name=str(claims.get("family_name") or ""),
    )
    return User.objects.get_or_create_for_patient(patient)


@transaction.atomic
def _staff_user(hsa_id: str) -> User:
    try:
        normalised = normalise_hsa_id(hsa_id)
    except ValidationError as exc:
        raise LoginRefused(Refusal.UNKNOWN_STAFF, "malformed HSA-id") from exc
    staff = Staff.objects.select_for_update().filter(hsa_id=normalised).first()
    if staff is None:
        raise LoginRefused(Refusal.UNKNOWN_STAFF, normalised)
    if not staff.has_access:
        raise LoginRefused(Refusal.ACCESS_ENDED, normalised)
    return User.objects.get_or_create_for_staff(staff)
