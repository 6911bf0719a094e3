"""Every change to who may act for whom, and to the seal. One transaction each, audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.access import policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.models import OPEN_PROXY_STATUSES, Guardianship, Proxy, ProxyStatus, RecordSeal
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.identity.numbers import normalise_personnummer
from vardkontakt.identity.services import patient_get_or_register
from vardkontakt.notifications.models import About, NotificationKind
from vardkontakt.notifications.services import notification_create


class ProxyError(ValidationError):
    pass


@transaction.atomic
def proxy_invite(
    *,
    principal: Patient,
    agent_personnummer: str,
    scope_record: bool,
    scope_cases: bool,
    scope_bookings: bool,
    expires_on: dt.date | None,
    idempotency_key: str,
) -> Proxy:
    """The principal asks another adult to act for them. Sending the same form twice invites once."""
    existing = Proxy.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.principal_id != principal.pk:
            raise PermissionDenied
        return existing
    now = timezone.now()
    if not policy.can_appoint_proxy(principal, now=now):
        raise ProxyError(_("You must be 18 or older to appoint a proxy."), code="principal_minor")
    number = normalise_personnummer(agent_personnummer)
    if number == principal.personnummer:
        raise ProxyError(_("You cannot appoint yourself."), code="self")
    if not (scope_record or scope_cases or scope_bookings):
        raise ProxyError(_("Choose at least one thing the proxy may do."), code="no_scope")
    if expires_on is not None and expires_on <= timezone.localdate(now):
        raise ProxyError(_("The end date must be in the future."), code="expiry_past")
    # The invitee need not have logged in before: the population register knows them; we register
    # them on first login, as any resident. Until then they exist here only by their number.
    agent, _registered = patient_get_or_register(personnummer=number)
    if agent.protected_identity:
        # Skyddad identitet: refused in words that say nothing of the person (not that they are
        # known here, not why), so the form cannot be used to find out who is protected.
        raise ProxyError(_("The request cannot be sent to this person through the e-services."), code="refused")
    if not policy.can_be_proxy(agent, now=now):
        raise ProxyError(_("A proxy must be 18 or older."), code="agent_minor")
    if Proxy.objects.filter(principal=principal, agent=agent, status__in=OPEN_PROXY_STATUSES).exists():
        raise ProxyError(_("This person already is, or has been asked to be, your proxy."), code="duplicate")
    try:
        with transaction.atomic():
            proxy = Proxy.objects.create(
                principal=principal,
                agent=agent,
                scope_record=scope_record,
                scope_cases=scope_cases,
                scope_bookings=scope_bookings,
                expires_on=expires_on,
                invited_at=now,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent identical submission won the race: return what it created.
        proxy = Proxy.objects.filter(idempotency_key=idempotency_key).first()  # type: ignore[assignment]
        if proxy is None:
            raise ProxyError(
                _("This person already is, or has been asked to be, your proxy."), code="duplicate"
            ) from None
        return proxy
    audit(actor=Actor.of_patient(principal), action="proxy.invite", patient=principal, obj=proxy)
    notification_create(
        recipient=agent,
        kind=NotificationKind.PROXY_INVITED,
        cause=f"proxy:{proxy.id}",
        about=About.PROXY,
        about_id=proxy.id,
    )
    return proxy


def _lock_proxy(proxy: Proxy) -> Proxy:
    return Proxy.objects.select_for_update().select_related("principal", "agent").get(pk=proxy.pk)


@transaction.atomic
def proxy_respond(*, proxy: Proxy, agent: Patient, accept: bool) -> Proxy:
    proxy = _lock_proxy(proxy)
    if proxy.agent_id != agent.pk:
        raise PermissionDenied
    if proxy.status != ProxyStatus.INVITED:
        raise ProxyError(_("This request has already been answered or withdrawn."), code="not_invited")
    now = timezone.now()
    if accept and not policy.can_be_proxy(agent, now=now):
        raise ProxyError(_("A proxy must be 18 or older."), code="agent_minor")
    proxy.status = ProxyStatus.ACTIVE if accept else ProxyStatus.DECLINED
    proxy.responded_at = now
    proxy.save(update_fields=["status", "responded_at"])
    audit(
        actor=Actor.of_patient(agent),
        action="proxy.accept" if accept else "proxy.decline",
        patient=proxy.principal,
        obj=proxy,
    )
    kind = NotificationKind.PROXY_ACCEPTED if accept else NotificationKind.PROXY_DECLINED
    notification_create(
        recipient=proxy.principal, kind=kind, cause=f"proxy:{proxy.id}", about=About.PROXY, about_id=proxy.id
    )
    return proxy


@transaction.atomic
def proxy_revoke(*, proxy: Proxy, by: Patient) -> Proxy:
    """Either side ends the arrangement, effective for the very next request of either."""
    proxy = _lock_proxy(proxy)
    if by.pk not in (proxy.principal_id, proxy.agent_id):
        raise PermissionDenied
    if proxy.status not in OPEN_PROXY_STATUSES:
        return proxy  # already ended: revoking twice changes nothing
    proxy.status = ProxyStatus.REVOKED
    proxy.revoked_at = timezone.now()
    proxy.revoked_by = by
    proxy.save(update_fields=["status", "revoked_at", "revoked_by"])
    audit(actor=Actor.of_patient(by), action="proxy.revoke", patient=proxy.principal, obj=proxy)
    for recipient in (proxy.principal, proxy.agent):
        notification_create(
            recipient=recipient,
            kind=NotificationKind.PROXY_REVOKED,
            cause=f"proxy:{proxy.id}",
            about=About.PROXY,
            about_id=proxy.id,
        )
    return proxy


@transaction.atomic
def record_seal(*, patient: Patient) -> RecordSeal:
    """Close all online access to the patient's record at once. Only the patient does this."""
    # Two seal requests at once (a double click) queue here; the second finds the first's seal.
    Patient.objects.select_for_update().get(pk=patient.pk)
    seal = RecordSeal.objects.filter(patient=patient, reopened_at__isnull=True).first()
    if seal is not None:
        return seal
    seal = RecordSeal.objects.create(patient=patient, sealed_at=timezone.now(), sealed_by=patient)
    audit(actor=Actor.of_patient(patient), action="record.seal", patient=patient, obj=seal)
    notification_create(
        recipient=patient,
        kind=NotificationKind.RECORD_SEALED,
        cause=f"seal:{seal.id}",
        about=About.SEAL,
        about_id=seal.id,
    )
    return seal


