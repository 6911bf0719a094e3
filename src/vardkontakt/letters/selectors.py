"""Reads of letters, already filtered by the policy and logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from django.utils import timezone

from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking.external_models import ExternalAppointment
from vardkontakt.booking.models import BookingStatus
from vardkontakt.booking.selectors import what_may_change
from vardkontakt.identity.models import Patient
from vardkontakt.letters import policy
from vardkontakt.letters.models import Letter, LetterKind

LIST_READ = "letter.list.read"


def letters_of(*, reader: Patient, subject: Patient) -> list[Letter]:
    """The subject's letters, newest first (one entry in the log for the list: it shows what each
    letter is about and when it came)."""
    if not policy.may_read_letters(reader, subject):
        raise Http404
    rows = list(
        Letter.objects.filter(patient=subject)
        .select_related("unit")
        .defer("html_sv", "html_en", "pdf")
        .order_by("-issued_at")[:200]
    )
    audit(actor=Actor.of_patient(reader), action=LIST_READ, patient=subject, on_behalf_of=subject, object_type="Letter")
    return rows


def actions_for(letter: Letter, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the reader may do about the appointment from the letter: cancel and move online where
    the visit type allows it and the booking is still the letter's, otherwise call the unit."""
    now = now or timezone.now()
    if letter.kind == LetterKind.CANCELLATION:
        return {"booking": None, "replaced": False, "may_cancel": False, "may_rebook": False}
    if letter.external is not None:
        return _external_actions(letter, letter.external, now)
    booking = letter.booking
    if booking is None or booking.status != BookingStatus.ACTIVE:
        # Moved or cancelled since: the letter about that is (or will be) the newer one.
        return {"booking": None, "replaced": True, "may_cancel": False, "may_rebook": False}
    may = what_may_change(booking, now=now)
    # Only a visit type the unit lets residents book online is changed from the letter (the same
    # rule the letter's text gives); any other is the unit's to change, by phone.
    online = booking.slot.visit_type.bookable_online and booking.slot.visit_type.active
    return {
        "booking": booking,
        "replaced": False,
        "may_cancel": online and may["may_cancel"],
        "may_rebook": online and may["may_rebook"],
    }


def _external_actions(letter: Letter, row: ExternalAppointment, now: dt.datetime) -> dict[str, Any]:
    """An appointment another booking system holds: the platform cannot change it, so the letter
    says to call the unit, and, while the appointment is still as the letter told it and to come,
    links to its page, where the resident may ask the unit to cancel or move it."""
    if not row.is_open or row.starts_at != letter.appointment_at or row.unit_id != letter.unit_id:
        return {"booking": None, "replaced": True, "may_cancel": False, "may_rebook": False}
    return {
        "booking": None,
        "external": row if row.starts_at > now else None,
        "replaced": False,
        "may_cancel": False,
        "may_rebook": False,
    }
