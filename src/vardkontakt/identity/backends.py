"""The only authentication backend: it loads the user of a session opened by an OIDC login.

It authenticates nothing by itself (``authenticate`` always declines); a session is opened only
by the relying party after a verified ID token, via ``django.contrib.auth.login``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from vardkontakt.identity.models import User


class OidcSubjectBackend:
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def get_user(self, user_id: Any) -> User | None:
        return User.objects.select_related("patient", "staff").filter(pk=user_id).first()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False