@transaction.atomic
def seal_reopen(*, seal: RecordSeal, archivist: Staff, reason: str) -> RecordSeal:
    if not policy.is_archivist(archivist):
        raise PermissionDenied
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationError(_("Give the reason for reopening (at least 10 characters)."), code="reason")
    seal = RecordSeal.objects.select_for_update().select_related("patient").get(pk=seal.pk)
    if seal.reopened_at is not None:
        raise ValidationError(_("This seal has already been reopened."), code="reopened")
    seal.reopened_at = timezone.now()
    seal.reopened_by = archivist
    seal.reopen_reason = reason
    seal.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
    audit(actor=Actor.of_staff(archivist), action="record.reopen", patient=seal.patient, obj=seal, detail=reason)
    notification_create(
        recipient=seal.patient,
        kind=NotificationKind.RECORD_REOPENED,
        cause=f"seal:{seal.id}",
        about=About.SEAL,
        about_id=seal.id,
    )
    return seal


@transaction.atomic
def guardianship_block(*, guardianship: Guardianship, by: Staff, reason: str) -> Guardianship:
    if not policy.may_block_guardian(by, guardianship):
        raise PermissionDenied
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationError(_("Give the reason for blocking (at least 10 characters)."), code="reason")
    guardianship = Guardianship.objects.select_for_update().select_related("child").get(pk=guardianship.pk)
    if guardianship.blocked_at is None:
        guardianship.blocked_at = timezone.now()
        guardianship.blocked_by = by
        guardianship.block_reason = reason
        guardianship.save(update_fields=["blocked_at", "blocked_by", "block_reason"])
        audit(
            actor=Actor.of_staff(by),
            action="guardian.block",
            patient=guardianship.child,
            obj=guardianship,
            unit=policy.blocking_unit(by, guardianship),
        )
    return guardianship


@transaction.atomic
def guardianship_unblock(*, guardianship: Guardianship, by: Staff) -> Guardianship:
    if not policy.may_block_guardian(by, guardianship):
        raise PermissionDenied
    guardianship = Guardianship.objects.select_for_update().select_related("child").get(pk=guardianship.pk)
    if guardianship.blocked_at is not None:
        guardianship.blocked_at = None
        guardianship.blocked_by = None
        guardianship.block_reason = ""
        guardianship.save(update_fields=["blocked_at", "blocked_by", "block_reason"])
        audit(
            actor=Actor.of_staff(by),
            action="guardian.unblock",
            patient=guardianship.child,
            obj=guardianship,
            unit=policy.blocking_unit(by, guardianship),
        )
    return guardianship


@dataclass(frozen=True)
class ImportResult:
    created: int
    kept: int
    ended: int


@transaction.atomic
def guardianships_import(*, pairs: list[tuple[str, str]], children_in_extract: set[str] | None = None) -> ImportResult:
    """Apply an extract from the population register: (guardian, child) personnummer pairs.

    For every child in the extract, relations it no longer lists are ended (custody changes);
    children outside the extract are left alone. Importing the same extract twice changes nothing.
    """
    now = timezone.now()
    wanted: dict[str, set[str]] = {}
    for guardian_number, child_number in pairs:
        wanted.setdefault(child_number, set()).add(guardian_number)
    for child_number in children_in_extract or set():
        wanted.setdefault(child_number, set())
    created = kept = ended = 0
    for child_number, guardian_numbers in wanted.items():
        child, _registered = patient_get_or_register(personnummer=child_number)
        for guardian_number in guardian_numbers:
            guardian, _registered = patient_get_or_register(personnummer=guardian_number)
            relation, was_created = Guardianship.objects.get_or_create(
                guardian=guardian, child=child, defaults={"imported_at": now}
            )
            if was_created:
                created += 1
            elif relation.ended_at is not None:
                relation.ended_at = None
                relation.imported_at = now
                relation.save(update_fields=["ended_at", "imported_at"])
                created += 1
            else:
                kept += 1
        ended += (
            Guardianship.objects.filter(child=child, ended_at__isnull=True)
            .exclude(guardian__personnummer__in=guardian_numbers)
            .update(ended_at=now)
        )
    audit(
        actor=Actor("system", "", "population register import"),
        action="guardianship.import",
        detail=f"created={created} kept={kept} ended={ended}",
    )
    return ImportResult(created, kept, ended)
