"""A video visit is booked like any visit; its booking page, its letter and its reminder say it is
a video visit and how to join, and nothing medical leaves the platform."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.video.conftest import logged_in, video_visit_of
from vardkontakt.booking.notices import send_due_reminders
from vardkontakt.letters.models import LetterKind
from vardkontakt.letters.render import letter_render
from vardkontakt.notifications.messages import render
from vardkontakt.notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


def test_the_booking_page_leads_to_the_video_visit(personas: Personas, unit_x):
    booking = video_visit_of(personas.tolvan, unit_x, personas.staff_x, in_minutes=24 * 60)
    page = logged_in(personas.tolvan).get(reverse("booking:detail", args=[booking.pk])).content.decode()
    assert reverse("video:room", args=[booking.pk]) in page
    booking.slot.visit_type.video = False
    booking.slot.visit_type.save(update_fields=["video"])
    page = logged_in(personas.tolvan).get(reverse("booking:detail", args=[booking.pk])).content.decode()
    assert reverse("video:room", args=[booking.pk]) not in page


def test_the_reminder_says_video_and_how_to_join_and_nothing_else(personas: Personas, unit_x):
    booking = video_visit_of(personas.tolvan, unit_x, personas.staff_x, in_minutes=10 * 60)
    booking.sms_reminder = True
    booking.save(update_fields=["sms_reminder"])
    assert send_due_reminders(now=timezone.now()) == 1
    notice = Notification.objects.get(kind=NotificationKind.BOOKING_REMINDER, recipient=personas.tolvan)
    assert notice.context["video"] == "yes"
    for language in ("sv", "en"):
        message = render(NotificationKind.BOOKING_REMINDER, language=language, context=notice.context)
        assert "video" in message.body.lower()
        assert unit_x.name not in message.body
        assert "Videobesök" not in message.body  # the visit type's name is never sent
    plain = render(NotificationKind.BOOKING_REMINDER, context={"starts_at": timezone.now().isoformat()})
    assert "video" not in plain.body.lower()


def test_the_letter_tells_how_to_join_from_the_units_minutes(personas: Personas, unit_x):
    from vardkontakt.booking.schedule import settings_of

    rules = settings_of(unit_x)
    rules.video_join_minutes = 20
    rules.save(update_fields=["video_join_minutes"])
    booking = video_visit_of(personas.tolvan, unit_x, personas.staff_x, in_minutes=3 * 24 * 60)
    rendered = letter_render(booking, LetterKind.APPOINTMENT)
    assert "20 minuter" in rendered.html_sv
    assert "20 minutes" in rendered.html_en
    assert booking.slot.starts_at > timezone.now() + dt.timedelta(days=2)
