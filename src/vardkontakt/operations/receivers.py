"""Operations keeps the login records support reads (identity announces the logins), and the
footer's support hours follow the regions' rules."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from vardkontakt.identity.models import User
from vardkontakt.identity.oidc import Refusal, Side
from vardkontakt.identity.signals import login_completed, login_refused
from vardkontakt.operations.services import login_record, login_refusal_record
from vardkontakt.operations.support import footer_support_hours_forget
from vardkontakt.organisation.models import Region


def _record_login(sender: Any, *, user: User, acr: str, **_: Any) -> None:
    login_record(user=user, acr=acr)


def _record_refusal(sender: Any, *, side: Side, subject: str, reason: Refusal, acr: str, **_: Any) -> None:
    login_refusal_record(side=side, subject=subject, reason=reason, acr=acr)


def _forget_footer_hours(sender: Any, **_: Any) -> None:
    footer_support_hours_forget()


def connect() -> None:
    post_save.connect(_forget_footer_hours, sender=Region, dispatch_uid="operations.footer_hours_saved")
    post_delete.connect(_forget_footer_hours, sender=Region, dispatch_uid="operations.footer_hours_deleted")
    login_completed.connect(_record_login, dispatch_uid="operations.login_record")
    login_refused.connect(_record_refusal, dispatch_uid="operations.login_refusal_record")
