"""Who may pay a fee and who may pay one back.

A fee is paid by its person, a guardian while they may act for the child, or a proxy with the
bookings scope (fees belong to visits), as the high-cost page is read. Staff of the unit that
charged the fee see its payments and refund them; the region's administrators export its invoices.
"""

from __future__ import annotations

import datetime as dt

from vardkontakt.access import policy
from vardkontakt.fees.models import Fee
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Region


def may_pay_for(actor: Patient, subject: Patient, *, now: dt.datetime | None = None) -> bool:
    return policy.can_act_for(actor, subject, policy.Scope.BOOKINGS, now=now)


def may_handle_unit_payments(staff: Staff, unit: CareUnit) -> bool:
    return policy.is_member(staff, unit)


def may_refund(staff: Staff, fee: Fee) -> bool:
    return fee.unit is not None and policy.is_member(staff, fee.unit)


def may_export_invoices(staff: Staff, region: Region) -> bool:
    return policy.is_region_admin(staff, region)
