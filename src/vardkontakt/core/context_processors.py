from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def user_kind(request: HttpRequest) -> str:
    """Who reads, as far as the parts of a page the same for everyone of a kind tell (base.html's
    header, head and footer, kept per kind by core_fragments): never who they are."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    if getattr(user, "is_staff_member", False):
        return "staff"
    if getattr(user, "is_patient", False):
        return "patient"
    return "signed-in"


def service(request: HttpRequest) -> dict[str, Any]:
    kind = user_kind(request)
    return {
        "service_name": settings.SERVICE_NAME_STAFF if kind == "staff" else settings.SERVICE_NAME_RESIDENTS,
        "demo_mode": settings.DEMO_IDP_ENABLED,
        "user_kind": kind,
    }
