"""The project's URLs plus two bare pages for bench/booking_rush.py's cost breakdown: what a
logged-in resident's request costs before any view work (``floor``), and with the site's base
template rendered around a one-line message (``page``)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from vardkontakt.access.decorators import patient_required
from vardkontakt.urls import urlpatterns as project


@patient_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@patient_required
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "core/waiting_room.html", {"retry_after": 5})


urlpatterns = [path("bench/floor/", floor), path("bench/page/", page), *project]
