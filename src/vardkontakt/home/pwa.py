"""The residents' side as an installable app: the web app manifest, the service worker and the
offline page.

The service worker keeps only the shell: the offline page and static files. Every navigation goes
to the network and the offline page is shown only when that fails, so a page with someone's data
is never kept on the device (docs/pwa.md). Push notifications are shown by the same worker; the
subscriptions are notifications' (notifications/push_views.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vardkontakt.identity.decorators import public

# The theme's brand colour ($nhsuk-brand-colour in assets/scss/main.scss, the pages' theme-color).
THEME_COLOUR = "#0b5560"
BACKGROUND_COLOUR = "#ffffff"

# What the worker keeps from its installation: the pages' styles and scripts, the logo and icons.
# Other static files (the stylesheet's images) are kept when first used; nothing else ever is.
SHELL_STATIC = [
    "vardkontakt/build/main.css",
    "vardkontakt/build/nhsuk-frontend.min.js",
    "vardkontakt/js/app.js",
    "vardkontakt/img/logo.svg",
    "vardkontakt/img/app-icon-192.png",
]
ICONS = [
    ("vardkontakt/img/app-icon-192.png", "192x192", "any"),
    ("vardkontakt/img/app-icon-512.png", "512x512", "any"),
    ("vardkontakt/img/app-icon-maskable-512.png", "512x512", "maskable"),
]
# A new worker (and so a new cache) whenever one of these changes.
_WORKER_TEMPLATE = "home/service-worker.js"
_OFFLINE_TEMPLATE = "home/offline.html"


@public
@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    body = {
        "id": "/",
        "name": settings.SERVICE_NAME_RESIDENTS,
        "short_name": settings.SERVICE_NAME_RESIDENTS[:12],
        "description": _("Your e-services for health care: messages, appointments and your record."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("home:home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }
    response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"  # public, but checked again on each use
    return response


@public
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [reverse("home:offline"), *(static(path) for path in SHELL_STATIC)]
    context = {
        "version": _version(),
        "offline_url": reverse("home:offline"),
        "static_url": settings.STATIC_URL,
        "shell": json.dumps(shell),
    }
    response = HttpResponse(render_to_string(_WORKER_TEMPLATE, context), content_type="text/javascript; charset=utf-8")
    # The browser fetches the worker again to look for a new version; never from a cache.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@public
@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the app shows without a network, in Swedish and English: it names nobody, so the
    worker may keep it (and it is fetched without the session cookie)."""
    response = render(request, _OFFLINE_TEMPLATE, {"start_url": reverse("home:home"), "languages": ["sv", "en"]})
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _version() -> str:
    digest = hashlib.sha256()
    for path in SHELL_STATIC:
        digest.update(path.encode())
        found = finders.find(path)
        if isinstance(found, str):
            digest.update(Path(found).read_bytes())
    for template in (_WORKER_TEMPLATE, _OFFLINE_TEMPLATE):
        digest.update(Path(get_template(template).origin.name).read_bytes())  # type: ignore[attr-defined]
    return digest.hexdigest()[:16]
