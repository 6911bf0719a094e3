"""The only authentication backend: it loads the user of a session opened by an OIDC login.

It authenticates nothing by itself (``authenticate`` always declines); a session is opened only
by the relying party after a verified ID token, via ``django.contrib.auth.login``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from vardkontakt.identity.models import User
from vardkontakt.identity.user_cache import user_for_session


class OidcSubjectBackend:
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def get_user(self, user_id: Any) -> User | None:
        user = user_for_session(user_id)
        staff = getattr(user, "staff", None) if user is not None else None
        if staff is not None and not staff.has_access:
            return None  # access ended by the region: the open session ends at its next request
        return user

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False
