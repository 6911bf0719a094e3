"""The resident's video visit: the device test, the waiting room and the meeting on one page
(video.js), and the evaluation after it."""

from __future__ import annotations

import contextlib
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vardkontakt.access.acting import acting_for
from vardkontakt.identity.decorators import PatientRequest, patient_required
from vardkontakt.video import queues, selectors, services
from vardkontakt.video.forms import DropInJoinForm, EvaluationForm


def with_devices(response: HttpResponse) -> HttpResponse:
    """The video pages are the only ones that may use the camera and microphone."""
    response["Permissions-Policy"] = settings.VIDEO_PERMISSIONS_POLICY
    return response


@patient_required
@require_GET
def room(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    entry = services.room_enter_resident(actor=request.patient, booking_id=booking_id)
    return with_devices(render(request, "video/room.html", {"entry": entry, "side": "resident"}))


@patient_required
@require_http_methods(["GET", "POST"])
def evaluation(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    selectors.room_to_evaluate(reader=request.patient, booking_id=booking_id)
    form = EvaluationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A second send (a double click) changes nothing; the thanks are the same.
        with contextlib.suppress(services.AlreadyAnswered):
            services.evaluation_answer(actor=request.patient, booking_id=booking_id, **form.cleaned_data)
        return redirect("video:evaluation_thanks", booking_id=booking_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "video/evaluation.html", {"form": form, "booking_id": booking_id}, status=status)


@patient_required
@require_GET
def evaluation_thanks(request: PatientRequest, booking_id: uuid.UUID) -> HttpResponse:
    return render(request, "video/evaluation_thanks.html")


@patient_required
@require_http_methods(["GET", "POST"])
def drop_in(request: PatientRequest) -> HttpResponse:
    """The open drop-in queues, and joining one with a short reason (for oneself or the one acted for)."""
    form = DropInJoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            caller = queues.caller_join(
                actor=request.patient,
                subject=acting_for(request).subject,
                queue_id=form.cleaned_data["queue"],
                reason=form.cleaned_data["reason"],
                form_key=form.cleaned_data["form_key"],
            )
        except queues.QueueRefused:
            form.add_error(None, _("You are already waiting in this queue, or the reason is missing."))
        else:
            return redirect("video:caller", caller_id=caller.pk)
    context = {"queues": queues.open_queues(), "form": form, "form_key": uuid.uuid4().hex}
    return render(request, "video/drop_in.html", context, status=400 if request.method == "POST" else 200)


@patient_required
@require_GET
def caller(request: PatientRequest, caller_id: uuid.UUID) -> HttpResponse:
    found, ticket = services.caller_ticket(actor=request.patient, caller_id=caller_id)
    return render(request, "video/caller.html", {"caller": found, "ticket": ticket})


@patient_required
@require_GET
def drop_in_room(request: PatientRequest, caller_id: uuid.UUID) -> HttpResponse:
    entry = services.room_enter_caller(actor=request.patient, caller_id=caller_id)
    return with_devices(render(request, "video/room.html", {"entry": entry, "side": "resident"}))


@patient_required
@require_GET
def interpreting(request: PatientRequest) -> HttpResponse:
    """The invitations to interpret that the person has today (the unit and the time only)."""
    invitations = selectors.invitations_of_interpreter(interpreter=request.patient)
    return render(request, "video/interpreting.html", {"invitations": invitations})


@patient_required
@require_GET
def interpreter_room(request: PatientRequest, invitation_id: uuid.UUID) -> HttpResponse:
    entry = services.room_enter_interpreter(actor=request.patient, invitation_id=invitation_id)
    return with_devices(render(request, "video/room.html", {"entry": entry, "side": "interpreter"}))
