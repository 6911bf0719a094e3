"""Long random secrets shown once, kept only as a SHA-256 digest (API secrets and tokens, calendar links).

A slow password hash is not needed for 256-bit random values, and a fast check keeps the paths
that verify them cheap.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)
