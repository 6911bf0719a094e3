"""Operations keeps the login records support reads; identity announces the logins."""

from __future__ import annotations

from typing import Any

from vardkontakt.identity.models import User
from vardkontakt.identity.oidc import Refusal, Side
from vardkontakt.identity.signals import login_completed, login_refused
from vardkontakt.operations.services import login_record, login_refusal_record


def _record_login(sender: Any, *, user: User, acr: str, **_: Any) -> None:
    login_record(user=user, acr=acr)


def _record_refusal(sender: Any, *, side: Side, subject: str, reason: Refusal, acr: str, **_: Any) -> None:
    login_refusal_record(side=side, subject=subject, reason=reason, acr=acr)


def connect() -> None:
    login_completed.connect(_record_login, dispatch_uid="operations.login_record")
    login_refused.connect(_record_refusal, dispatch_uid="operations.login_refusal_record")
