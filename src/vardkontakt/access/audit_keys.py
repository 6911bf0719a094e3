"""The audit log's key: the database holds entries and their MACs, never the key.

Production reads it from the environment (VK_AUDIT_KEY, or VK_AUDIT_KEY_FILE); the demo makes a
random one once in settings.AUDIT_KEY_FILE (linked into place whole, so processes starting
together share one).
Checkpoints are signed with a key derived from it, so an entry's MAC can never pass for a
checkpoint's signature or the other way round.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from pathlib import Path

from django.conf import settings


def audit_key() -> bytes:
    configured: str = settings.AUDIT_KEY
    if configured:
        return configured.encode("utf-8")
    return _demo_key(Path(settings.AUDIT_KEY_FILE))


def checkpoint_key() -> bytes:
    return hmac.new(audit_key(), b"vardkontakt audit checkpoint v1", hashlib.sha256).digest()


@functools.cache
def _demo_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(os.urandom(32).hex())
        try:
            os.link(draft, path)  # whole or not at all; a process that starts beside us reads ours
        except FileExistsError:
            pass  # another process made it first; read theirs
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 32:
        raise RuntimeError(f"The audit key in {path} is shorter than 32 characters.")
    return key.encode("utf-8")
