"""Bookings as iCalendar (RFC 5545): one .ics per booking, and personal feeds at unguessable,
expiring, revocable links covering the person and those they book for.

A calendar lives on phones and in shared accounts, and a feed is fetched by a third-party service
for as long as the link lives. So a feed tells only the time and "Vårdbesök" unless its owner chose
the details when making it (with a fresh e-ID login): the unit (a psychiatric clinic says a lot),
the place, the visit type and the first name of a child or principal. A single .ics file is taken
by the person for one booking, at that moment, and carries what they need: the visit type, the
practitioner's profession, the unit's phone and cancellation rule.

Each event keeps its UID through moves (``Booking.event_uid``) with SEQUENCE one higher per move
and per cancellation, so a calendar that holds the event updates it instead of adding a second.
Every event carries an alarm.

Both are reads of people's bookings and are logged. The feed is fetched by a calendar app with the
link's secret and no session, so nobody is logged in: the entries name the link's owner as the
reader, since the owner made the link and gave it to the app (which of the owner's devices or
services asked cannot be known), and the detail says it came through the link.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NamedTuple

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from icalendar import Alarm, Calendar, Event

from vardkontakt.access.audit import Actor, audit, audit_each
from vardkontakt.booking.models import Booking, BookingStatus, CalendarFeed
from vardkontakt.booking.selectors import FEED_READ, ICS_READ, booking_for_reader, dependants_for_bookings
from vardkontakt.core.templatetags.core_language import translated_text
from vardkontakt.core.tokens import digest, new_secret
from vardkontakt.identity.models import Patient

PRODUCT = "-//Vardkontakt//Tidbok//SV"
FEED_PAST = dt.timedelta(days=90)
FEED_LIFETIME = dt.timedelta(days=365)  # a link works 12 months; then a new one is made
ALARM_BEFORE = dt.timedelta(hours=2)
FEED_CREATE = "booking.feed.create"
FEED_REVOKE = "booking.feed.revoke"


def _description(booking: Booking) -> str:
    slot = booking.slot
    unit = slot.unit
    lines = [
        _("%(visit)s with a %(profession)s.")
        % {
            "visit": translated_text(slot.visit_type, "name"),
            "profession": slot.practitioner.get_profession_display().lower(),
        }
    ]
    hours = slot.visit_type.cancellation_deadline_hours
    rule = ngettext(
        "Cancel online up to %(hours)d hour before the visit; later, call the unit.",
        "Cancel online up to %(hours)d hours before the visit; later, call the unit.",
        hours,
    ) % {"hours": hours}
    lines.append(rule)
    if unit.phone:
        lines.append(_("%(unit)s: %(phone)s") % {"unit": unit.name, "phone": unit.phone})
    return "\n".join(lines)


def _event(booking: Booking, *, detailed: bool, with_name: bool) -> Event:
    slot = booking.slot
    event = Event()
    event.add("uid", f"{booking.event_uid}@vardkontakt")
    cancelled = booking.status != BookingStatus.ACTIVE
    event.add("sequence", booking.calendar_sequence + (1 if cancelled else 0))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    if detailed:
        summary = _("%(visit)s at %(unit)s") % {
            "visit": translated_text(slot.visit_type, "name"),
            "unit": slot.unit.name,
        }
        if with_name:
            summary += f" ({booking.patient.given_name})"
        event.add("location", ", ".join(p for p in (slot.place, slot.unit.street_address, slot.unit.city) if p))
        event.add("description", _description(booking))
    else:
        summary = _("Care appointment")
    event.add("summary", summary)
    if cancelled:
        event.add("status", "CANCELLED")
    else:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    return event


def booking_calendar(bookings: list[Booking], *, reader: Patient, detailed: bool) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Appointments"))
    for booking in bookings:
        with_name = booking.patient_id != reader.pk
        calendar.add_component(_event(booking, detailed=detailed, with_name=with_name))
    return calendar.to_ical()


def booking_file(*, reader: Patient, booking_id: uuid.UUID | str) -> bytes:
    """One booking as an .ics file, with its details, for a reader who may book for its patient
    (else 404); logged."""
    booking = booking_for_reader(reader=reader, booking_id=booking_id, action=ICS_READ)
    return booking_calendar([booking], reader=reader, detailed=True)


# --- the feeds -------------------------------------------------------------------------------------


class NewFeed(NamedTuple):
    feed: CalendarFeed
    token: str  # shown once: only its digest is kept


def feed_create(*, owner: Patient, detailed: bool = False, form_key: str = "") -> NewFeed:
    """A new link of the owner's, working for FEED_LIFETIME. (The page asks for a fresh e-ID login
    first: identity.decorators.recent_login_required.)

    The same form sent again (``form_key``; a double click, a reload) makes no second link: the
    link it made gets a new token instead, as only a digest of the first is kept and the browser
    shows the answer to the last click. The owner's row lock puts the two requests in order."""
    token = new_secret()
    now = timezone.now()
    with transaction.atomic():
        Patient.objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
        feed = CalendarFeed.objects.filter(owner=owner, form_key=form_key).first() if form_key else None
        if feed is not None and feed.expires_at <= now:  # a page kept open for a year: a new link
            feed.delete()
            feed = None
        content = "details" if detailed else "minimal"
        if feed is not None:
            feed.token_digest, feed.detailed = digest(token), detailed
            feed.save(update_fields=["token_digest", "detailed"])
            detail = f"{content}, the same form again: a new token for the link made by it"
        else:
            feed = CalendarFeed.objects.create(
                owner=owner,
                token_digest=digest(token),
                detailed=detailed,
                created_at=now,
                expires_at=now + FEED_LIFETIME,
                form_key=form_key,
            )
            detail = f"{content}, until {feed.expires_at.date().isoformat()}"
        audit(actor=Actor.of_patient(owner), action=FEED_CREATE, patient=owner, obj=feed, detail=detail)
    return NewFeed(feed, token)


