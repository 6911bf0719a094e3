"""The error pages and the CSRF failure page: plain templates, nothing from the apps above."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", status=403)


def _error(template: str, status: int):  # type: ignore[no-untyped-def]
    def view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        return render(request, template, status=status)

    return view


bad_request = _error("core/400.html", 400)
permission_denied = _error("core/403.html", 403)
page_not_found = _error("core/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "core/500.html", status=500)
