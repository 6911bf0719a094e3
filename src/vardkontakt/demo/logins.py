"""Who to pick in the demo provider for each role, in the language of the pages (Swedish): what
`make demo` prints. The roles come from the data (demo_idp.roles), as the chooser labels them."""

from __future__ import annotations

from django.utils import translation

from vardkontakt.demo.demo_data import unit_hsa_id
from vardkontakt.demo_idp.roles import resident_roles, staff_roles
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import Membership, MembershipRole

TOLVAN = "191212121212"
LINDANGEN = unit_hsa_id("E1001")


def login_lines() -> list[str]:
    with translation.override("sv"):
        lines = ["Invånare: knappen ”Logga in med e-legitimation”, välj sedan personen:"]
        residents = resident_roles()
        tolvan = Patient.objects.filter(personnummer=TOLVAN).first()
        if tolvan is not None:
            lines.append(
                _line(tolvan.full_name, tolvan.personnummer_display, "invånare med ärenden, tider och journal")
            )
        for patient in Patient.objects.filter(pk__in=list(residents)).order_by("family_name", "given_name"):
            lines.append(_line(patient.full_name, patient.personnummer_display, "; ".join(residents[patient.pk])))
        lines.append("Vårdpersonal: länken ”Logga in med ditt SITHS-kort”, välj sedan personen:")
        member = (
            Membership.objects.filter(unit__hsa_id=LINDANGEN, role=MembershipRole.STAFF)
            .select_related("staff", "unit")
            .order_by("staff__hsa_id")
            .first()
        )
        if member is not None:
            work = f"{member.staff.get_profession_display()}, {member.unit.name} (inkorg, tidbok)"
            lines.append(_line(member.staff.full_name, member.staff.hsa_id, work))
        staff = staff_roles()
        for person in Staff.objects.filter(pk__in=list(staff)).order_by("hsa_id"):
            lines.append(_line(person.full_name, person.hsa_id, "; ".join(staff[person.pk])))
    return lines


def _line(name: str, number: str, role: str) -> str:
    return f"  {name:<24} {number:<20} {role}"
