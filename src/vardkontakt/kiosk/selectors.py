"""Reads of the kiosk: the device from its cookie (the only door: no device, no page), the visit of
the person at it, and their bookings today at the unit (a read of their data, logged)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking import checkin
from vardkontakt.booking.models import Booking
from vardkontakt.core.tokens import digest
from vardkontakt.identity.models import Staff
from vardkontakt.kiosk.models import KioskDevice, KioskVisit
from vardkontakt.kiosk.services import _todays_bookings
from vardkontakt.organisation.models import CareUnit

DEVICE_COOKIE = "vk_kiosk"
VISIT_COOKIE = "vk_kiosk_visit"
BOOKINGS_READ = "kiosk.bookings.read"


def device_of(request: HttpRequest, unit_id: uuid.UUID) -> KioskDevice:
    """The registered, unrevoked device of this unit whose token the request's cookie carries;
    anything else (no cookie, another unit's kiosk, a revoked one) is 404."""
    token = request.COOKIES.get(DEVICE_COOKIE, "")
    if not token:
        raise Http404
    device = (
        KioskDevice.objects.select_related("unit")
        .filter(token_digest=digest(token), unit_id=unit_id, revoked_at__isnull=True, registered_at__isnull=False)
        .first()
    )
    if device is None:
        raise Http404
    return device


def visit_of(request: HttpRequest, device: KioskDevice) -> KioskVisit | None:
    """The person's visit at this device, while it lasts (not ended, not expired)."""
    token = request.COOKIES.get(VISIT_COOKIE, "")
    if not token:
        return None
    return (
        KioskVisit.objects.select_related("patient", "device__unit")
        .filter(token_digest=digest(token), device=device, ended_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


@dataclass(frozen=True)
class KioskBooking:
    booking: Booking
    state: checkin.CheckInState


def bookings_for_visit(visit: KioskVisit, *, now: dt.datetime | None = None) -> list[KioskBooking]:
    """The visit's person's bookings today at the kiosk's unit, each with its check-in state."""
    now = now or timezone.now()
    rows = list(
        _todays_bookings(visit.device, visit.patient_id, now)
        .select_related("patient", "slot__unit", "slot__visit_type", "slot__practitioner")
        .order_by("slot__starts_at")
    )
    audit(
        actor=Actor.of_patient(visit.patient),
        action=BOOKINGS_READ,
        patient=visit.patient,
        object_type="Booking",
        unit=visit.device.unit,
        detail=visit.device.name,
    )
    return [KioskBooking(b, checkin.check_in_state(b, now=now)) for b in rows]


def unit_for_admin(*, staff: Staff, unit_id: uuid.UUID) -> CareUnit:
    """The unit whose kiosks the staff member administers: its unit administrators; its other
    members 403 (they know the unit), everyone else 404."""
    unit = CareUnit.objects.filter(pk=unit_id).first()
    if unit is None or not access_policy.is_member(staff, unit):
        raise Http404
    if not access_policy.is_unit_admin(staff, unit):
        raise PermissionDenied
    return unit


def devices_of(unit: CareUnit) -> list[KioskDevice]:
    return list(unit.kiosks.order_by("-created_at"))


def device_to_revoke(*, unit: CareUnit, device_id: uuid.UUID) -> KioskDevice:
    device = KioskDevice.objects.select_related("unit").filter(pk=device_id, unit=unit).first()
    if device is None:
        raise Http404
    return device
