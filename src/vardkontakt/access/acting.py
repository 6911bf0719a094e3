"""On whose behalf a resident acts in this request ("Du agerar för: …").

The choice lives in the session, but it is re-judged by the policy on every request: a proxy
revoked, a guardian blocked or a child turning 13 takes effect on the very next request, also in a
session that is already open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from vardkontakt.access import policy
from vardkontakt.core.shared_version import forget_at_commit
from vardkontakt.identity.models import Patient

ACTING_FOR = "vk_acting_for"


def _resolve(request: HttpRequest) -> policy.Representation | None:
    user = request.user
    if not user.is_authenticated or not getattr(user, "is_patient", False):
        return None
    actor: Patient = user.patient
    wanted = request.session.get(ACTING_FOR)
    if not wanted or wanted == str(actor.pk):
        return policy.Representation(actor, policy.Relation.SELF)
    subject = Patient.objects.filter(pk=wanted).first()
    found = policy.representation(actor, subject) if subject else None
    if found is None:
        request.session.pop(ACTING_FOR, None)
        messages.warning(request, _("You can no longer act for that person. You now act for yourself."))
        return policy.Representation(actor, policy.Relation.SELF)
    return found


class ActingForMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cache: dict[str, Any] = {}

        def acting() -> policy.Representation | None:
            if "value" not in cache:
                cache["value"] = _resolve(request)
            return cache["value"]

        request.acting = SimpleLazyObject(acting)  # type: ignore[attr-defined]
        request.acting_resolved = acting  # type: ignore[attr-defined]
        return self.get_response(request)


def acting_for(request: HttpRequest) -> policy.Representation:
    """The representation in force for a logged-in resident (the view must be patient_required)."""
    found = request.acting_resolved()  # type: ignore[attr-defined]
    if found is None:
        raise PermissionDenied
    return found


# The "act for" switch on every resident's page: most residents act for nobody, and that answer is
# kept in the cache for a minute (a statement fewer on every page). It only hides the switch:
# acting for someone is judged afresh by the policy on every request (_resolve). A new
# guardianship or proxy deletes the kept answer (the signals below, in every process: on Redis
# every web node sees it at once; with each process's own cache, the others within the minute).
NOBODY_SECONDS = 60


def _nobody_key(patient_id: object) -> str:
    return f"acting:nobody:{patient_id}"


def _choices(actor: Patient, found: policy.Representation) -> list[policy.Representation]:
    key = _nobody_key(actor.pk)
    if found.relation is policy.Relation.SELF and cache.get(key):
        return [found]
    choices = policy.representations(actor)
    if len(choices) == 1 and found.relation is policy.Relation.SELF:
        cache.set(key, True, NOBODY_SECONDS)
    return choices


def forget_nobody(*, sender: type, instance: Any, **_: object) -> None:
    """A guardianship or proxy was made, changed or removed: its guardian or agent is asked afresh."""
    person = getattr(instance, "guardian_id", None) or getattr(instance, "agent_id", None)
    if person is not None:
        cache.delete(_nobody_key(person))
        forget_at_commit(lambda: cache.delete(_nobody_key(person)))


def context(request: HttpRequest) -> dict[str, Any]:
    resolver = getattr(request, "acting_resolved", None)
    if resolver is None:
        return {}
    found = resolver()
    if found is None:
        return {}
    actor = request.user.patient  # type: ignore[union-attr]
    choices = _choices(actor, found)
    return {
        "acting": found,
        "acting_choices": choices if len(choices) > 1 else [],
        # Evaluated only where the banner shows it: a guardian's children too old to act for.
        "acting_grown_children": SimpleLazyObject(lambda: policy.children_grown_past_guardian_access(actor)),
    }
