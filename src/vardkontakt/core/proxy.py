"""The client's address behind a reverse proxy.

Behind nginx every request reaches gunicorn from the proxy's address, so ``REMOTE_ADDR`` names
the proxy. The proxy sends the address it saw in ``X-Forwarded-For``; this middleware puts that in
``REMOTE_ADDR``, but only for requests that come from an address in ``settings.TRUSTED_PROXIES``:
anyone else could write the header themselves. The right-most entry is taken because it is the one
the trusted proxy added (deploy/nginx/vardkontakt.conf replaces the header, so there is one).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


class ForwardedForMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = {address for address in map(_address, settings.TRUSTED_PROXIES) if address}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted and _address(request.META.get("REMOTE_ADDR", "")) in self.trusted:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            client = _address(forwarded[-1])
            if client:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)
