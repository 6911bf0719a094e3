"""The demo provider's signing key: one RSA key shared by every process (web, worker, tests).

It lives in a file (settings.DEMO_IDP_KEY_FILE), created once with O_EXCL so two processes
starting together cannot each write their own.
"""

from __future__ import annotations

import functools
import os

from django.conf import settings
from joserfc.jwk import RSAKey


@functools.cache
def signing_key() -> RSAKey:
    path = settings.DEMO_IDP_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = RSAKey.generate_key(2048)
        pem = key.as_pem(private=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; read its key below
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = RSAKey.import_key(path.read_bytes())
    key.ensure_kid()
    return key
