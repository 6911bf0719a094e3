"""The project's URLs plus three bare views for bench/booking_rush.py: what a logged-in resident's
request costs before any view work (``floor``), the same with the site's base template rendered
around a one-line message (``page``), and the *naive booking view* the issue calibrates its goal
against (``naive``). The benchmark's server runs with these URLs (bench/rush_wsgi.py); nothing
here is part of the project."""

import uuid

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vardkontakt.booking.models import Booking, BookingChannel, BookingStatus, Slot
from vardkontakt.identity.decorators import patient_required, public
from vardkontakt.identity.models import Patient
from vardkontakt.urls import urlpatterns as project


@patient_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@patient_required
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "core/waiting_room.html", {"retry_after": 5})


@public
@csrf_exempt
@require_POST
def naive(request: HttpRequest, slot_id: uuid.UUID) -> HttpResponse:
    """A booking view as a first attempt would write it: no login, no form, no rules beyond
    "free", no notices; the person named in the POST; the slot locked, checked and booked.
    For calibration only (never reachable in the project)."""
    patient = Patient.objects.get(personnummer=request.POST["personnummer"])
    with transaction.atomic():
        slot = Slot.objects.select_for_update().get(pk=slot_id)
        if Booking.objects.filter(slot=slot, status=BookingStatus.ACTIVE).exists():
            return HttpResponse("taken", status=409)
        booking = Booking.objects.create(
            slot=slot,
            patient=patient,
            channel=BookingChannel.ONLINE,
            booked_by_patient=patient,
            created_at=timezone.now(),
        )
    return HttpResponse(str(booking.pk), status=201)


urlpatterns = [
    path("bench/floor/", floor),
    path("bench/page/", page),
    path("bench/naive/<uuid:slot_id>/", naive),
    *project,
]
