"""Who may see and handle a case. Builds on access.policy; the one place for these rules."""

from __future__ import annotations

from vardkontakt.access import policy as access_policy
from vardkontakt.cases.models import Case, CaseMessage, MessageKind
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit


def patient_may_see(actor: Patient, case: Case) -> bool:
    """The patient themself, a guardian of a young child, or a proxy with the messages scope."""
    return access_policy.can_act_for(actor, case.patient, access_policy.Scope.CASES)


def staff_may_handle(staff: Staff, case: Case) -> bool:
    """Staff of the case's own unit only (SPEC §1)."""
    return access_policy.is_member(staff, case.unit)


def staff_may_work_inbox(staff: Staff, unit: CareUnit) -> bool:
    return access_policy.is_member(staff, unit)


def staff_may_manage_services(staff: Staff, unit: CareUnit) -> bool:
    return access_policy.is_unit_admin(staff, unit)


def open_question(case: Case) -> CaseMessage | None:
    """The unit's question the patient has not answered yet, in an open case.

    Decided from the thread, not the status: after "Ask the patient for more" the unit may also
    say "We will call the patient" (status will_call), and the question still stands."""
    if not case.is_open:
        return None
    last = (
        case.messages.filter(kind__in=[MessageKind.QUESTION, MessageKind.REPLY, MessageKind.PATIENT])
        .order_by("-created_at")
        .first()
    )
    return last if last is not None and last.kind == MessageKind.QUESTION else None
