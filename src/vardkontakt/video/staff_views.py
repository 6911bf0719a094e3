"""The staff's side of the video visits: the day's list (who waits, for how long) and the room."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.video import queues, selectors, services
from vardkontakt.video.forms import QueueOpenForm
from vardkontakt.video.views import with_devices


@staff_required
@require_GET
def day(request: StaffRequest) -> HttpResponse:
    visits = selectors.video_day_for_staff(staff=request.staff)
    # The page refreshes its list by fetching it with the HX-Request header (video.js).
    template = "video/staff/_day_list.html" if request.headers.get("HX-Request") else "video/staff/day.html"
    return render(request, template, {"visits": visits, "now": timezone.now()})


@staff_required
@require_GET
def room(request: StaffRequest, booking_id: uuid.UUID) -> HttpResponse:
    entry = services.room_enter_staff(staff=request.staff, booking_id=booking_id)
    return with_devices(render(request, "video/room.html", {"entry": entry, "side": "staff"}))


@staff_required
@require_http_methods(["GET", "POST"])
def queues_page(request: StaffRequest) -> HttpResponse:
    """The drop-in queues of the member's units, and opening one for a period."""
    units = selectors.units_of(staff=request.staff)
    form = QueueOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        queue = queues.queue_open(
            unit_id=data["unit"],
            by=request.staff,
            name=data["name"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            form_key=data["form_key"],
        )
        return redirect("video_staff:queue", queue_id=queue.pk)
    context = {
        "units": units,
        "queues": selectors.queues_of(units=units),
        "form": form,
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "video/staff/queues.html", context, status=400 if request.method == "POST" else 200)


@staff_required
@require_GET
def queue(request: StaffRequest, queue_id: uuid.UUID) -> HttpResponse:
    found, ticket = services.queue_ticket(staff=request.staff, queue_id=queue_id)
    context = {
        "queue": found,
        "ticket": ticket,
        "other_queues": [
            q
            for q in queues.open_queues()
            if q.pk != found.pk and q.unit_id in {u.pk for u in selectors.units_of(staff=request.staff)}
        ],
        "colleagues": selectors.colleagues_of(unit=found.unit, staff=request.staff),
    }
    return render(request, "video/staff/queue.html", context)


@staff_required
@require_GET
def drop_in_room(request: StaffRequest, caller_id: uuid.UUID) -> HttpResponse:
    entry = services.room_enter_caller_staff(staff=request.staff, caller_id=caller_id)
    return with_devices(render(request, "video/room.html", {"entry": entry, "side": "staff"}))
