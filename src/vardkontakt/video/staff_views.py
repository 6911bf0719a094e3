"""The staff's side of the video visits: the day's list (who waits, for how long) and the room."""

from __future__ import annotations

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.identity.decorators import StaffRequest, staff_required
from vardkontakt.video import queues, selectors, services
from vardkontakt.video.forms import InterpreterInviteForm, QueueOpenForm
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


@staff_required
@require_http_methods(["GET", "POST"])
def interpreters(request: StaffRequest, booking_id: uuid.UUID) -> HttpResponse:
    """One video visit's interpreters: invite one (personnummer, and where the notice goes), see
    and withdraw the invitations. Other units' visits: 404."""
    form = InterpreterInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.interpreter_invite(
                staff=request.staff,
                booking_id=booking_id,
                personnummer=form.cleaned_data["personnummer"],
                notice=form.cleaned_data["contact"],
            )
        except services.InviteRefused:
            form.add_error(
                None, _("The interpreter cannot be invited: the visit is over, or the number is the patient's own.")
            )
        else:
            messages.success(request, _("The interpreter is invited. A notice with the time has been sent."))
            return redirect("video_staff:interpreters", booking_id=booking_id)
    visit = selectors.interpreters_of_visit(staff=request.staff, booking_id=booking_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "video/staff/interpreters.html", {"visit": visit, "form": form}, status=status)


@staff_required
@require_POST
def interpreter_withdraw(request: StaffRequest, booking_id: uuid.UUID, invitation_id: uuid.UUID) -> HttpResponse:
    sockets = services.interpreter_withdraw(staff=request.staff, booking_id=booking_id, invitation_id=invitation_id)
    layer = get_channel_layer()
    for channel in sockets:  # out of the room now, wherever their socket is served
        if layer is not None:
            async_to_sync(layer.send)(channel, {"type": "video.removed"})
    messages.success(request, _("The invitation is withdrawn."))
    return redirect("video_staff:interpreters", booking_id=booking_id)
