from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from vardkontakt.access import policy
from vardkontakt.access.acting import acting_for
from vardkontakt.cases.inbox_counts import inbox_counts_for_staff
from vardkontakt.cases.selectors import case_counts
from vardkontakt.core import replica
from vardkontakt.core.degraded import REDIS_UNREACHABLE
from vardkontakt.core.tasks import heartbeat_age_seconds
from vardkontakt.home.notices import link_of, notices_for
from vardkontakt.home.selectors import home_offers
from vardkontakt.identity.decorators import PatientRequest, StaffRequest, patient_required, public, staff_required
from vardkontakt.notifications.selectors import notification_of, unread_notifications
from vardkontakt.notifications.services import notification_mark_read, notifications_mark_all_read
from vardkontakt.organisation.selectors import memberships_for_staff, news_for_staff


@public
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "home/start.html")


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where a logged-in person belongs: the resident's or the staff member's home."""
    user = request.user
    if getattr(user, "is_staff_member", False):
        return redirect("home:staff_home")
    if getattr(user, "is_patient", False):
        return redirect("home:patient_home")
    return redirect("home:start")


@patient_required
@require_GET
def patient_home(request: PatientRequest) -> HttpResponse:
    me = request.patient
    acting = acting_for(request)
    subject = acting.subject
    offers = home_offers(reader=me, subject=subject)
    return render(
        request,
        "home/patient_home.html",
        {
            "patient": me,
            "subject": subject,
            "acting_self": subject.pk == me.pk,
            "offers": offers,
            # The person's own notices, shown only on their own page (never while acting for someone).
            "notices": notices_for(reader=me, notifications=unread_notifications(patient=me))
            if subject.pk == me.pk
            else None,
            "may_write": acting.allows(policy.Scope.CASES),
            "case_counts": case_counts(reader=me, subject=subject),
            "grown_children": policy.children_grown_past_guardian_access(me) if subject.pk == me.pk else [],
            "may_read_record": acting.allows(policy.Scope.RECORD),
            "may_book": acting.allows(policy.Scope.BOOKINGS),
        },
    )


@patient_required
@require_GET
def notice_open(request: PatientRequest, notification_id: uuid.UUID) -> HttpResponse:
    """Follow a notice to what it is about; it is read from now on (and leaves the start page)."""
    me = request.patient
    notification = notification_of(patient=me, notification_id=str(notification_id))
    notification_mark_read(notification=notification)
    return redirect(link_of(reader=me, notification=notification) or "home:patient_home")


@patient_required
@require_POST
def notice_dismiss(request: PatientRequest, notification_id: uuid.UUID) -> HttpResponse:
    notification = notification_of(patient=request.patient, notification_id=str(notification_id))
    notification_mark_read(notification=notification)
    messages.success(request, _("The notice is removed from the list."))
    return redirect("home:patient_home")


@patient_required
@require_POST
def notices_dismiss_all(request: PatientRequest) -> HttpResponse:
    notifications_mark_all_read(recipient=request.patient)
    messages.success(request, _("All notices are marked as read."))
    return redirect("home:patient_home")


@staff_required
@require_GET
def staff_home(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    memberships = list(memberships_for_staff(staff=staff))
    counts = {count.unit.pk: count for count in inbox_counts_for_staff(staff=staff)}
    for membership in memberships:
        membership.inbox = counts.get(membership.unit_id)  # type: ignore[attr-defined]
    context = {
        "staff": staff,
        "memberships": memberships,
        "coordinates": staff.coordinated_administrations.exists(),
        "news": news_for_staff(staff),
        # Region administrators' tools (default forms, operational messages) and support's lookup.
        "regions": policy.administered_regions(staff),
        "is_support": policy.is_support(staff),
        "administers_units": bool(policy.administered_units(staff)),
        "is_archivist": policy.is_archivist(staff),
    }
    return render(request, "home/staff_home.html", context)


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
    # The replica only serves declared reads, which fall back to the primary: a replica that lags
    # or is down makes the node "degraded", never unhealthy (the balancer keeps sending to it).
    degraded = False
    if settings.REDIS_URL:
        # Sessions, the cache and the video channel layer: without Redis the public pages and this
        # check still answer, logins and pages that need one answer 503 (docs/operations.md,
        # "Redis down"). Degraded, not unhealthy: every node shares the one Redis, so taking this
        # node out of the balancer would help nobody.
        try:
            caches["default"].get("vk-healthz")
            checks["redis"] = "ok"
        except REDIS_UNREACHABLE as exc:
            checks["redis"] = f"down ({exc.__class__.__name__}): logins and pages that need one answer 503"
            degraded = True
    if replica.configured():
        found = replica.state()
        checks["replica_lag_seconds"] = found.lag_seconds
        checks["replica_lag_bytes"] = found.lag_bytes
        if not found.reachable:
            checks["replica"] = f"down ({found.error}): its reads go to the primary"
        elif not found.usable:
            checks["replica"] = f"lagging more than {settings.REPLICA_MAX_LAG_SECONDS} s: its reads go to the primary"
        else:
            checks["replica"] = "ok"
        degraded |= checks["replica"] != "ok"
    status = "unhealthy" if not healthy else "degraded" if degraded else "ok"
    return JsonResponse(
        {"status": status, "checks": checks, "time": timezone.now().isoformat()},
        status=200 if healthy else 503,
    )
