"""Every change to a case: one transaction each, audited, notifications in the outbox.

Who may make a change is asked once, by one door. The staff's changes take the ``Case`` their
page's selector returned (``case_for_staff``: policy checked, the read logged) and do not ask
again; what such a change takes from the request beyond that (the colleague to assign) it checks
itself. The resident's changes (``case_create``, ``case_patient_message``, ``case_withdraw``) are
their own door, as the resident's booking changes are: they take the actor and the ids from the
request, ask the policy (404 when not), and log only the change, so a refusal logs nothing.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.cases import policy
from vardkontakt.cases.attachments import attachments_attach, check_files, store_checked
from vardkontakt.cases.defaults import DEFAULT_QUESTIONS, DEFAULT_TERMS, SWEDISH_NAMES, ServiceKind
from vardkontakt.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseMessage,
    CaseOutcome,
    CaseReading,
    CaseStatus,
    MessageKind,
    RegionServiceForm,
    Service,
)
from vardkontakt.cases.naming import validate_service_name
from vardkontakt.cases.questions import validate_questions
from vardkontakt.core.calendar import answer_deadline
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.notifications.models import About, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.organisation.models import CareUnit, Region


class CaseConflict(Exception):
    """Someone else changed the case since the page was loaded."""


@transaction.atomic
def service_activate(*, unit: CareUnit, kind: str, by: Staff) -> Service:
    """Offer one of the seed's services at a unit, from the region's default form if it has one.

    The page reaches the unit as a member (``selectors.inbox_unit``): the administrator's role is
    asked here."""
    if not policy.staff_may_manage_services(by, unit):
        raise PermissionDenied
    kind = ServiceKind(kind)
    template = RegionServiceForm.objects.filter(region=unit.administration.region, kind=kind).first()
    existing = Service.objects.filter(unit=unit, kind=kind).first()
    if existing:
        if not existing.active:
            existing.active = True
            existing.save(update_fields=["active"])
            audit(actor=Actor.of_staff(by), action="service.activate", unit=unit, obj=existing, detail="again")
        return existing
    service = Service.objects.create(
        unit=unit,
        kind=kind,
        name=template.name if template else SWEDISH_NAMES[kind],
        questions=copy.deepcopy(template.questions if template else DEFAULT_QUESTIONS[kind]),
        terms=template.terms if template else DEFAULT_TERMS,
        name_en=template.name_en if template else "",
        terms_en=template.terms_en if template else "",
        professions=list(template.professions) if template else [],
    )
    audit(actor=Actor.of_staff(by), action="service.activate", unit=unit, obj=service)
    return service


def _lock(case: Case, version: int) -> Case:
    locked = Case.objects.select_for_update().select_related("unit", "patient", "created_by").get(pk=case.pk)
    if locked.version != version:
        raise CaseConflict
    return locked


def _lock_for_patient(case_id: uuid.UUID | str, actor: Patient) -> Case:
    """The case row, locked, when it is the case of someone ``actor`` may act for now; else 404."""
    case = Case.objects.select_for_update(of=("self",)).select_related("unit", "patient").filter(pk=case_id).first()
    if case is None or not policy.patient_may_see(actor, case):
        raise Http404
    return case


def _bump(case: Case, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version"])


def _event(
    case: Case, event: CaseEvent, *, staff: Staff | None = None, patient: Patient | None = None, body: str = ""
) -> None:
    CaseMessage.objects.create(
        case=case,
        kind=MessageKind.EVENT,
        event=event,
        author_staff=staff,
        author_patient=patient,
        body=body,
        created_at=timezone.now(),
    )


def _notify_patient_side(case: Case, cause: str) -> None:
    for person in {case.patient, case.created_by}:
        notification_create(
            recipient=person, kind=NotificationKind.REPLY_WAITING, cause=cause, about=About.CASE, about_id=case.pk
        )


@transaction.atomic
def case_create(
    *, actor: Patient, subject: Patient, service: Service, answers: list[dict[str, Any]], idempotency_key: str
) -> Case:
    """Send a case. The same submission twice (a double click, a retry) creates one case."""
    existing = Case.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.created_by_id != actor.pk:
            raise Http404
        return existing
    if not access_policy.can_act_for(actor, subject, access_policy.Scope.CASES):
        raise Http404
    if not service.active:
        raise ValidationError(_("This service is not offered any more."), code="inactive")
    now = timezone.now()
    deadline = answer_deadline(now, service.unit.answer_target_working_days)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                unit=service.unit,
                service=service,
                patient=subject,
                created_by=actor,
                answers=answers,
                received_at=now,
                deadline_last_day=deadline.last_day,
                deadline_passes_at=deadline.passes_at,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        return Case.objects.get(idempotency_key=idempotency_key)  # a concurrent identical submission won
    CaseMessage.objects.create(case=case, kind=MessageKind.PATIENT, author_patient=actor, created_at=now)
    attachments_attach(case=case, uploader=actor, submission_key=idempotency_key)
    audit(
        actor=Actor.of_patient(actor),
        action="case.create",
        patient=subject,
        on_behalf_of=subject,
        obj=case,
        unit=service.unit,
    )
    return case


@transaction.atomic
def case_assign(*, case: Case, by: Staff, to: Staff, version: int) -> Case:
    """``to`` comes from the form: only a member of the case's unit."""
    case = _lock(case, version)
    if not policy.staff_may_handle(to, case):
        raise PermissionDenied
    previous = case.assigned_to
    case.assigned_to = to
    if case.status == CaseStatus.RECEIVED:
        case.status = CaseStatus.IN_PROGRESS
    _bump(case, "assigned_to", "status")
    _event(case, CaseEvent.REASSIGNED if previous else CaseEvent.ASSIGNED, staff=by, body=to.full_name)
    audit(
        actor=Actor.of_staff(by),
        action="case.assign",
        patient=case.patient,
        obj=case,
        unit=case.unit,
        detail=f"to {to.hsa_id}",
    )
    if to.pk != by.pk:
        notification_create(recipient=to, kind=NotificationKind.CASE_ASSIGNED, cause=f"case:{case.id}:v{case.version}")
    return case