def feeds_of(owner: Patient) -> list[CalendarFeed]:
    """The owner's links that still work, oldest first."""
    return list(CalendarFeed.objects.filter(owner=owner, expires_at__gt=timezone.now()))


def feed_revoke(*, owner: Patient, feed_id: str) -> None:
    """The link stops working at once; only the owner's own links (anything else: 404)."""
    with transaction.atomic():
        try:
            feed = CalendarFeed.objects.select_for_update().filter(owner=owner, pk=uuid.UUID(feed_id)).first()
        except ValueError:
            feed = None
        if feed is None:
            raise Http404
        audit(actor=Actor.of_patient(owner), action=FEED_REVOKE, patient=owner, obj=feed)
        feed.delete()


def feed_path(token: str) -> str:
    return reverse("booking:calendar_feed", kwargs={"token": token})


def _live_feed(token: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.select_related("owner")
        .filter(token_digest=digest(token), expires_at__gt=timezone.now())
        .first()
    )


def feed_by_token(token: str) -> bytes | None:
    """The feed behind a link, or None for a link that does not exist (any more) or has expired."""
    feed = _live_feed(token)
    if feed is None:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now())
    return feed_calendar(feed.owner, detailed=feed.detailed)


def feed_calendar(owner: Patient, *, detailed: bool = False) -> bytes:
    """Who is in the feed is judged now, each time it is read: a child who turns 13 or a proxy that
    ends leaves the feed without anyone touching it. One log entry per person whose bookings it
    shows (someone with none in it is not read)."""
    people = dependants_for_bookings(owner)
    bookings = list(
        Booking.objects.filter(patient__in=people, slot__starts_at__gte=timezone.now() - FEED_PAST)
        .exclude(status=BookingStatus.REBOOKED)
        .select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner")
        .order_by("slot__starts_at")
    )
    shown = {booking.patient_id: booking.patient for booking in bookings}
    audit_each(
        actor=Actor.of_patient(owner),
        action=FEED_READ,
        reads=[(patient, None) for patient in shown.values()],
        detail="calendar link, details" if detailed else "calendar link",
        for_each=True,
    )
    return booking_calendar(bookings, reader=owner, detailed=detailed)
