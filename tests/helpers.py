from __future__ import annotations

import time

from django.test import Client

from vardkontakt.identity.middleware import AUTH_AT, SEEN_AT
from vardkontakt.identity.models import User

BACKEND = "vardkontakt.identity.backends.OidcSubjectBackend"


def login_as(client: Client, user: User) -> Client:
    """What a completed OIDC login leaves in the session (the round trip itself is tested apart)."""
    client.force_login(user, backend=BACKEND)
    session = client.session
    now = int(time.time())
    session[AUTH_AT] = now
    session[SEEN_AT] = now
    session.save()
    return client
