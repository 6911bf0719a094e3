"""Idle and absolute session limits (30 minutes and 12 hours by default, see settings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

AUTH_AT = "vk_auth_at"  # when the platform session began (the absolute limit counts from it)
SEEN_AT = "vk_seen_at"
# When the identity provider last authenticated the person (the ID token's auth_time): step-up.
AUTHENTICATED_AT = "vk_authenticated_at"
# Writing the session on every request costs a query; within this margin the idle clock is kept.
_SEEN_RESOLUTION_SECONDS = 15


def mark_login(request: HttpRequest, *, authenticated_at: int | None) -> None:
    """``authenticated_at`` is the ID token's auth_time; without one no step-up counts as recent."""
    now = int(time.time())
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    if authenticated_at is None:
        request.session.pop(AUTHENTICATED_AT, None)
    else:
        request.session[AUTHENTICATED_AT] = min(authenticated_at, now)


def session_ended(session: Any, now: int) -> bool:
    """Whether the session has passed its idle or its absolute limit (pages and sockets alike)."""
    auth_at = int(session.get(AUTH_AT, 0))
    seen_at = int(session.get(SEEN_AT, 0))
    idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
    absolute_limit = settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
    return now - seen_at > idle_limit or now - auth_at > absolute_limit


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            if session_ended(request.session, now):
                logout(request)
                messages.info(request, _("You were logged out because the session ended. Please log in again."))
                target = reverse("home:start")
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = target
                    return response
                return redirect(target)
            if now - int(request.session.get(SEEN_AT, 0)) >= _SEEN_RESOLUTION_SECONDS:
                request.session[SEEN_AT] = now
        return self.get_response(request)
