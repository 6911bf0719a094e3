"""Every view declares who may reach it. A view without a declaration is refused (deny by default).

- ``public``: anyone, logged in or not (start page, health check, the login flow).
- ``patient_required``: a resident logged in with e-ID.
- ``staff_required``: a staff member logged in with SITHS.
- ``integration``: a source system with a bearer token (vardkontakt.fhir.auth).

Finer rules (this unit's inbox, this child's record) are policy functions in each domain,
called by the selector that loads the object; these decorators only gate the door.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

if TYPE_CHECKING:
    from vardkontakt.identity.models import Patient, Staff

ACCESS_ATTRIBUTE = "vk_access"
View = TypeVar("View", bound=Callable[..., Any])


class PatientRequest(HttpRequest):
    """A request that passed ``patient_required``: ``request.patient`` is the logged-in resident
    (who acts; whom they act for is ``access.acting.acting_for``)."""

    patient: Patient


class StaffRequest(HttpRequest):
    """A request that passed ``staff_required``: ``request.staff`` is the logged-in staff member."""

    staff: Staff


def _declare(view: View, access: str) -> View:
    setattr(view, ACCESS_ATTRIBUTE, access)
    return view


def public(view: View) -> View:
    return _declare(view, "public")


def integration(view: View) -> View:
    """For source systems with an OAuth2 bearer token (the FHIR API checks it); never a session."""
    return _declare(view, "integration")


def _login_redirect(request: HttpRequest, side: str) -> HttpResponse:
    url = reverse("identity:login_start", kwargs={"side": side})
    return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


def _person_required(view: View, *, side: str, kind: str, is_kind: str) -> View:
    """Logged in as ``kind`` ("patient" or "staff"): the person is put on the request under that
    name, and the view is declared for that kind. Not logged in: to the ``side``'s login."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return _login_redirect(request, side)
        if not getattr(user, is_kind, False) or not hasattr(user, kind):
            raise PermissionDenied
        setattr(request, kind, getattr(user, kind))
        return view(request, *args, **kwargs)

    return _declare(wrapper, kind)  # type: ignore[return-value]


def patient_required(view: View) -> View:
    return _person_required(view, side="resident", kind="patient", is_kind="is_patient")


def staff_required(view: View) -> View:
    return _person_required(view, side="staff", kind="staff", is_kind="is_staff_member")


def access_of(view: Callable[..., Any]) -> str | None:
    """The declaration of a resolved view function (also through class-based ``as_view``)."""
    declared = getattr(view, ACCESS_ATTRIBUTE, None)
    if declared is None and hasattr(view, "view_class"):
        declared = getattr(view.view_class, ACCESS_ATTRIBUTE, None)
    return declared


STEPUP_STASH = "vk_stepup_stash"


def recent_login_required(view: View) -> View:
    """Step-up for every request to the view (see _step_up)."""
    return _step_up(view, needs=lambda request: True, keep_form=True)


def recent_login_required_for_changes(view: View) -> View:
    """Step-up only for POST: looking is free, changing needs a fresh login."""
    return _step_up(view, needs=lambda request: request.method == "POST", keep_form=True)


def recent_login_required_for_actions(*actions: str, back: str | None = None) -> Callable[[View], View]:
    """Step-up for staff changes with large effect: POSTs whose ``action`` is one of ``actions`` (all
    POSTs when none is named). ``back`` names the page to come back to after the fresh login, for
    views that only take POST. The posted form is not kept: the page says nothing was saved."""

    def needs(request: HttpRequest) -> bool:
        return request.method == "POST" and (not actions or request.POST.get("action", "") in actions)

    def decorate(view: View) -> View:
        return _step_up(view, needs=needs, keep_form=False, back=back)

    return decorate


def login_is_recent(request: HttpRequest) -> bool:
    """Whether the identity provider authenticated the person within settings.STEPUP_MAX_AGE_MINUTES
    (its ``auth_time``, kept at login: identity.middleware.AUTHENTICATED_AT)."""
    from vardkontakt.identity.middleware import AUTHENTICATED_AT

    authenticated_at = request.session.get(AUTHENTICATED_AT)
    if authenticated_at is None:
        return False
    return time.time() - int(authenticated_at) <= settings.STEPUP_MAX_AGE_MINUTES * 60


def _step_up(view: View, *, needs: Callable[[HttpRequest], bool], keep_form: bool, back: str | None = None) -> View:
    """Step-up: the action needs an authentication within settings.STEPUP_MAX_AGE_MINUTES.

    Without one, the page explains and offers a fresh login (prompt=login, max_age=0; the ID token's
    auth_time is checked, identity/oidc.py) that comes back here. A resident's form posted after the
    limit is kept (not saved) and shown filled in after the new login, so what they wrote is not lost.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not needs(request) or login_is_recent(request):
            stash = request.session.get(STEPUP_STASH)
            if request.method == "GET" and stash and stash.get("path") == request.path:
                request.session.pop(STEPUP_STASH)
                request.stepup_stash = stash["data"]  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)
        if request.method == "POST" and keep_form:
            data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
            request.session[STEPUP_STASH] = {"path": request.path, "data": data}
        staff = getattr(request.user, "is_staff_member", False)
        side = "staff" if staff else "resident"
        login_url = reverse("identity:login_start", kwargs={"side": side})
        target = reverse(back) if back else request.path
        return render(
            request,
            "access/stepup.html",
            {
                "login_url": f"{login_url}?{urlencode({'next': target, 'stepup': '1'})}",
                "staff": staff,
                "form_kept": keep_form,
            },
            status=401 if request.method == "POST" else 200,
        )

    return wrapper  # type: ignore[return-value]
