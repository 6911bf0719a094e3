from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from vardkontakt.access import policy
from vardkontakt.access.acting import acting_for
from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.decorators import patient_required, public, staff_required
from vardkontakt.core.tasks import heartbeat_age_seconds
from vardkontakt.notifications.selectors import recent_notifications
from vardkontakt.organisation.selectors import memberships_for_staff, units_for_patient
from vardkontakt.organisation.unit_admin import news_for_staff


@public
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "core/start.html")


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where a logged-in person belongs: the resident's or the staff member's home."""
    user = request.user
    if getattr(user, "is_staff_member", False):
        return redirect("core:staff_home")
    if getattr(user, "is_patient", False):
        return redirect("core:patient_home")
    return redirect("core:start")


@patient_required
@require_GET
def patient_home(request: HttpRequest) -> HttpResponse:
    me = request.user.patient  # type: ignore[union-attr]
    acting = acting_for(request)
    subject = acting.subject
    if subject.pk != me.pk:
        audit(actor=Actor.of_patient(me), action="home.read", patient=subject, on_behalf_of=subject)
    return render(
        request,
        "core/patient_home.html",
        {
            "patient": me,
            "subject": subject,
            "acting_self": subject.pk == me.pk,
            "units": units_for_patient(patient=subject),
            "notifications": recent_notifications(patient=me),
            "may_write": acting.allows(policy.Scope.CASES),
            "may_read_record": acting.allows(policy.Scope.RECORD),
            "may_book": acting.allows(policy.Scope.BOOKINGS),
        },
    )


@staff_required
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    staff = request.user.staff  # type: ignore[union-attr]
    context = {
        "staff": staff,
        "memberships": memberships_for_staff(staff=staff),
        "coordinates": staff.coordinated_administrations.exists(),
        "news": news_for_staff(staff),
        # Region administrators' tools (default forms, operational messages) and support's lookup.
        "regions": policy.administered_regions(staff),
        "is_support": policy.is_support(staff),
        "administers_units": bool(policy.administered_units(staff)),
        "is_archivist": policy.is_archivist(staff),
    }
    return render(request, "core/staff_home.html", context)


@public
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, object] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
        return JsonResponse({"status": "unhealthy", "checks": checks}, status=503)
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    checks["migrations"] = "ok" if not pending else f"{len(pending)} unapplied"
    healthy &= not pending
    age = heartbeat_age_seconds()
    limit = settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS
    checks["worker_heartbeat_age_seconds"] = None if age is None else round(age, 1)
    checks["worker"] = "ok" if age is not None and age <= limit else "no recent heartbeat"
    healthy &= age is not None and age <= limit
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks, "time": timezone.now().isoformat()},
        status=200 if healthy else 503,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", status=403)


def _error(template: str, status: int):  # type: ignore[no-untyped-def]
    def view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        return render(request, template, status=status)

    return view


bad_request = _error("core/400.html", 400)
permission_denied = _error("core/403.html", 403)
page_not_found = _error("core/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "core/500.html", status=500)