@transaction.atomic
def case_reply(*, case: Case, by: Staff, body: str, version: int, ask: bool = False) -> CaseMessage:
    """Answer the patient, or ask them for more. The staff member's signature is added."""
    case = _lock(case, version)
    body = body.strip()
    if not body:
        raise ValidationError(_("Write a message."), code="empty")
    if by.signature.strip():
        body = f"{body}\n\n{by.signature.strip()}"
    now = timezone.now()
    message = CaseMessage.objects.create(
        case=case, kind=MessageKind.QUESTION if ask else MessageKind.REPLY, author_staff=by, body=body, created_at=now
    )
    case.status = CaseStatus.WAITING_FOR_PATIENT if ask else CaseStatus.ANSWERED
    case.first_answered_at = case.first_answered_at or now
    if case.assigned_to_id is None:
        case.assigned_to = by
    _bump(case, "status", "first_answered_at", "assigned_to")
    audit(
        actor=Actor.of_staff(by),
        action="case.ask" if ask else "case.reply",
        patient=case.patient,
        obj=case,
        unit=case.unit,
    )
    _notify_patient_side(case, f"message:{message.id}")
    return message


@transaction.atomic
def case_note(*, case: Case, by: Staff, body: str, version: int) -> CaseMessage:
    case = _lock(case, version)
    if not body.strip():
        raise ValidationError(_("Write a note."), code="empty")
    note = CaseMessage.objects.create(
        case=case, kind=MessageKind.NOTE, author_staff=by, body=body.strip(), created_at=timezone.now()
    )
    _bump(case)
    audit(actor=Actor.of_staff(by), action="case.note", patient=case.patient, obj=case, unit=case.unit)
    return note


@transaction.atomic
def case_will_call(*, case: Case, by: Staff, version: int) -> Case:
    """The unit will call the patient (the patient is never told to call, SPEC §5)."""
    case = _lock(case, version)
    case.status = CaseStatus.WILL_CALL
    case.first_answered_at = case.first_answered_at or timezone.now()
    _bump(case, "status", "first_answered_at")
    _event(case, CaseEvent.WILL_CALL, staff=by)
    audit(actor=Actor.of_staff(by), action="case.will_call", patient=case.patient, obj=case, unit=case.unit)
    _notify_patient_side(case, f"case:{case.id}:will_call:v{case.version}")
    return case


@transaction.atomic
def case_close(*, case: Case, by: Staff, outcome: str, version: int) -> Case:
    case = _lock(case, version)
    if outcome not in (CaseOutcome.ANSWERED, CaseOutcome.WILL_CALL, CaseOutcome.BOOKED, CaseOutcome.REFERRED):
        raise ValidationError(_("Choose how the case ended."), code="outcome")
    if not case.is_open and case.status != CaseStatus.ANSWERED:
        raise ValidationError(_("The case is already closed."), code="closed")
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closed_at = timezone.now()
    _bump(case, "status", "outcome", "closed_at")
    _event(case, CaseEvent.CLOSED, staff=by, body=outcome)
    audit(actor=Actor.of_staff(by), action="case.close", patient=case.patient, obj=case, unit=case.unit, detail=outcome)
    return case


