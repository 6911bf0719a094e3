"""Every write of the kiosk: devices (add, register, revoke), a person's visit (identify, check in,
end) and the mobile BankID login begun at the kiosk."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.booking import checkin
from vardkontakt.booking.models import ArrivalVia, Booking, BookingStatus
from vardkontakt.booking.schedule import local_instant
from vardkontakt.core import ratelimit
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.core.tokens import digest, new_secret
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.kiosk.models import (
    REGISTRATION_HOURS,
    VISIT_SECONDS,
    IdentifiedBy,
    KioskDevice,
    KioskLogin,
    KioskVisit,
)
from vardkontakt.organisation.models import CareUnit

DEVICE_CREATE = "kiosk.device.create"
DEVICE_REGISTER = "kiosk.device.register"
DEVICE_REVOKE = "kiosk.device.revoke"
IDENTIFY = "kiosk.identify"
LOGIN_SECONDS = 120  # a BankID login begun at the kiosk must be finished by then


@dataclass(frozen=True)
class NewDevice:
    device: KioskDevice
    code: str  # shown once, as the registration link


def _unit_admin_or_404(staff: Staff, unit: CareUnit) -> None:
    if not access_policy.is_unit_admin(staff, unit):
        raise Http404


def kiosk_device_create(*, staff: Staff, unit: CareUnit, name: str, form_key: str = "") -> NewDevice:
    """A kiosk for the unit, waiting to be registered with the one-time code (valid a day).
    The same form sent twice makes one device (the second answer carries a new code for it)."""
    _unit_admin_or_404(staff, unit)
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the kiosk a name, for example where it stands."))
    code = new_secret()
    now = timezone.now()
    with transaction.atomic():
        existing = KioskDevice.objects.select_for_update().filter(form_key=form_key).first() if form_key else None
        if existing is not None:
            if existing.registered_at is None and existing.revoked_at is None:
                existing.registration_digest = digest(code)
                existing.save(update_fields=["registration_digest"])
            return NewDevice(existing, code)
        device = KioskDevice.objects.create(
            unit=unit,
            name=name[:80],
            created_by=staff,
            created_at=now,
            registration_digest=digest(code),
            registration_expires_at=now + dt.timedelta(hours=REGISTRATION_HOURS),
            form_key=form_key,
        )
        audit(actor=Actor.of_staff(staff), action=DEVICE_CREATE, obj=device, unit=unit, detail=device.name)
    return NewDevice(device, code)


def device_for_code(code: str) -> KioskDevice | None:
    """The device a registration code (still unused, not run out, not revoked) is for."""
    return (
        KioskDevice.objects.select_related("unit")
        .filter(
            registration_digest=digest(code),
            registered_at__isnull=True,
            revoked_at__isnull=True,
            registration_expires_at__gt=timezone.now(),
        )
        .first()
    )


def kiosk_device_register(*, code: str) -> tuple[KioskDevice, str]:
    """Use the one-time code on the device: it gets its token (for its cookie); the code is spent.
    A code used, run out or revoked: 404."""
    token = new_secret()
    with transaction.atomic():
        found = device_for_code(code)
        if found is None:
            raise Http404
        device = KioskDevice.objects.select_for_update().get(pk=found.pk)
        if device.registration_digest != digest(code) or device.registered_at is not None:
            raise Http404  # the same code used at the same moment elsewhere: that one stands
        device.token_digest = digest(token)
        device.registered_at = timezone.now()
        device.registration_digest = None
        device.save(update_fields=["token_digest", "registered_at", "registration_digest"])
        audit(
            actor=Actor("system", "", "kiosk"), action=DEVICE_REGISTER, obj=device, unit=device.unit, detail=device.name
        )
    return device, token


def kiosk_device_revoke(*, staff: Staff, device: KioskDevice) -> None:
    """The device's cookie no longer opens the kiosk (and a code not used yet is spent)."""
    _unit_admin_or_404(staff, device.unit)
    with transaction.atomic():
        device = KioskDevice.objects.select_for_update().get(pk=device.pk)
        if device.revoked_at is not None:
            return
        device.revoked_at, device.revoked_by, device.registration_digest = timezone.now(), staff, None
        device.save(update_fields=["revoked_at", "revoked_by", "registration_digest"])
        KioskVisit.objects.filter(device=device, ended_at__isnull=True).update(ended_at=device.revoked_at)
        audit(actor=Actor.of_staff(staff), action=DEVICE_REVOKE, obj=device, unit=device.unit, detail=device.name)


# --- a person at the kiosk -----------------------------------------------------------------------


class Unidentified(Exception):
    """No visit: the same answer whether the person exists or not (``wait``: locked out, seconds)."""

    def __init__(self, wait: int = 0) -> None:
        super().__init__(wait)
        self.wait = wait


def _start_visit(device: KioskDevice, patient: Patient, how: str, now: dt.datetime) -> tuple[KioskVisit, str]:
    token = new_secret()
    visit = KioskVisit.objects.create(
        device=device,
        patient=patient,
        token_digest=digest(token),
        identified_by=how,
        started_at=now,
        expires_at=now + dt.timedelta(seconds=VISIT_SECONDS),
    )
    return visit, token


