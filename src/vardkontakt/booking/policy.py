"""Who may do what in the appointment book.

Residents: for themself, a child in the guardian's care (under the region's age), or a
principal whose proxy holds the bookings scope — the access core's rules, nothing more.
Staff: members of the unit see its book and book for patients; its unit administrators set up
visit types, schedules and rules. A practitioner holds only the visit types their profession may.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from vardkontakt.access import policy as access_policy
from vardkontakt.booking.models import VisitType
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit


def patient_may_book_for(actor: Patient, subject: Patient) -> bool:
    return access_policy.can_act_for(actor, subject, access_policy.Scope.BOOKINGS)


def staff_may_use_book(staff: Staff, unit: CareUnit) -> bool:
    return access_policy.is_member(staff, unit)


def staff_may_set_up(staff: Staff, unit: CareUnit) -> bool:
    return access_policy.is_unit_admin(staff, unit)


def profession_refusal(practitioner: Staff, visit_type: VisitType) -> str:
    """Why a practitioner may not hold a visit type, in words that say who may."""
    return _("%(name)s (%(profession)s) may not hold “%(visit)s”. Professions that may: %(professions)s.") % {
        "name": practitioner.full_name,
        "profession": practitioner.get_profession_display(),
        "visit": visit_type.name,
        "professions": visit_type.professions_display,
    }
