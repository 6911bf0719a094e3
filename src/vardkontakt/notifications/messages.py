"""What leaves the platform by e-mail and SMS. Fixed texts only: never a name, a unit, a diagnosis
or anything from a case, because a phone or a mailbox may be seen by others (SPEC §9).

Residents get the same neutral text for every kind: even "your record is sealed" or "someone
asked you to be their proxy" could put a person at risk if the wrong eyes see the phone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.notifications.models import NotificationKind

STAFF_KINDS = {NotificationKind.CASE_ASSIGNED, NotificationKind.DEADLINE_DIGEST, NotificationKind.ONBOARDING_INTEREST}


@dataclass(frozen=True)
class OutgoingMessage:
    subject: str
    body: str


def render(kind: str, *, language: str = "sv", context: dict[str, str] | None = None) -> OutgoingMessage:
    with translation.override(language):
        site = settings.SITE_URL
        if kind == NotificationKind.BOOKING_REMINDER and context and context.get("starts_at"):
            # The time only: never the unit or the kind of visit (SPEC §9).
            starts = dt.datetime.fromisoformat(context["starts_at"]).astimezone(STOCKHOLM)
            if context.get("video"):
                # A video visit: how to join, which a person needs and which tells nothing medical.
                return OutgoingMessage(
                    subject=_("Reminder of your video appointment"),
                    body=_(
                        "Reminder: you have a video appointment on %(date)s at %(time)s. Log in at %(site)s and "
                        "open the appointment to join; the waiting room opens shortly before. Please do not reply "
                        "to this message."
                    )
                    % {"date": date_format(starts.date(), "j F"), "time": starts.strftime("%H:%M"), "site": site},
                )
            return OutgoingMessage(
                subject=_("Reminder of your appointment"),
                body=_(
                    "Reminder: you have an appointment on %(date)s at %(time)s. Log in at %(site)s to see "
                    "where, or to cancel. Please do not reply to this message."
                )
                % {"date": date_format(starts.date(), "j F"), "time": starts.strftime("%H:%M"), "site": site},
            )
        if kind == NotificationKind.INTERPRETER_INVITED and context and context.get("starts_at"):
            # The time and how to join: never the patient, the unit or the kind of visit.
            starts = dt.datetime.fromisoformat(context["starts_at"]).astimezone(STOCKHOLM)
            return OutgoingMessage(
                subject=_("You have been asked to interpret at a video meeting"),
                body=_(
                    "You have been asked to interpret at a video meeting on %(date)s at %(time)s. Log in at "
                    "%(site)s with your e-ID and open the notice on your start page to join; the waiting "
                    "room opens shortly before. Please do not reply to this message."
                )
                % {"date": date_format(starts.date(), "j F"), "time": starts.strftime("%H:%M"), "site": site},
            )
        if kind == NotificationKind.EARLIER_TIME_OFFERED and context and context.get("until"):
            # When to answer by, and nothing of the visit: not the unit, the kind or the new time.
            until = dt.datetime.fromisoformat(context["until"]).astimezone(STOCKHOLM)
            return OutgoingMessage(
                subject=_("An earlier time is offered to you"),
                body=_(
                    "An earlier time has become free for your appointment. Log in at %(site)s before %(date)s "
                    "at %(time)s to take it; after that it is offered to the next in line. Please do not reply "
                    "to this message."
                )
                % {"date": date_format(until.date(), "j F"), "time": until.strftime("%H:%M"), "site": site},
            )
        if kind == NotificationKind.CASE_ASSIGNED:
            return OutgoingMessage(
                subject=_("A case has been assigned to you"),
                body=_("A case has been assigned to you in %(service)s. Log in at %(site)s to read it.")
                % {"service": settings.SERVICE_NAME_STAFF, "site": site},
            )
        if kind == NotificationKind.ONBOARDING_INTEREST:
            return OutgoingMessage(
                subject=_("A care unit has registered its interest"),
                body=_("A care unit has registered its interest in the e-services. Log in at %(site)s to see it.")
                % {"site": site},
            )
        if kind == NotificationKind.DEADLINE_DIGEST:
            return OutgoingMessage(
                subject=_("Cases near their deadline"),
                body=_(
                    "Your unit has cases that are near or past their answer deadline. Log in at %(site)s to see them."
                )
                % {"site": site},
            )
        return OutgoingMessage(
            subject=_("Something new in %(service)s") % {"service": settings.SERVICE_NAME_RESIDENTS},
            body=_(
                "Hello! There is something new for you in %(service)s. Log in at %(site)s to read it. "
                "Please do not reply to this message."
            )
            % {"service": settings.SERVICE_NAME_RESIDENTS, "site": site},
        )