def _todays_bookings(device: KioskDevice, patient_id: uuid.UUID, now: dt.datetime):  # type: ignore[no-untyped-def]
    day = now.astimezone(STOCKHOLM).date()
    start, end = local_instant(day, dt.time()), local_instant(day + dt.timedelta(days=1), dt.time())
    return Booking.objects.filter(
        patient_id=patient_id,
        slot__unit_id=device.unit_id,
        slot__starts_at__gte=start,
        slot__starts_at__lt=end,
        status=BookingStatus.ACTIVE,
    )


def kiosk_identify(
    *, device: KioskDevice, personnummer: str, time: dt.time, now: dt.datetime | None = None
) -> tuple[KioskVisit, str]:
    """Who stands at the kiosk, by personnummer and the time of one of their bookings today at
    the unit. Anything else — an unknown number, a wrong time, no booking, a malformed number —
    is the same ``Unidentified`` and counts toward the device's limit."""
    now = now or timezone.now()
    limit = ratelimit.Limit.named("kiosk_identify")
    ident = str(device.pk)
    wait = ratelimit.retry_after(limit, ident)
    if wait:
        raise Unidentified(wait)
    patient = None
    try:
        number = normalise_personnummer(personnummer)
    except ValidationError:
        number = ""
    if number:
        patient = Patient.objects.filter(personnummer=number).first()
    matches = False
    if patient is not None:
        for booking in _todays_bookings(device, patient.pk, now).select_related("slot"):
            local = booking.slot.starts_at.astimezone(STOCKHOLM)
            matches = matches or (local.hour, local.minute) == (time.hour, time.minute)
    if patient is None or not matches:
        ratelimit.register(limit, ident)
        raise Unidentified(ratelimit.retry_after(limit, ident))
    ratelimit.reset(limit, ident)
    with transaction.atomic():
        visit, token = _start_visit(device, patient, IdentifiedBy.NUMBER_AND_TIME, now)
        audit(
            actor=Actor.of_patient(patient),
            action=IDENTIFY,
            patient=patient,
            obj=visit,
            unit=device.unit,
            detail=f"{device.name}: personnummer and time",
        )
    return visit, token


def kiosk_check_in(*, visit: KioskVisit, booking_id: uuid.UUID | str) -> checkin.CheckedIn:
    """Check in the visit's person for one of their bookings at the kiosk's unit (the booking
    service records, charges and logs it; anyone else's booking: 404). The visit ends with it."""
    done = checkin.booking_check_in(
        booking_id=booking_id,
        via=ArrivalVia.KIOSK,
        by_patient=visit.patient,
        kiosk_device_id=visit.device_id,
        kiosk_unit_id=visit.device.unit_id,
    )
    kiosk_visit_end(visit=visit)
    return done


def kiosk_visit_end(*, visit: KioskVisit) -> None:
    KioskVisit.objects.filter(pk=visit.pk, ended_at__isnull=True).update(ended_at=timezone.now())


# --- mobile BankID through the OIDC login ----------------------------------------------------------


def kiosk_login_begin(*, device: KioskDevice) -> tuple[KioskLogin, str]:
    """A login for the QR code: its secret goes in the start link the phone opens."""
    secret = new_secret()
    now = timezone.now()
    login = KioskLogin.objects.create(
        device=device,
        secret_digest=digest(secret),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=LOGIN_SECONDS),
    )
    return login, secret


def kiosk_login_for_secret(secret: str) -> KioskLogin | None:
    return (
        KioskLogin.objects.select_related("device__unit")
        .filter(
            secret_digest=digest(secret),
            completed_at__isnull=True,
            expires_at__gt=timezone.now(),
            device__revoked_at__isnull=True,
        )
        .first()
    )


def kiosk_login_complete(*, login_id: uuid.UUID, patient: Patient) -> bool:
    """The phone's verified login names the person: the kiosk may take them in (once)."""
    now = timezone.now()
    updated = KioskLogin.objects.filter(pk=login_id, completed_at__isnull=True, expires_at__gt=now).update(
        patient=patient, completed_at=now
    )
    return bool(updated)


def kiosk_login_take(*, device: KioskDevice, login_id: uuid.UUID | str) -> tuple[KioskVisit, str] | None:
    """On the kiosk: the BankID login it began, completed on the phone, becomes the person's visit
    (once). Not completed yet, or not this device's: None."""
    now = timezone.now()
    with transaction.atomic():
        try:
            login = (
                KioskLogin.objects.select_for_update(of=("self",))
                .select_related("patient")
                .filter(pk=login_id, device=device, completed_at__isnull=False, taken_at__isnull=True)
                .first()
            )
        except (ValueError, ValidationError):
            return None
        if login is None or login.patient is None or login.completed_at + dt.timedelta(seconds=LOGIN_SECONDS) < now:  # type: ignore[operator]
            return None
        login.taken_at = now
        login.save(update_fields=["taken_at"])
        try:
            with transaction.atomic():
                visit, token = _start_visit(device, login.patient, IdentifiedBy.BANKID, now)
        except IntegrityError:  # pragma: no cover - a token digest clash is not a thing that happens
            return None
        audit(
            actor=Actor.of_patient(login.patient),
            action=IDENTIFY,
            patient=login.patient,
            obj=visit,
            unit=device.unit,
            detail=f"{device.name}: mobile BankID",
        )
    return visit, token
