"""Reads of the operations app: the messages to show, the region administrator's doors, and the
support role's account lookup (filtered by the policy and written to the audit log)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.db.models import Prefetch, QuerySet
from django.db.models.signals import post_delete, post_save
from django.http import Http404, HttpRequest
from django.utils import timezone

from vardkontakt.access import policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.models import Guardianship, Proxy
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.notifications.models import Channel, Delivery, Notification
from vardkontakt.operations.models import Audience, LoginRecord, OperationalMessage
from vardkontakt.organisation.models import Region

logger = logging.getLogger(__name__)

# --- operational messages -------------------------------------------------------------------------

_REQUEST_CACHE = "_vk_operational_messages"


def audience_of(request: HttpRequest) -> Audience:
    """Staff logged in with SITHS are staff; everyone else (residents, anonymous visitors) a resident."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "is_staff_member", False):
        return Audience.STAFF
    return Audience.RESIDENTS


# Every page shows the banner, so the messages not yet ended are kept in each process for a few
# seconds rather than asked for on every request; which of them show is decided per request, to
# the second. A change is seen at once by the process that made it (the signals below) and
# within BANNER_SECONDS by the others.
BANNER_SECONDS = 10.0


@dataclass(frozen=True)
class _Unended:
    fetched_at: dt.datetime
    fresh_until: float  # time.monotonic()
    messages: list[OperationalMessage]


_unended: _Unended | None = None
# Bumped by every forget: a read that began before a change (another thread's, slower than the
# change) must not put the old rows back into the cache when it ends.
_generation = 0


def forget_messages(**_: object) -> None:
    """Read the messages again on the next request (after a change, or a test's rollback)."""
    global _unended, _generation
    _generation += 1
    _unended = None


def forget_messages_now_and_at_commit(**_: object) -> None:
    forget_messages()
    transaction.on_commit(forget_messages)  # a read between the save and the commit saw the old rows


post_save.connect(forget_messages_now_and_at_commit, sender=OperationalMessage, dispatch_uid="operations.banner.save")
post_delete.connect(
    forget_messages_now_and_at_commit, sender=OperationalMessage, dispatch_uid="operations.banner.delete"
)


def current_messages(*, audience: Audience, now: dt.datetime | None = None) -> list[OperationalMessage]:
    """The messages shown now to ``audience``."""
    global _unended
    now = now or timezone.now()
    held = _unended
    if held is None or time.monotonic() > held.fresh_until or now < held.fetched_at:
        generation = _generation
        rows = list(OperationalMessage.objects.filter(ends_at__gt=now).order_by("starts_at", "id"))
        held = _Unended(now, time.monotonic() + BANNER_SECONDS, rows)
        if generation == _generation:
            _unended = held  # kept only if no change was made while it was read
    wanted = {audience, Audience.ALL}
    return [m for m in held.messages if m.starts_at <= now < m.ends_at and m.audience in wanted]


def current_messages_for(request: HttpRequest) -> list[OperationalMessage]:
    """The banner's messages, asked for once per request however many templates show them."""
    cached: list[OperationalMessage] | None = getattr(request, _REQUEST_CACHE, None)
    if cached is None:
        try:
            cached = current_messages(audience=audience_of(request))
        except DatabaseError:
            # The banner must not take a page down with it, least of all the error page shown
            # when the database is what failed.
            logger.exception("operational messages could not be read")
            cached = []
        setattr(request, _REQUEST_CACHE, cached)
    return cached


def coming_messages(*, audience: Audience, now: dt.datetime | None = None, limit: int = 10) -> list[OperationalMessage]:
    """Planned downtime and disturbances announced ahead, soonest first (for the support page)."""
    now = now or timezone.now()
    return list(
        OperationalMessage.objects.filter(starts_at__gt=now, audience__in=[audience, Audience.ALL]).order_by(
            "starts_at", "id"
        )[:limit]
    )


@dataclass(frozen=True)
class RegionMessages:
    current: list[OperationalMessage]
    coming: list[OperationalMessage]
    past: list[OperationalMessage]


def region_for_admin(*, staff: Staff, region_id: str) -> Region:
    """A region its administrator publishes messages for; 404 for everyone else."""
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not policy.is_region_admin(staff, region):
        raise Http404
    return region


def messages_of_region(*, region: Region, now: dt.datetime | None = None, past_limit: int = 20) -> RegionMessages:
    now = now or timezone.now()
    messages = OperationalMessage.objects.filter(region=region)
    upcoming = list(messages.filter(ends_at__gt=now).order_by("starts_at", "id"))
    return RegionMessages(
        current=[m for m in upcoming if m.starts_at <= now],
        coming=[m for m in upcoming if m.starts_at > now],
        past=list(messages.filter(ends_at__lte=now).order_by("-ends_at", "-id")[:past_limit]),
    )


