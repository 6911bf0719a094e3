"""Who may see and handle a case. Builds on access.policy; the one place for these rules."""

from __future__ import annotations

from vardkontakt.access import policy as access_policy
from vardkontakt.cases.models import Case
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
