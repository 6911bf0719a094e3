"""Bookings as iCalendar (RFC 5545): one .ics per booking, and a personal feed at an unguessable,
revocable link covering the person and those they book for.

A calendar lives on phones and in shared accounts: an event says the time, the place and the
unit — what the person needs to get there — but never the visit type, which can be medical.

Both are reads of people's bookings and are logged. The feed is fetched by a calendar app with the
link's secret and no session, so nobody is logged in: the entries name the link's owner as the
reader, since the owner made the link and gave it to the app (which of the owner's devices or
services asked cannot be known), and the detail says it came through the link.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from vardkontakt.access.audit import Actor, audit_each
from vardkontakt.booking.models import Booking, BookingStatus, CalendarFeed
from vardkontakt.booking.selectors import FEED_READ, ICS_READ, booking_for_reader, dependants_for_bookings
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


def booking_file(*, reader: Patient, booking_id: uuid.UUID | str) -> bytes:
    """One booking as an .ics file, for a reader who may book for its patient (else 404); logged."""
    return booking_calendar([booking_for_reader(reader=reader, booking_id=booking_id, action=ICS_READ)])


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


def _feed_owner(token: str) -> Patient | None:
    feed = CalendarFeed.objects.select_related("owner").filter(token_digest=digest(token)).first()
    return feed.owner if feed else None


def feed_by_token(token: str) -> bytes | None:
    """The feed behind a link, or None for a link that does not exist (any more)."""
    owner = _feed_owner(token)
    return feed_calendar(owner) if owner is not None else None


def feed_calendar(owner: Patient) -> bytes:
    """Who is in the feed is judged now, each time it is read: a child who turns 13 or a proxy that
    ends leaves the feed without anyone touching it. One log entry per person whose bookings it
    shows (someone with none in it is not read)."""
    people = dependants_for_bookings(owner)
    bookings = list(
        Booking.objects.filter(patient__in=people, slot__starts_at__gte=timezone.now() - FEED_PAST)
        .exclude(status=BookingStatus.REBOOKED)
        .select_related("patient", "slot__unit")
        .order_by("slot__starts_at")
    )
    shown = {booking.patient_id: booking.patient for booking in bookings}
    audit_each(
        actor=Actor.of_patient(owner),
        action=FEED_READ,
        reads=[(patient, None) for patient in shown.values()],
        detail="calendar link",
        for_each=True,
    )
    return booking_calendar(bookings, owner=owner)