def message_for_admin(*, staff: Staff, message_id: str) -> OperationalMessage:
    """A message, for an administrator of its region only; 404 for everyone else."""
    message = OperationalMessage.objects.select_related("region").filter(pk=message_id).first()
    if message is None or not policy.is_region_admin(staff, message.region):
        raise Http404
    return message


def is_current(message: OperationalMessage, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return message.starts_at <= now < message.ends_at


# --- the support role's lookup ----------------------------------------------------------------------


def mask_address(channel: str, address: str) -> str:
    """Enough for a person to recognise their own address on the phone, too little to use it:
    the last two digits of a number, the first letter and the domain of an e-mail address."""
    if not address:
        return ""
    if channel == Channel.SMS:
        digits = re.sub(r"\D", "", address)
        return "•" * 6 + digits[-2:]
    local, _at, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


_EMAIL = re.compile(r"[^\s@'\"<>,;:()\[\]{}]+@[^\s@'\"<>,;:()\[\]{}]+")
_LONG_NUMBER = re.compile(r"\+?\d[\d\s-]{5,}\d")


def scrub_error(error: str, *, channel: str, address: str) -> str:
    """A delivery's last error as support may read it: a mail server or a gateway may quote the
    address back, so the address (and anything shaped like one) is masked."""
    if not error:
        return ""
    masked = mask_address(channel, address)
    if address:
        error = error.replace(address, masked)
    error = _EMAIL.sub(lambda found: mask_address(Channel.EMAIL, found.group(0)), error)
    return _LONG_NUMBER.sub(lambda found: mask_address(Channel.SMS, found.group(0)), error)


@dataclass(frozen=True)
class DeliveryLine:
    notification: Notification
    delivery: Delivery | None  # None: the notice was only shown in the e-services
    masked_address: str
    error: str


@dataclass(frozen=True)
class AccountLookup:
    """What support may know about a person. Nothing medical: no cases, record or bookings."""

    patient: Patient
    registered_at: dt.datetime | None
    last_login: dt.datetime | None
    masked_mobile: str
    masked_email: str
    logins: list[LoginRecord]
    deliveries: list[DeliveryLine]
    proxies_given: list[Proxy]
    proxies_held: list[Proxy]
    children: list[str]


SUPPORT_LIST_LIMIT = 20


def account_for_support(*, staff: Staff, personnummer: str) -> AccountLookup | None:
    """The support role's lookup of one person by personnummer; None when nobody has that number.

    403 for anyone without the support role. Every lookup is audited, also one that finds nobody.
    """
    if not policy.is_support(staff):
        raise PermissionDenied
    patient = Patient.objects.select_related("user").filter(personnummer=personnummer).first()
    if patient is None:
        audit(actor=Actor.of_staff(staff), action="support.lookup", allowed=True, detail="no account")
        return None
    audit(actor=Actor.of_staff(staff), action="support.lookup", patient=patient, obj=patient)
    user = patient.user
    return AccountLookup(
        patient=patient,
        registered_at=user.created_at if user else None,
        last_login=user.last_login if user else None,
        masked_mobile=mask_address(Channel.SMS, patient.mobile),
        masked_email=mask_address(Channel.EMAIL, patient.email),
        logins=list(LoginRecord.objects.filter(patient=patient).order_by("-at")[:SUPPORT_LIST_LIMIT]),
        deliveries=_delivery_lines(patient),
        proxies_given=list(
            Proxy.objects.filter(principal=patient).select_related("agent").order_by("-invited_at")[:SUPPORT_LIST_LIMIT]
        ),
        proxies_held=list(
            Proxy.objects.filter(agent=patient).select_related("principal").order_by("-invited_at")[:SUPPORT_LIST_LIMIT]
        ),
        # The children's names only: nothing about the children themselves is support's business.
        children=[
            f"{given} {family}"
            for given, family in Guardianship.objects.filter(guardian=patient, ended_at__isnull=True)
            .order_by("child__given_name", "child__family_name")
            .values_list("child__given_name", "child__family_name")
        ],
    )


def _delivery_lines(patient: Patient) -> list[DeliveryLine]:
    notifications: QuerySet[Notification] = (
        Notification.objects.filter(recipient=patient)
        .order_by("-created_at")
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by("channel")))
    )[:SUPPORT_LIST_LIMIT]
    lines = []
    for notification in notifications:
        deliveries = list(notification.deliveries.all())
        if not deliveries:
            lines.append(DeliveryLine(notification, None, "", ""))
        for delivery in deliveries:
            lines.append(
                DeliveryLine(
                    notification,
                    delivery,
                    mask_address(delivery.channel, delivery.address),
                    scrub_error(delivery.last_error, channel=delivery.channel, address=delivery.address),
                )
            )
    return lines
