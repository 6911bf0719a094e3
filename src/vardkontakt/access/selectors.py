"""Reads of protected data, filtered by the policy and written to the audit log (STYLE.md §2)."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from vardkontakt.access import policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.models import OPEN_PROXY_STATUSES, AuditEntry, Guardianship, Proxy, RecordSeal
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Region
from vardkontakt.organisation.selectors import region_of_patient


def representation_to_switch_to(*, reader: Patient, subject_id: str) -> policy.Representation:
    """Whom the reader asks to act for from now on (``subject_id`` as the form sent it): someone they
    may act for now, logged as the switch; anyone else, or no one, is not found."""
    subject = None
    with contextlib.suppress(ValueError):
        subject = Patient.objects.filter(pk=uuid.UUID(subject_id)).first()
    found = policy.representation(reader, subject) if subject else None
    if found is None:
        raise Http404
    audit(actor=Actor.of_patient(reader), action="acting.switch", patient=found.subject, on_behalf_of=found.subject)
    return found


def proxies_of(*, patient: Patient) -> tuple[list[Proxy], list[Proxy]]:
    """(given: who may act for me, held: whom I act for or am asked to), open ones only."""
    given = list(
        Proxy.objects.filter(principal=patient, status__in=OPEN_PROXY_STATUSES)
        .select_related("agent")
        .order_by("invited_at")
    )
    held = list(
        Proxy.objects.filter(agent=patient, status__in=OPEN_PROXY_STATUSES)
        .select_related("principal")
        .order_by("invited_at")
    )
    return given, held


def proxy_for_party(*, patient: Patient, proxy_id: str) -> Proxy:
    """A proxy the patient is a party to; 404 for anyone else."""
    proxy = Proxy.objects.select_related("principal", "agent").filter(pk=proxy_id).first()
    if proxy is None or patient.pk not in (proxy.principal_id, proxy.agent_id):
        raise Http404
    return proxy


def record_for_reader(*, reader: Patient, subject: Patient, now: dt.datetime | None = None, section: str = "") -> bool:
    """The door to a patient's record. True when ``reader`` may read it now; every attempt is logged.

    The seal is checked in the read's own statement, so every read that starts after a seal has
    committed is refused. (An earlier design also took a shared row lock to hold the seal back
    until reads in flight finished; under a steady stream of reads that starved the seal for over
    a second, so it was dropped: the seal must win at once.)
    """
    with transaction.atomic():
        allowed = policy.can_read_record(reader, subject, now=now)
        audit(
            actor=Actor.of_patient(reader),
            action="record.read",
            patient=subject,
            on_behalf_of=subject,
            allowed=allowed,
            detail=section,
        )
    return allowed


def active_seal(*, patient: Patient) -> RecordSeal | None:
    return RecordSeal.objects.filter(patient=patient, reopened_at__isnull=True).first()


READERS = ("others", "own", "all")


def record_readers_of(
    *,
    patient: Patient,
    viewer: Patient,
    readers: str = "others",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """'Vem har läst min journal': reads of the patient's data, newest first.

    ``readers`` picks whose reads: ``others`` (staff, source systems, and anyone acting for the
    patient: what the page shows first), ``own`` (the patient's own), or ``all``. ``viewer`` is
    the patient (always: also with a sealed record, also before they may read the record itself) or
    someone who may read the patient's record for them (``policy.can_read_record``, asked here);
    the look is logged on the patient's behalf."""
    if viewer.pk != patient.pk and not policy.can_read_record(viewer, patient):
        raise Http404
    audit(actor=Actor.of_patient(viewer), action="access_log.read", patient=patient, on_behalf_of=patient)
    found = AuditEntry.objects.filter(patient_id=str(patient.pk), action__endswith=".read", outcome="allowed")
    own = Q(actor_kind="patient", actor_id=str(patient.pk))
    if readers == "others":
        found = found.exclude(own)
    elif readers == "own":
        found = found.filter(own)
    if start:
        found = found.filter(at__date__gte=start)
    if end:
        found = found.filter(at__date__lte=end)
    return found.order_by("-sequence")


def unit_for_log_review(*, staff: Staff, unit_id: str) -> CareUnit:
    unit = CareUnit.objects.filter(pk=unit_id).first()
    if unit is None or not policy.is_member(staff, unit):
        raise Http404
    if not policy.may_review_unit_log(staff, unit):
        raise PermissionDenied
    return unit


def unit_log_entries(
    *,
    staff: Staff,
    unit: CareUnit,
    patient: Patient | None,
    actor_staff: Staff | None,
    start: dt.date | None,
    end: dt.date | None,
) -> QuerySet[AuditEntry]:
    """The log follow-up of a unit: what happened in the unit (its cases, bookings, records and
    administration, read or changed by anyone), and nothing else.

    Inner secrecy (PDL 4 kap.): another unit's reading of a patient listed here, the unit's staff's
    work at another unit, and the resident's own actions (their proxies, their seal, their own
    reading) belong to the other unit's follow-up or to the resident, never to this one.
    """
    entries = AuditEntry.objects.filter(unit_id=str(unit.pk))
    if patient is not None:
        entries = entries.filter(patient_id=str(patient.pk))
    if actor_staff is not None:
        entries = entries.filter(actor_id=str(actor_staff.pk))
    if start is not None:
        entries = entries.filter(at__gte=timezone.make_aware(dt.datetime.combine(start, dt.time.min)))
    if end is not None:
        entries = entries.filter(
            at__lt=timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
        )
    audit(actor=Actor.of_staff(staff), action="audit_log.review", unit=unit, patient=patient)
    return entries.order_by("-sequence")


def seal_for_archivist(*, staff: Staff, personnummer: str) -> RecordSeal | None:
    if not policy.is_archivist(staff):
        raise PermissionDenied
    seal = (
        RecordSeal.objects.select_related("patient")
        .filter(patient__personnummer=personnummer, reopened_at__isnull=True)
        .first()
    )
    audit(
        actor=Actor.of_staff(staff),
        action="seal.lookup",
        patient=seal.patient if seal else None,
        allowed=True,
        detail="" if seal else "no active seal",
    )
    return seal


def guardianships_for_unit_admin(*, staff: Staff, child_personnummer: str) -> list[Guardianship]:
    """A unit head looks up a child listed at one of their units; others see nothing."""
    relations = list(
        Guardianship.objects.filter(child__personnummer=child_personnummer, ended_at__isnull=True).select_related(
            "guardian", "child"
        )
    )
    visible = [g for g in relations if policy.may_block_guardian(staff, g)]
    if visible:
        unit = policy.blocking_unit(staff, visible[0])
        audit(actor=Actor.of_staff(staff), action="guardianship.read", patient=visible[0].child, unit=unit)
    return visible


def guardianship_for_unit_admin(*, staff: Staff, guardianship_id: str) -> Guardianship:
    guardianship = Guardianship.objects.select_related("guardian", "child").filter(pk=guardianship_id).first()
    if guardianship is None or not policy.may_block_guardian(staff, guardianship):
        raise Http404
    return guardianship


def seal_to_reopen(*, staff: Staff, seal_id: str) -> RecordSeal:
    """An open seal, for an archivist only: 403 for other staff, 404 for an unknown or reopened seal."""
    if not policy.is_archivist(staff):
        raise PermissionDenied
    seal = RecordSeal.objects.select_related("patient").filter(pk=seal_id, reopened_at__isnull=True).first()
    if seal is None:
        raise Http404
    return seal


def archive_contact_of(patient: Patient) -> Region | None:
    """The region archive a resident contacts to have their sealed record opened again: their own
    region's, when the region has said how to reach it. Contact details only: nothing to log."""
    region = region_of_patient(patient)
    return region if region is not None and region.has_archive_contact else None
