"""Reads of cases: each takes the reader (a resident, with the subject they act for, or a staff
member), asks the policy (404 when not), and logs what shows a patient's cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vardkontakt.access import policy as access_policy
from vardkontakt.access.audit import Actor, audit, audit_each
from vardkontakt.access.models import AuditEntry
from vardkontakt.cases import policy
from vardkontakt.cases.attachments import path_of
from vardkontakt.cases.defaults import CALL_BACK_KEY, CALL_BACK_LABEL
from vardkontakt.cases.inbox_counts import capped, shown_count
from vardkontakt.cases.models import (
    OPEN_STATUSES,
    PATIENT_EVENT_TEXTS,
    Attachment,
    Case,
    CaseMessage,
    CaseReading,
    CaseStatus,
    MessageKind,
    Service,
)
from vardkontakt.cases.questions import MedicineChoices
from vardkontakt.identity.contact import phone_for_display
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Region
from vardkontakt.organisation.selectors import unit_members
from vardkontakt.records.models import Medicine
from vardkontakt.records.publishing import published_items
from vardkontakt.records.sections import PrescriptionRow, renewable_prescriptions
from vardkontakt.records.selectors import open_record


def _may_write_for(reader: Patient, subject: Patient) -> None:
    """The messages scope: the person themself, a guardian of a young child, a proxy with it."""
    if not access_policy.can_act_for(reader, subject, access_policy.Scope.CASES):
        raise Http404


@dataclass(frozen=True)
class CaseRow:
    """A case in the resident's list, with what tells the reader to look at it."""

    case: Case
    awaiting_answer: bool  # the unit asked something the patient has not answered
    new_from_unit: bool  # the unit wrote (or said it will call) since this reader last opened it


# What the unit writes that the patient's side sees: replies, questions, and the shown events.
_FROM_UNIT = Q(kind__in=[MessageKind.REPLY, MessageKind.QUESTION]) | Q(
    kind=MessageKind.EVENT, event__in=list(PATIENT_EVENT_TEXTS), author_staff__isnull=False
)


