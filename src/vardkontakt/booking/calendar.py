"""Bookings as iCalendar (RFC 5545): one .ics per booking, and a personal feed at an unguessable,
revocable link covering the person and those they book for.

A calendar lives on phones and in shared accounts: an event says the time, the place and the
unit — what the person needs to get there — but never the visit type, which can be medical.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from vardkontakt.booking.models import Booking, BookingStatus, CalendarFeed
from vardkontakt.booking.selectors import dependants_for_bookings
from vardkontakt.core.tokens import digest, new_secret
from vardkontakt.identity.models import Patient

PRODUCT = "-//Vardkontakt//Tidbok//SV"
FEED_PAST = dt.timedelta(days=90)


def _event(booking: Booking, *, with_name: bool) -> Event:
    slot = booking.slot
    event = Event()
    event.add("uid", f"{booking.pk}@vardkontakt")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    summary = _("Appointment at %(unit)s") % {"unit": slot.unit.name}
    if with_name:
        summary += f" ({booking.patient.given_name})"
    event.add("summary", summary)
    event.add("location", ", ".join(part for part in (slot.place, slot.unit.street_address, slot.unit.city) if part))
    if booking.status != BookingStatus.ACTIVE:
        event.add("status", "CANCELLED")
    return event


def booking_calendar(bookings: list[Booking], *, owner: Patient | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Appointments"))
    for booking in bookings:
        calendar.add_component(_event(booking, with_name=owner is not None and booking.patient_id != owner.pk))
    return calendar.to_ical()


def feed_create(owner: Patient) -> str:
    """A new link; the old one stops working at once."""
    token = new_secret()
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(
            owner=owner, defaults={"token_digest": digest(token), "created_at": timezone.now()}
        )
    return token


def feed_revoke(owner: Patient) -> None:
    CalendarFeed.objects.filter(owner=owner).delete()


def has_feed(owner: Patient) -> bool:
    return CalendarFeed.objects.filter(owner=owner).exists()


def feed_path(token: str) -> str:
    return reverse("booking:calendar_feed", kwargs={"token": token})


def feed_owner(token: str) -> Patient | None:
    feed = CalendarFeed.objects.select_related("owner").filter(token_digest=digest(token)).first()
    return feed.owner if feed else None


def feed_calendar(owner: Patient) -> bytes:
    """Who is in the feed is judged now, each time it is read: a child who turns 13 or a proxy that
    ends leaves the feed without anyone touching it."""
    people = dependants_for_bookings(owner)
    bookings = (
        Booking.objects.filter(patient__in=people, slot__starts_at__gte=timezone.now() - FEED_PAST)
        .exclude(status=BookingStatus.REBOOKED)
        .select_related("patient", "slot__unit")
        .order_by("slot__starts_at")
    )
    return booking_calendar(list(bookings), owner=owner)
