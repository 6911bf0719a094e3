"""What each demo person is in the demo, for the person chooser: "guardian of Liam (9)",
"archivist", "unit administrator, Vårdcentralen Lindängen". Read from the data itself (roles,
memberships, guardianships, proxies, seals), so the labels stay true whatever the demo loads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import pgettext

from vardkontakt.access.models import Guardianship, Proxy, ProxyStatus, RecordSeal
from vardkontakt.access.policy import age_on
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import Administration, Membership, MembershipRole, RegionRole, RegionRoleKind

REGION_ROLE_LABELS: dict[str, Callable[[], str]] = {
    RegionRoleKind.REGION_ADMIN: lambda: pgettext("demo role", "region administrator"),
    RegionRoleKind.ARCHIVIST: lambda: pgettext("demo role", "archivist (reopens sealed records)"),
    RegionRoleKind.SUPPORT: lambda: pgettext("demo role", "support"),
}


def staff_roles() -> dict[object, list[str]]:
    """Staff id → what they do beyond their profession in the demo."""
    roles: dict[object, list[str]] = defaultdict(list)
    for role in RegionRole.objects.all():
        label = REGION_ROLE_LABELS.get(role.role)
        if label is not None:
            roles[role.staff_id].append(label())
    for administration in Administration.objects.prefetch_related("coordinators"):
        for coordinator in administration.coordinators.all():
            roles[coordinator.pk].append(
                pgettext("demo role", "coordinator, %(administration)s") % {"administration": administration.name}
            )
    for membership in Membership.objects.filter(role=MembershipRole.UNIT_ADMIN).select_related("unit"):
        roles[membership.staff_id].append(
            pgettext("demo role", "unit administrator, %(unit)s") % {"unit": membership.unit.name}
        )
    return roles


def _child(patient: Patient) -> str:
    return f"{patient.given_name} ({age_on(patient.birth_date, timezone.now())})"


def resident_roles() -> dict[object, list[str]]:
    """Resident id → what they show in the demo (guardian, child, proxy, sealed record …)."""
    roles: dict[object, list[str]] = defaultdict(list)
    guardianships = Guardianship.objects.filter(ended_at__isnull=True).select_related("guardian", "child")
    children: dict[object, list[Patient]] = defaultdict(list)
    blocked: dict[object, list[Patient]] = defaultdict(list)
    for guardianship in sorted(guardianships, key=lambda found: found.child.birth_date, reverse=True):
        (blocked if guardianship.blocked_at else children)[guardianship.guardian_id].append(guardianship.child)
        label = pgettext("demo role", "child, %(age)s years") % {
            "age": age_on(guardianship.child.birth_date, timezone.now())
        }
        if label not in roles[guardianship.child_id]:  # two guardians, one label
            roles[guardianship.child_id].append(label)
    for guardian_id, kids in children.items():
        roles[guardian_id].append(
            pgettext("demo role", "guardian of %(children)s") % {"children": ", ".join(map(_child, kids))}
        )
    for guardian_id, kids in blocked.items():
        roles[guardian_id].append(
            pgettext("demo role", "guardian blocked for %(children)s") % {"children": ", ".join(map(_child, kids))}
        )
    for proxy in Proxy.objects.select_related("principal", "agent"):
        if proxy.status == ProxyStatus.ACTIVE:
            roles[proxy.agent_id].append(
                pgettext("demo role", "proxy for %(name)s") % {"name": proxy.principal.given_name}
            )
            roles[proxy.principal_id].append(pgettext("demo role", "has a proxy"))
        elif proxy.status == ProxyStatus.REVOKED:
            roles[proxy.agent_id].append(
                pgettext("demo role", "proxy for %(name)s, revoked") % {"name": proxy.principal.given_name}
            )
    for seal in RecordSeal.objects.filter(reopened_at__isnull=True):
        roles[seal.patient_id].append(pgettext("demo role", "record sealed"))
    for patient in Patient.objects.filter(protected_identity=True):
        roles[patient.pk].append(pgettext("demo role", "protected identity"))
    return roles
