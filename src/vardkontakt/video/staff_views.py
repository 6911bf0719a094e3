"""The staff's side of the video visits: the day's list (who waits, for how long) and the room."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.video import selectors, services
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
