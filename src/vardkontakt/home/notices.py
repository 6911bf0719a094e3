""" "Nytt för dig" on the resident's start page: the person's unread notices in words, each a link
to what it is about.

An SMS or e-mail says only that something is new (notifications/messages.py). This page is behind
the e-ID login and may say more: the appointment's time, the unit, the case's service, the other
party of a proxy. It names them only where that is safe, which is where the reader may see the
thing now (access/policy.py): a guardian whose child has turned 13, or a proxy since revoked, gets
the notice's plain words and no link, and the other party of a declined or ended proxy is not
named. Seeing another person's booking or case here is a read of
their data, logged as one ("notice.read"); one's own is not, as the start page itself is not.

A notice that a later one has overtaken is left out (the confirmation of a booking since moved or
cancelled), and of several about the same thing only the newest is shown; opening or dismissing it
takes them all off the list (notifications.services.notification_mark_read).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vardkontakt.access import policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.models import OPEN_PROXY_STATUSES, Proxy, RecordSeal
from vardkontakt.booking.models import Booking, BookingStatus
from vardkontakt.cases.models import Case
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import About, Notification, NotificationKind
from vardkontakt.organisation.models import CareUnit

# The start page lists this many; the rest wait until these are opened or dismissed.
SHOWN = 8
# Notices that speak of a booking as it was made: overtaken once the booking is no longer active.
AS_BOOKED = {NotificationKind.BOOKING_CONFIRMED, NotificationKind.BOOKING_REMINDER}
# Notices that speak of a proxy as asked for or accepted: overtaken once it is declined or ended.
AS_OPEN_PROXY = {NotificationKind.PROXY_INVITED, NotificationKind.PROXY_ACCEPTED}


@dataclass(frozen=True)
class Notice:
    notification: Notification
    text: str
    link: str  # where opening it leads ("" when there is nothing the reader may open)


@dataclass(frozen=True)
class Notices:
    shown: list[Notice]
    more: int  # unread notices beyond those shown


def _when(moment: dt.datetime) -> str:
    return date_format(moment.astimezone(STOCKHOLM), "l j F Y, H:i")


def _ids(notifications: Iterable[Notification], about: About) -> list[uuid.UUID]:
    found = []
    for notification in notifications:
        if notification.about == about:
            try:
                found.append(uuid.UUID(notification.about_id))
            except ValueError:
                continue
    return found


@dataclass
class _Rows:
    """The rows the notices are about, each loaded once for the whole list."""

    bookings: dict[str, Booking]
    cases: dict[str, Case]
    proxies: dict[str, Proxy]
    seals: dict[str, RecordSeal]

    @classmethod
    def of(cls, notifications: list[Notification]) -> _Rows:
        bookings = Booking.objects.select_related("patient", "slot__unit", "slot__visit_type").filter(
            pk__in=_ids(notifications, About.BOOKING)
        )
        cases = Case.objects.select_related("patient", "unit", "service").filter(pk__in=_ids(notifications, About.CASE))
        proxies = Proxy.objects.select_related("principal", "agent").filter(pk__in=_ids(notifications, About.PROXY))
        seals = RecordSeal.objects.filter(pk__in=_ids(notifications, About.SEAL))
        return cls(
            bookings={str(row.pk): row for row in bookings},
            cases={str(row.pk): row for row in cases},
            proxies={str(row.pk): row for row in proxies},
            seals={str(row.pk): row for row in seals},
        )


def _offer_text(notification: Notification, booking: Booking, other: Patient | None) -> str:
    facts = {
        "visit": booking.slot.visit_type.name,
        "unit": booking.slot.unit.name,
        "when": _when(dt.datetime.fromisoformat(notification.context["starts_at"])),
        "until": _when(dt.datetime.fromisoformat(notification.context["until"])),
        "name": other.full_name if other else "",
    }
    text = (
        _("An earlier time is offered to %(name)s: %(visit)s at %(unit)s, %(when)s. Take it by %(until)s.")
        if other
        else _("An earlier time is offered to you: %(visit)s at %(unit)s, %(when)s. Take it by %(until)s.")
    )
    return text % facts


def _offer_over(notification: Notification, booking: Booking) -> bool:
    """An offer's notice is overtaken once the offer has run out or the booking has moved."""
    until = notification.context.get("until", "")
    return booking.status != BookingStatus.ACTIVE or not until or dt.datetime.fromisoformat(until) <= timezone.now()


def _booking_text(kind: str, booking: Booking, other: Patient | None) -> str:
    facts = {
        "visit": booking.slot.visit_type.name,
        "unit": booking.slot.unit.name,
        "when": _when(booking.slot.starts_at),
        "name": other.full_name if other else "",
    }
    if kind == NotificationKind.BOOKING_CHANGED:
        text = (
            _("The appointment of %(name)s has been moved to %(when)s: %(visit)s at %(unit)s.")
            if other
            else _("Your appointment has been moved to %(when)s: %(visit)s at %(unit)s.")
        )
    elif kind == NotificationKind.BOOKING_CANCELLED:
        text = (
            _("The appointment of %(name)s at %(unit)s on %(when)s has been cancelled.")
            if other
            else _("Your appointment at %(unit)s on %(when)s has been cancelled.")
        )
    elif kind == NotificationKind.BOOKING_REMINDER:
        text = (
            _("Reminder for %(name)s: %(visit)s at %(unit)s, %(when)s.")
            if other
            else _("Reminder: %(visit)s at %(unit)s, %(when)s.")
        )
    else:
        text = (
            _("The appointment of %(name)s is booked: %(visit)s at %(unit)s, %(when)s.")
            if other
            else _("Your appointment is booked: %(visit)s at %(unit)s, %(when)s.")
        )
    return text % facts


