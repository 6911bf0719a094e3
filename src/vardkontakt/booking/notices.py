"""What a booking change tells people, through the outbox (content-free; see notifications/messages.py).

The patient is told, and so is the resident who acted for them (a guardian or proxy), since a
child has no contact details of their own. Each notice is caused by one booking row, so the
same change never notifies twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from vardkontakt.booking.external_models import ExternalAppointment, ExternalStatus
from vardkontakt.booking.models import Booking, BookingStatus, EarlierTimeOffer
from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import About, Delivery, Notification, NotificationKind
from vardkontakt.notifications.services import deliveries_withdraw, notice_build, notification_create


def recipients(*, patient: Patient, booked_by: Patient | None) -> list[Patient]:
    """Who is told of a change of a booking of ``patient`` made by ``booked_by``."""
    return [patient] if booked_by is None or booked_by.pk == patient.pk else [patient, booked_by]


def _recipients(booking: Booking) -> list[Patient]:
    return recipients(
        patient=booking.patient, booked_by=booking.booked_by_patient if booking.booked_by_patient_id else None
    )


def tell(booking: Booking, kind: NotificationKind) -> None:
    """Call in the transaction that created or ended ``booking``: a cause is told once, and a
    booking is created once and ends once."""
    for person in _recipients(booking):
        notification_create(recipient=person, cause_is_new=True, **_notice(booking, kind))


def told(
    booking: Booking, kind: NotificationKind, *, devices: dict[str, list[str]]
) -> list[tuple[Notification, list[Delivery]]]:
    """tell's notices and their deliveries, not yet written, for a caller that writes them in a
    statement of its own (booking_statements); ``devices``: each person's push subscriptions."""
    return [
        notice_build(recipient=person, devices=devices.get(str(person.pk), []), **_notice(booking, kind))
        for person in _recipients(booking)
    ]


def _notice(booking: Booking, kind: NotificationKind) -> dict[str, Any]:
    return {"kind": kind, "cause": f"{kind}:{booking.pk}", "about": About.BOOKING, "about_id": booking.pk}


def tell_offer(offer: EarlierTimeOffer) -> None:
    """An earlier time is offered: to the person whose booking it is and to whoever asked for them.
    The text that leaves the platform says only until when to answer (notifications/messages.py);
    the link on the person's page leads to the booking, where the offer is."""
    request = offer.request
    people = [request.patient]
    if request.asked_by_id and request.asked_by_id != request.patient_id:
        people.append(request.asked_by)  # type: ignore[arg-type]
    for person in people:
        notification_create(
            recipient=person,
            kind=NotificationKind.EARLIER_TIME_OFFERED,
            cause=f"offer:{offer.pk}",
            cause_is_new=True,
            context={"starts_at": offer.slot.starts_at.isoformat(), "until": offer.expires_at.isoformat()},
            about=About.BOOKING,
            about_id=request.booking_id,
        )


def reminder_cause(booking: Booking) -> str:
    return f"reminder:{booking.pk}"


def withdraw_reminder(booking: Booking) -> None:
    """A cancelled or moved visit is never reminded of, even if its text was already queued."""
    deliveries_withdraw(kind=NotificationKind.BOOKING_REMINDER, cause=reminder_cause(booking))


def send_due_reminders(*, now: dt.datetime | None = None) -> int:
    """Queue the SMS reminder of every active booking that asked for one and is within its unit's
    reminder time (default 24 h) of the start; each booking once (reminder_sent_at). Then those of
    the appointments other booking systems publish (send_due_external_reminders)."""
    from vardkontakt.booking.models import BookingSettings

    now = now or timezone.now()
    sent = 0
    hours_by_unit = dict(BookingSettings.objects.values_list("unit_id", "reminder_hours"))
    longest = max([24, *hours_by_unit.values()])
    candidates = Booking.objects.filter(
        status=BookingStatus.ACTIVE,
        sms_reminder=True,
        reminder_sent_at__isnull=True,
        slot__starts_at__gt=now,
        slot__starts_at__lte=now + dt.timedelta(hours=longest),
    ).values_list("pk", flat=True)
    for booking_id in list(candidates):
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("slot__visit_type", "patient")
                .filter(pk=booking_id, status=BookingStatus.ACTIVE, reminder_sent_at__isnull=True)
                .first()
            )
            if booking is None:
                continue
            hours = hours_by_unit.get(booking.slot.unit_id, 24)
            if booking.slot.starts_at - dt.timedelta(hours=hours) > now:
                continue
            booking.reminder_sent_at = now
            booking.save(update_fields=["reminder_sent_at"])
            notification_create(
                recipient=booking.patient,
                kind=NotificationKind.BOOKING_REMINDER,
                cause=reminder_cause(booking),
                # A video visit's reminder says so and how to join: the time and "video", nothing else.
                context={"starts_at": booking.slot.starts_at.isoformat(), **video_context(booking)},
                about=About.BOOKING,
                about_id=booking.pk,
            )
            sent += 1
    return sent + send_due_external_reminders(now=now)


def external_reminder_cause(row: ExternalAppointment) -> str:
    """One reminder per external appointment and time: moved by its source, it is reminded of again
    at its new time (the old time's reminder withdrawn, booking.external)."""
    return f"reminder:external:{row.pk}:{row.starts_at.astimezone(dt.UTC):%Y%m%dT%H%M}"


def withdraw_external_reminder(row: ExternalAppointment) -> None:
    """``row`` as it was before its source cancelled or moved it: its reminder not yet sent stays."""
    deliveries_withdraw(kind=NotificationKind.BOOKING_REMINDER, cause=external_reminder_cause(row))


def send_due_external_reminders(*, now: dt.datetime | None = None) -> int:
    """The reminder of every appointment another booking system published that is booked and within
    its unit's reminder time (default 24 h) of the start, for a person who chose digital letters
    (the choice covers reminders by text message, SPEC §8): the same neutral text as a booking's,
    the time and nothing else; once per appointment and time (the notice's cause)."""
    from vardkontakt.booking.models import BookingSettings

    now = now or timezone.now()
    hours_by_unit = dict(BookingSettings.objects.values_list("unit_id", "reminder_hours"))
    longest = max([24, *hours_by_unit.values()])
    rows = ExternalAppointment.objects.filter(
        status=ExternalStatus.BOOKED,
        patient__digital_letters=True,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(hours=longest),
    ).select_related("patient")
    due = [row for row in rows if row.starts_at - dt.timedelta(hours=hours_by_unit.get(row.unit_id, 24)) <= now]
    told = set(
        Notification.objects.filter(
            kind=NotificationKind.BOOKING_REMINDER, cause__in=[external_reminder_cause(row) for row in due]
        ).values_list("cause", flat=True)
    )
    sent = 0
    for row in due:
        if external_reminder_cause(row) in told:
            continue
        # Not "new": another worker may have told it meanwhile, and the notice is stored once.
        with transaction.atomic():
            notification_create(
                recipient=row.patient,
                kind=NotificationKind.BOOKING_REMINDER,
                cause=external_reminder_cause(row),
                context={"starts_at": row.starts_at.isoformat()},
            )
        sent += 1
    return sent


def video_context(booking: Booking) -> dict[str, str]:
    return {"video": "yes"} if booking.slot.visit_type.video else {}