def _case_rows(reader: Patient, subject: Patient) -> list[CaseRow]:
    last_exchange = (
        CaseMessage.objects.filter(
            case=OuterRef("pk"), kind__in=[MessageKind.QUESTION, MessageKind.REPLY, MessageKind.PATIENT]
        )
        .order_by("-created_at")
        .values("kind")[:1]
    )
    last_from_unit = (
        CaseMessage.objects.filter(_FROM_UNIT, case=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    )
    seen = CaseReading.objects.filter(case=OuterRef("pk"), reader=reader).values("seen_at")[:1]
    cases = (
        Case.objects.filter(patient=subject)
        .select_related("service", "unit")
        .annotate(last_exchange=Subquery(last_exchange), last_from_unit=Subquery(last_from_unit), seen=Subquery(seen))
        .order_by("-received_at")
    )
    rows = [
        CaseRow(
            case=case,
            awaiting_answer=case.is_open and case.last_exchange == MessageKind.QUESTION,
            new_from_unit=case.last_from_unit is not None and (case.seen is None or case.last_from_unit > case.seen),
        )
        for case in cases
    ]
    # Waiting for the patient first, then news from the unit, then the rest open, then closed; newest first in each.
    return sorted(rows, key=lambda row: (not row.awaiting_answer, not row.new_from_unit, not row.case.is_open))


def cases_of(*, reader: Patient, subject: Patient) -> list[CaseRow]:
    """The subject's cases as the reader sees them: those that wait for an answer or have news
    first, newest first within each (one log entry for the list)."""
    _may_write_for(reader, subject)
    rows = _case_rows(reader, subject)
    audit(
        actor=Actor.of_patient(reader),
        action="case.list.read",
        patient=subject,
        on_behalf_of=subject,
        object_type="Case",
    )
    return rows


@dataclass(frozen=True)
class CaseCounts:
    awaiting_answer: int
    new_from_unit: int


def case_counts(*, reader: Patient, subject: Patient) -> CaseCounts | None:
    """How many of the subject's cases wait for an answer or have news, for the start page.

    None when the reader may not see the subject's cases. Logs nothing of its own: it is part of
    the start page, which is the reader's own (or logged as ``home.read`` when acting for someone)."""
    if not access_policy.can_act_for(reader, subject, access_policy.Scope.CASES):
        return None
    rows = _case_rows(reader, subject)
    return CaseCounts(
        awaiting_answer=sum(row.awaiting_answer for row in rows),
        new_from_unit=sum(row.new_from_unit and not row.awaiting_answer for row in rows),
    )


def case_for_patient(*, reader: Patient, case_id: str) -> Case:
    case = Case.objects.select_related("service", "unit", "patient", "created_by").filter(pk=case_id).first()
    if case is None or not policy.patient_may_see(reader, case):
        raise Http404
    audit(
        actor=Actor.of_patient(reader),
        action="case.read",
        patient=case.patient,
        on_behalf_of=case.patient,
        obj=case,
        unit=case.unit,
    )
    return case


def thread_for_patient(case: Case) -> list[CaseMessage]:
    messages = case.messages.select_related("author_staff", "author_patient").prefetch_related("attachments")
    return [message for message in messages if message.visible_to_patient]


def units_to_write_to(*, reader: Patient, subject: Patient, query: str = "") -> tuple[list[CareUnit], list[CareUnit]]:
    """(units the subject is listed at, other units matching the search), active services only."""
    _may_write_for(reader, subject)
    offering = CareUnit.objects.filter(services__active=True, live=True).distinct().select_related("administration")
    listed = list(offering.filter(listings__patient=subject).order_by("name"))
    others: list[CareUnit] = []
    if query.strip():
        words = query.strip()
        others = [
            unit
            for unit in offering.filter(Q(name__icontains=words) | Q(city__icontains=words)).order_by("name")[:50]
            if unit not in listed
        ]
    return listed, others


def unit_offering(*, unit_id: str) -> CareUnit:
    unit = CareUnit.objects.filter(pk=unit_id, services__active=True, live=True).distinct().first()
    if unit is None:
        raise Http404
    return unit


def active_service(*, reader: Patient, subject: Patient, unit: CareUnit, service_id: str) -> Service:
    """A service the reader may write to for the subject: offered now, and the messages scope."""
    _may_write_for(reader, subject)
    service = Service.objects.filter(pk=service_id, unit=unit, active=True).first()
    if service is None:
        raise Http404
    return service


def renewable_medicines(*, reader: Patient, subject: Patient) -> MedicineChoices:
    """The subject's current medicines that can be renewed, as the reader may see them in the record.

    Read through the record's door (policy, seal, audit) and its publishing rules, so the form never
    offers what the record page would not show. The policy is asked first so that a person to whom
    the record is closed (a child under 18, a proxy without the record scope) does not leave a refused
    read in the log each time they open the form: they never asked to read the record.
    """
    if not access_policy.can_read_record(reader, subject):
        return MedicineChoices(readable=False)
    if open_record(reader=reader, subject=subject, section="medicines") is not None:  # sealed meanwhile
        return MedicineChoices(readable=False)
    # The prescriptions that can be renewed (records.sections.may_renew, docs/record.md), then the
    # dispensings the pharmacy flagged renewable that are not on one of those prescriptions.
    prescriptions = renewable_prescriptions(subject)
    offered = {row.prescription.source_id for row in prescriptions}
    published, _withheld = published_items(Medicine, subject)
    found = published.filter(renewable=True, current=True).order_by("name", "-dispensed_on")
    return MedicineChoices(
        choices=[
            *((str(row.prescription.pk), prescription_description(row)) for row in prescriptions),
            *((str(m.pk), medicine_description(m)) for m in found if m.prescription_source_id not in offered),
        ],
        readable=True,
    )


def prescription_description(row: PrescriptionRow) -> str:
    """Name, how taken, who prescribed where and when, and what is left of it."""
    prescription = row.prescription
    details = [prescription.dosage] if prescription.dosage else []
    by = ", ".join(p for p in (prescription.prescriber_name, prescription.unit.name) if p)
    details.append(_("prescribed %(date)s by %(by)s") % {"date": prescription.prescribed_on.isoformat(), "by": by})
    if row.left is not None:
        details.append(
            ngettext("%(count)d dispensing left", "%(count)d dispensings left", row.left) % {"count": row.left}
        )
    return f"{prescription.name} – {'; '.join(details)}"


def medicine_description(medicine: Medicine) -> str:
    """Name and strength, then what tells two of the same apart (how taken, who prescribed, when)."""
    name = " ".join(part for part in (medicine.name, medicine.strength) if part)
    details = [medicine.dosage] if medicine.dosage else []
    if medicine.prescriber:
        details.append(_("prescribed by %(name)s") % {"name": medicine.prescriber})
    details.append(_("last dispensed %(date)s") % {"date": medicine.dispensed_on.isoformat()})
    return f"{name} – {'; '.join(details)}"


# --- staff ------------------------------------------------------------------------------------


def inbox_unit(*, staff: Staff, unit_id: str) -> CareUnit:
    unit = CareUnit.objects.filter(pk=unit_id).first()
    if unit is None or not policy.staff_may_work_inbox(staff, unit):
        raise Http404
    return unit


INBOX_LISTS = ("unassigned", "mine", "open", "overdue", "closed")
INBOX_ROWS = 200


def capped_counts(unit: CareUnit, rows: QuerySet[Case], conditions: dict[str, Q]) -> dict[str, int]:
    """Per condition, the number of ``rows`` that meet it, up to COUNT_LIMIT + 1 (inbox_counts), in one query."""
    counts = {name: capped(rows.filter(condition)) for name, condition in conditions.items()}
    found = CareUnit.objects.filter(pk=unit.pk).annotate(**counts).values(*counts).get()
    # A condition that can match nothing (a profession no service goes to) is compiled as NULL.
    return {name: found[name] or 0 for name in counts}


@dataclass(frozen=True)
class Inbox:
    cases: list[Case]
    counts: dict[str, str]  # per list, as shown (see shown_count)


def inbox(*, staff: Staff, unit: CareUnit, listing: str, service_id: str = "", profession: str = "") -> Inbox:
    now = timezone.now()
    base = Case.objects.filter(unit=unit)
    if service_id:
        base = base.filter(service_id=service_id)
    if profession:
        # A unit has a handful of services: pick those that go to the profession (portable JSON).
        base = base.filter(service_id__in=[s.pk for s in unit.services.all() if profession in s.professions])
    open_cases = Q(status__in=OPEN_STATUSES)
    filters = {
        "unassigned": open_cases & Q(assigned_to__isnull=True),
        "mine": open_cases & Q(assigned_to=staff),
        "open": open_cases,
        "overdue": open_cases & Q(first_answered_at__isnull=True, deadline_passes_at__lte=now),
        "closed": Q(status=CaseStatus.CLOSED),
    }
    counts = capped_counts(unit, base, filters)
    chosen = filters.get(listing, filters["open"])
    # The order each list's partial index holds (cases/models.py), ties included.
    ordering = ("-closed_at", "-id") if listing == "closed" else ("deadline_passes_at", "received_at", "id")
    cases = list(
        base.filter(chosen).select_related("service", "patient", "assigned_to").order_by(*ordering)[:INBOX_ROWS]
    )
    shown: dict[object, Case] = {}  # one entry per patient shown (their first case), as the appointment book
    for case in cases:
        shown.setdefault(case.patient_id, case)
    audit(actor=Actor.of_staff(staff), action="inbox.read", unit=unit, detail=listing)
    audit_each(
        actor=Actor.of_staff(staff),
        action="case.inbox.read",
        unit=unit,
        detail=f"inbox {listing}",
        reads=[(case.patient, case) for case in shown.values()],
    )
    return Inbox(cases=cases, counts={name: shown_count(count) for name, count in counts.items()})


def case_for_staff(*, staff: Staff, case_id: str) -> Case:
    case = (
        Case.objects.select_related("service", "unit", "patient", "created_by", "assigned_to")
        .filter(pk=case_id)
        .first()
    )
    if case is None or not policy.staff_may_handle(staff, case):
        raise Http404
    audit(actor=Actor.of_staff(staff), action="case.read", patient=case.patient, obj=case, unit=case.unit)
    return case


@dataclass(frozen=True)
class CallBack:
    """Whom the unit calls about a case, and on which number."""

    number: str  # E.164; "" when the resident said yes but no number is known
    shown_as: str
    person: Patient  # who asked to be called: whoever sent the case (the patient, a guardian, a proxy)
    from_settings: bool  # a "yes" given before the form asked for a number: the sender's saved mobile


def _call_back_answer(answers: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The answer that says yes to a phone call: a call-back question's, or the seed's yes/no
    question as it was asked before it carried a number (cases/migrations/0005)."""
    for answer in answers:
        value = answer.get("value")
        if answer.get("kind") == "call_back" and isinstance(value, dict) and value.get("answer") == "yes":
            return answer
        asked_to_call = answer.get("key") == CALL_BACK_KEY or answer.get("label") == CALL_BACK_LABEL
        if answer.get("kind") == "yes_no" and asked_to_call and value == "yes":
            return answer
    return None


def call_back_for_staff(*, staff: Staff, case: Case) -> CallBack | None:
    """The number to call when the resident said yes to a call (None when they did not).

    ``case`` comes from ``case_for_staff``, which checked the staff member and logged the opening;
    the number is contact information of its own, so showing it is logged as a read of it.
    """
    answer = _call_back_answer(case.answers)
    if answer is None:
        return None
    from_settings = answer["kind"] != "call_back"
    number = case.created_by.mobile if from_settings else answer["value"].get("number", "")
    found = CallBack(
        number=number, shown_as=phone_for_display(number), person=case.created_by, from_settings=from_settings
    )
    if number:
        audit(
            actor=Actor.of_staff(staff),
            action="case.call_number.read",
            patient=case.patient,
            obj=case,
            unit=case.unit,
            detail="the sender's saved mobile" if from_settings else "given with the case",
        )
    return found


def colleagues(*, unit: CareUnit, profession: str = "") -> list[Staff]:
    staff = Staff.objects.filter(pk__in=unit_members(unit)).order_by("family_name", "given_name")
    if profession:
        staff = staff.filter(profession=profession)
    return list(staff)


def attachment_of(*, case: Case, attachment_id: str, reader: Actor) -> tuple[Attachment, Path]:
    """A file of a case the reader already may see (the caller got ``case`` from its selector)."""
    attachment = Attachment.objects.filter(pk=attachment_id, case=case).first()
    if attachment is None:
        raise Http404
    path = path_of(attachment)
    if not path.exists():
        raise Http404
    audit(actor=reader, action="attachment.read", patient=case.patient, obj=attachment, unit=case.unit)
    return attachment, path


@dataclass
class Opening:
    """One person's openings of a case in a row: the latest, the first and how many."""

    actor_id: str
    actor_label: str
    at: dt.datetime
    first_at: dt.datetime
    times: int = 1


def openings_of(case: Case) -> list[Opening]:
    """Who on the staff side opened the case, and when (from the audit log, newest first). Openings
    by the same person one after another are one line: a nurse who reloads the page while writing
    is one reader, not ten."""
    # Found among the patient's entries (the (patient_id, at) index; every case.read names the
    # case's patient): by the case alone it was a scan of the whole log.
    entries = AuditEntry.objects.filter(
        patient_id=str(case.patient_id),
        object_type="Case",
        object_id=str(case.pk),
        action="case.read",
        actor_kind="staff",
    ).order_by("-sequence")[:200]
    openings: list[Opening] = []
    for entry in entries:
        if openings and openings[-1].actor_id == entry.actor_id:
            openings[-1].first_at = entry.at
            openings[-1].times += 1
        else:
            openings.append(Opening(entry.actor_id, entry.actor_label, entry.at, entry.at))
    return openings[:50]


def unit_for_service_admin(*, staff: Staff, unit_id: str) -> CareUnit:
    """A unit whose services ``staff`` administers: 404 outside their units, 403 for plain members."""
    unit = inbox_unit(staff=staff, unit_id=unit_id)
    if not policy.staff_may_manage_services(staff, unit):
        raise PermissionDenied
    return unit


def service_for_admin(*, staff: Staff, unit_id: str, service_id: str) -> Service:
    unit = unit_for_service_admin(staff=staff, unit_id=unit_id)
    service = unit.services.filter(pk=service_id).first()
    if service is None:
        raise Http404
    return service


def region_for_admin(*, staff: Staff, region_id: str) -> Region:
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access_policy.is_region_admin(staff, region):
        raise Http404
    return region