@transaction.atomic
def case_reopen(*, case: Case, by: Staff, version: int) -> Case:
    case = _lock(case, version)
    if case.status != CaseStatus.CLOSED:
        raise ValidationError(_("Only a closed case can be reopened."), code="open")
    case.status = CaseStatus.IN_PROGRESS
    case.outcome = ""
    case.closed_at = None
    _bump(case, "status", "outcome", "closed_at")
    _event(case, CaseEvent.REOPENED, staff=by)
    audit(actor=Actor.of_staff(by), action="case.reopen", patient=case.patient, obj=case, unit=case.unit)
    return case


@transaction.atomic
def case_patient_message(
    *, case_id: uuid.UUID | str, actor: Patient, body: str, files: Sequence[UploadedFile] = ()
) -> CaseMessage:
    """The patient's answer to the unit's question (``actor``: who writes, the patient or someone
    acting for them), with files if they add some.

    The files are checked before anything is stored (all or none); a second click finds the
    question answered and stores nothing."""
    case = _lock_for_patient(case_id, actor)
    if policy.open_question(case) is None:
        raise ValidationError(_("The unit has not asked for more in this case."), code="not_waiting")
    if not body.strip():
        raise ValidationError(_("Write a message."), code="empty")
    checked = check_files(list(files), already=case.attachments.count()) if files else []
    message = CaseMessage.objects.create(
        case=case, kind=MessageKind.PATIENT, author_patient=actor, body=body.strip(), created_at=timezone.now()
    )
    store_checked(checked, uploader=actor, case=case, message=message)
    # "We will call you" still holds after the answer; otherwise the case is back with the unit.
    if case.status != CaseStatus.WILL_CALL:
        case.status = CaseStatus.IN_PROGRESS
    _bump(case, "status")
    audit(
        actor=Actor.of_patient(actor),
        action="case.patient_message",
        patient=case.patient,
        on_behalf_of=case.patient,
        obj=case,
        unit=case.unit,
    )
    return message


def case_mark_seen(*, case: Case, reader: Patient) -> None:
    """The reader has seen the case as it is now (``case`` comes from ``case_for_patient``, which
    checked and logged the read). Only the reader's own "new" marker changes."""
    CaseReading.objects.update_or_create(case=case, reader=reader, defaults={"seen_at": timezone.now()})


@transaction.atomic
def case_withdraw(*, case_id: uuid.UUID | str, actor: Patient) -> Case:
    """A case the unit has not answered yet can be withdrawn by the patient's side."""
    case = _lock_for_patient(case_id, actor)
    if case.first_answered_at is not None or case.status not in OPEN_STATUSES:
        raise ValidationError(_("An answered or closed case cannot be withdrawn."), code="answered")
    case.status = CaseStatus.CLOSED
    case.outcome = CaseOutcome.WITHDRAWN
    case.closed_at = timezone.now()
    _bump(case, "status", "outcome", "closed_at")
    _event(case, CaseEvent.WITHDRAWN, patient=actor)
    audit(
        actor=Actor.of_patient(actor),
        action="case.withdraw",
        patient=case.patient,
        on_behalf_of=case.patient,
        obj=case,
        unit=case.unit,
    )
    return case


@transaction.atomic
def service_update(
    *,
    service: Service,
    by: Staff,
    name: str,
    terms: str,
    professions: list[str],
    questions: list[dict[str, Any]],
    active: bool,
    name_en: str = "",
    terms_en: str = "",
) -> Service:
    """``service`` comes from ``selectors.service_for_admin`` (the unit's administrators only)."""
    validate_service_name(name)
    validate_questions(questions)
    if Service.objects.filter(unit=service.unit, name=name).exclude(pk=service.pk).exists():
        raise ValidationError(_("The unit already has a service with this name."), code="duplicate")
    service.name, service.terms, service.professions = name, terms, professions
    service.questions, service.active = questions, active
    service.name_en, service.terms_en = name_en, terms_en
    service.save(update_fields=["name", "terms", "professions", "questions", "active", "name_en", "terms_en"])
    audit(actor=Actor.of_staff(by), action="service.update", unit=service.unit, obj=service)
    return service


@transaction.atomic
def region_form_save(
    *,
    region: Region,
    kind: str,
    by: Staff,
    name: str,
    terms: str,
    professions: list[str],
    questions: list[dict[str, Any]],
    name_en: str = "",
    terms_en: str = "",
) -> RegionServiceForm:
    """``region`` comes from ``selectors.region_for_admin`` (its region administrators only)."""
    validate_service_name(name)
    validate_questions(questions)
    form, _created = RegionServiceForm.objects.update_or_create(
        region=region,
        kind=ServiceKind(kind),
        defaults={
            "name": name,
            "terms": terms,
            "professions": professions,
            "questions": questions,
            "name_en": name_en,
            "terms_en": terms_en,
        },
    )
    audit(actor=Actor.of_staff(by), action="region_form.save", obj=form)
    return form
