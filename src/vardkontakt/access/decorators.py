"""Every view declares who may reach it. A view without a declaration is refused (deny by default).

- ``public``: anyone, logged in or not (start page, health check, the login flow).
- ``patient_required``: a resident logged in with e-ID.
- ``staff_required``: a staff member logged in with SITHS.

Finer rules (this unit's inbox, this child's record) are policy functions in each domain,
called by the selector that loads the object; these decorators only gate the door.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

ACCESS_ATTRIBUTE = "vk_access"
View = TypeVar("View", bound=Callable[..., Any])


def _declare(view: View, access: str) -> View:
    setattr(view, ACCESS_ATTRIBUTE, access)
    return view


def public(view: View) -> View:
    return _declare(view, "public")


def _login_redirect(request: HttpRequest, side: str) -> HttpResponse:
    url = reverse("identity:login_start", kwargs={"side": side})
    return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


def patient_required(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return _login_redirect(request, "resident")
        if not getattr(user, "is_patient", False) or not hasattr(user, "patient"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return _declare(wrapper, "patient")  # type: ignore[return-value]


def staff_required(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return _login_redirect(request, "staff")
        if not getattr(user, "is_staff_member", False) or not hasattr(user, "staff"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return _declare(wrapper, "staff")  # type: ignore[return-value]


def access_of(view: Callable[..., Any]) -> str | None:
    """The declaration of a resolved view function (also through class-based ``as_view``)."""
    declared = getattr(view, ACCESS_ATTRIBUTE, None)
    if declared is None and hasattr(view, "view_class"):
        declared = getattr(view.view_class, ACCESS_ATTRIBUTE, None)
    return declared
