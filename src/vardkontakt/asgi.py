"""The ASGI application: Django's pages over HTTP, and the video visits' signalling over WebSockets
(vardkontakt.video.routing). Served by uvicorn under gunicorn (deploy/gunicorn.conf.py) and by
``make demo``.

A WebSocket is accepted only from a page of one of our own hosts (the Origin header against
ALLOWED_HOSTS) and carries the visitor's session (the same cookie as the pages); the consumer then
asks the video policy, as a page's selector does. The session and its user are read in the
consumer's own database call, with its ticket (identity/sockets.py), not in one of their own. While
Redis (the channel layer, the sessions) cannot be reached, a socket is closed with 1013 "Try Again
Later" (core.degraded)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vardkontakt.settings")
# Django is set up before anything that imports models (the consumers) is imported.
http_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from vardkontakt.core.degraded import ClosesSocketsWhileRedisIsDown  # noqa: E402
from vardkontakt.identity.sockets import socket_auth  # noqa: E402
from vardkontakt.video.routing import websocket_urlpatterns  # noqa: E402

# The URLconf, and with it every app's views, imported now (once, in gunicorn's master) rather than
# by the first reverse() of the process: a nurse's first take of a caller waited 3-4 s for it
# (bench/waiting_room.py).
get_resolver().url_patterns  # noqa: B018

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": ClosesSocketsWhileRedisIsDown(
            AllowedHostsOriginValidator(socket_auth(URLRouter(websocket_urlpatterns)))
        ),
    }
)
