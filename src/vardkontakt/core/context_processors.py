from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    is_staff_side = bool(user and user.is_authenticated and getattr(user, "is_staff_member", False))
    return {
        "service_name": settings.SERVICE_NAME_STAFF if is_staff_side else settings.SERVICE_NAME_RESIDENTS,
        "demo_mode": settings.DEMO_IDP_ENABLED,
    }