def _case_text(case: Case, other: Patient | None) -> str:
    facts = {"service": case.service.name, "unit": case.unit.name, "name": other.full_name if other else ""}
    if other:
        return _("News in the case “%(service)s” of %(name)s at %(unit)s.") % facts
    return _("News in your case “%(service)s” at %(unit)s.") % facts


def _proxy_text(kind: str, proxy: Proxy, reader: Patient) -> str:
    """For a proxy still open (asked or active): the other party by name."""
    other = proxy.agent if proxy.principal_id == reader.pk else proxy.principal
    if kind == NotificationKind.PROXY_INVITED:
        return _("%(name)s has asked you to be their proxy.") % {"name": other.full_name}
    if kind == NotificationKind.PROXY_ACCEPTED:
        return _("%(name)s has accepted being your proxy.") % {"name": other.full_name}
    return str(NotificationKind(kind).label)


@dataclass(frozen=True)
class _Described:
    text: str
    link: str
    overtaken: bool = False
    read_of: Patient | None = None  # another person whose data the text shows
    row: Booking | Case | None = None
    unit: CareUnit | None = None


def _describe(reader: Patient, notification: Notification, rows: _Rows) -> _Described:
    """The notice's words and link, as specific as the reader may see now."""
    plain = _Described(text=str(notification.get_kind_display()), link="")
    kind, about, row_id = notification.kind, notification.about, notification.about_id
    if about == About.BOOKING and (booking := rows.bookings.get(row_id)) is not None:
        if kind in AS_BOOKED and booking.status != BookingStatus.ACTIVE:
            return _Described(text="", link="", overtaken=True)
        if kind == NotificationKind.EARLIER_TIME_OFFERED and _offer_over(notification, booking):
            return _Described(text="", link="", overtaken=True)
        if not policy.can_act_for(reader, booking.patient, policy.Scope.BOOKINGS):
            return plain
        other = booking.patient if booking.patient_id != reader.pk else None
        link = reverse("booking:detail", kwargs={"booking_id": booking.pk})
        if kind == NotificationKind.EARLIER_TIME_OFFERED:
            text = _offer_text(notification, booking, other)
            return _Described(text, link, read_of=other, row=booking, unit=booking.slot.unit)
        return _Described(_booking_text(kind, booking, other), link, read_of=other, row=booking, unit=booking.slot.unit)
    if about == About.CASE and (case := rows.cases.get(row_id)) is not None:
        if not policy.can_act_for(reader, case.patient, policy.Scope.CASES):
            return plain
        other = case.patient if case.patient_id != reader.pk else None
        link = reverse("cases:detail", kwargs={"case_id": case.pk})
        return _Described(_case_text(case, other), link, read_of=other, row=case, unit=case.unit)
    if about == About.PROXY and (proxy := rows.proxies.get(row_id)) is not None:
        if reader.pk not in (proxy.principal_id, proxy.agent_id):
            return plain
        if proxy.status not in OPEN_PROXY_STATUSES:
            if kind in AS_OPEN_PROXY:
                return _Described(text="", link="", overtaken=True)
            # Declined or ended: the parties no longer meet each other's names (an ended proxy may
            # have been ended for the principal's safety), so the notice says what happened only.
            return _Described(plain.text, reverse("access:proxies"))
        return _Described(_proxy_text(kind, proxy, reader), reverse("access:proxies"))
    if about == About.SEAL and (seal := rows.seals.get(row_id)) is not None and seal.patient_id == reader.pk:
        return _Described(plain.text, reverse("access:seal"))
    if about == About.LETTER:
        # The letter's readers were chosen when it was sent; the inbox shows whose letters the
        # reader may read now (the list says nothing more than "a letter" here).
        return _Described(plain.text, reverse("letters:inbox"))
    if about == About.INVOICE:
        # Like a letter: the payments page shows the fees of whom the reader may pay for now.
        return _Described(plain.text, reverse("payments:list"))

    if kind == NotificationKind.INTERPRETER_INVITED:
        # The interpreter's own invitations of today: a unit and a time, nobody's data.
        return _Described(plain.text, reverse("video:interpreting"))
    if about == About.RESULTS and policy.can_read_record(reader, reader):
        return _Described(plain.text, reverse("records:section", kwargs={"name": "results"}))
    if about == About.REFERRALS and policy.can_read_record(reader, reader):
        return _Described(plain.text, reverse("records:section", kwargs={"name": "referrals"}))
    return plain


def _about_key(notification: Notification) -> tuple[str, str]:
    if notification.about and notification.about_id:
        return notification.about, notification.about_id
    return "notice", str(notification.pk)


def notices_for(*, reader: Patient, notifications: list[Notification]) -> Notices:
    """The reader's unread notices (newest first, as given) in words: the newest about each thing,
    without the overtaken ones, at most SHOWN of them. Another person's data shown is logged."""
    rows = _Rows.of(notifications)
    shown: list[Notice] = []
    seen: set[tuple[str, str]] = set()
    more = 0
    for notification in notifications:
        key = _about_key(notification)
        if key in seen:
            continue
        described = _describe(reader, notification, rows)
        if described.overtaken:
            continue
        seen.add(key)
        if len(shown) == SHOWN:
            more += 1
            continue
        if described.read_of is not None:
            audit(
                actor=Actor.of_patient(reader),
                action="notice.read",
                patient=described.read_of,
                on_behalf_of=described.read_of,
                obj=described.row,
                unit=described.unit,
            )
        shown.append(Notice(notification=notification, text=described.text, link=described.link))
    return Notices(shown=shown, more=more)


def link_of(*, reader: Patient, notification: Notification) -> str:
    """Where opening the notice leads now ("" when the reader may open nothing it is about)."""
    return _describe(reader, notification, _Rows.of([notification])).link
