"""Who may do what for whom. The one place these rules are written (STYLE.md §3).

Every function takes the moment it judges (``now``) so that a rule at a birthday or an expiry is
decided the same way in a request, a task and a test. Ages are counted in Swedish local dates:
a child turns 13 at 00:00 Europe/Stockholm on the birthday (a 29 February child in a common
year on 1 March).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from vardkontakt.access.models import Guardianship, Proxy, ProxyStatus, RecordSeal
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import (
    CareUnit,
    Membership,
    MembershipRole,
    Region,
    RegionRole,
    RegionRoleKind,
    in_force,
)
from vardkontakt.organisation.selectors import region_of_patient, regions_of_patients


class Scope(enum.StrEnum):
    RECORD = "record"
    CASES = "cases"
    BOOKINGS = "bookings"
    # Only the person themself: their settings, their proxies, sealing their record.
    OWN_ACCOUNT = "own_account"


class Relation(enum.StrEnum):
    SELF = "self"
    GUARDIAN = "guardian"
    PROXY = "proxy"


@dataclass(frozen=True)
class AgeRules:
    guardian_access_until: int = 13
    own_record_from: int = 18


def age_rules(patient: Patient) -> AgeRules:
    """The ages that apply to ``patient``: those of their own region (SPEC §5: a region sets them;
    the seed's values where no region is known)."""
    return _rules_of(region_of_patient(patient))


def _rules_of(region: Region | None) -> AgeRules:
    if region is None:
        return AgeRules()
    return AgeRules(region.guardian_access_until_age, region.own_record_from_age)


def age_on(born: dt.date, now: dt.datetime) -> int:
    today = timezone.localdate(now)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class Representation:
    """That ``actor`` may act for ``subject``, and on what ground."""

    subject: Patient
    relation: Relation
    proxy: Proxy | None = None

    def allows(self, scope: Scope) -> bool:
        if self.relation is Relation.SELF:
            return True
        if scope is Scope.OWN_ACCOUNT:
            return False
        if self.relation is Relation.GUARDIAN:
            return True
        if self.proxy is None:
            return False
        return bool(getattr(self.proxy, f"scope_{scope.value}", False))


def _proxy_in_force(proxy: Proxy, now: dt.datetime) -> bool:
    return (
        proxy.status == ProxyStatus.ACTIVE
        and (proxy.expires_on is None or timezone.localdate(now) <= proxy.expires_on)
        and age_on(proxy.agent.birth_date, now) >= 18
        and age_on(proxy.principal.birth_date, now) >= 18
    )


def _guardianship_in_force(guardianship: Guardianship, now: dt.datetime, rules: AgeRules) -> bool:
    child = guardianship.child
    return (
        guardianship.ended_at is None
        and guardianship.blocked_at is None
        and not child.protected_identity
        and age_on(child.birth_date, now) < rules.guardian_access_until
    )


def _may_act_for_someone(actor: Patient) -> bool:
    """Whether ``actor`` has any open guardianship or active proxy at all (before the age rules).

    Asked on every resident's page (the "act for" switch), so written as SQL: the ORM spends
    more time building this statement than the database spends answering it.
    """
    guardianship, proxy = Guardianship._meta.db_table, Proxy._meta.db_table
    actor_id = Patient._meta.pk.get_db_prep_value(actor.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {guardianship} WHERE guardian_id = %s AND ended_at IS NULL"  # noqa: S608
            f" AND blocked_at IS NULL) OR EXISTS (SELECT 1 FROM {proxy} WHERE agent_id = %s AND status = %s)",
            [actor_id, actor_id, ProxyStatus.ACTIVE.value],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def representations(actor: Patient, *, now: dt.datetime | None = None) -> list[Representation]:
    """Everyone ``actor`` may act for right now, themself first."""
    now = now or timezone.now()
    found = [Representation(actor, Relation.SELF)]
    if not _may_act_for_someone(actor):
        return found  # most residents: one query on every page instead of three
    guardianships = list(
        Guardianship.objects.filter(guardian=actor).select_related("child").order_by("child__given_name")
    )
    regions = regions_of_patients([g.child for g in guardianships])
    found += [
        Representation(g.child, Relation.GUARDIAN)
        for g in guardianships
        if _guardianship_in_force(g, now, _rules_of(regions[g.child.pk]))
    ]
    proxies = (
        Proxy.objects.filter(agent=actor, status=ProxyStatus.ACTIVE)
        .select_related("principal", "agent")
        .order_by("principal__given_name")
    )
    found += [Representation(p.principal, Relation.PROXY, p) for p in proxies if _proxy_in_force(p, now)]
    return found


@dataclass(frozen=True)
class GrownChild:
    """A guardian's child under 18 who is too old for the guardian to act for, and from what age."""

    child: Patient
    until_age: int


def children_grown_past_guardian_access(guardian: Patient, *, now: dt.datetime | None = None) -> list[GrownChild]:
    """The guardian's children under 18 the guardian can no longer act for, so that the "act for"
    list and the start page can say why a child is missing instead of dropping them silently."""
    now = now or timezone.now()
    children = list(Guardianship.objects.filter(guardian=guardian, ended_at__isnull=True).select_related("child"))
    if not children:
        return []
    regions = regions_of_patients([g.child for g in children])
    grown = []
    for g in children:
        until = _rules_of(regions[g.child.pk]).guardian_access_until
        if until <= age_on(g.child.birth_date, now) < 18:
            grown.append(GrownChild(g.child, until))
    return sorted(grown, key=lambda found: found.child.given_name)


def children_past_guardian_access(guardian: Patient, *, now: dt.datetime | None = None) -> int:
    """How many of the guardian's children under 18 are too old for the guardian to act for,
    so the record page can say why they are not offered instead of leaving it unexplained."""
    return len(children_grown_past_guardian_access(guardian, now=now))


def representation(actor: Patient, subject: Patient, *, now: dt.datetime | None = None) -> Representation | None:
    """The ground on which ``actor`` may act for ``subject`` now, or None."""
    if actor.pk == subject.pk:
        return Representation(actor, Relation.SELF)
    now = now or timezone.now()
    guardianship = Guardianship.objects.filter(guardian=actor, child=subject).select_related("child").first()
    if guardianship and _guardianship_in_force(guardianship, now, age_rules(subject)):
        return Representation(subject, Relation.GUARDIAN)
    proxy = (
        Proxy.objects.filter(agent=actor, principal=subject, status=ProxyStatus.ACTIVE)
        .select_related("principal", "agent")
        .first()
    )
    if proxy and _proxy_in_force(proxy, now):
        return Representation(subject, Relation.PROXY, proxy)
    return None


def can_act_for(actor: Patient, subject: Patient, scope: Scope, *, now: dt.datetime | None = None) -> bool:
    found = representation(actor, subject, now=now)
    return found is not None and found.allows(scope)


def is_sealed(patient: Patient) -> bool:
    return RecordSeal.objects.filter(patient=patient, reopened_at__isnull=True).exists()


def can_read_record(actor: Patient, subject: Patient, *, now: dt.datetime | None = None) -> bool:
    """Record reading: nobody while sealed; the person from the region's age; guardians of young
    children; proxies with the record scope."""
    now = now or timezone.now()
    if is_sealed(subject):
        return False
    found = representation(actor, subject, now=now)
    if found is None or not found.allows(Scope.RECORD):
        return False
    if found.relation is Relation.SELF:
        return age_on(subject.birth_date, now) >= age_rules(subject).own_record_from
    return True


def can_appoint_proxy(principal: Patient, *, now: dt.datetime | None = None) -> bool:
    return age_on(principal.birth_date, now or timezone.now()) >= 18


def can_be_proxy(agent: Patient, *, now: dt.datetime | None = None) -> bool:
    return age_on(agent.birth_date, now or timezone.now()) >= 18


# --- Staff ---------------------------------------------------------------------------------------


# A membership or region role gives access only between its start and end dates (issue 15):
# one given ahead of a start date, or past its last day, counts as none.
def _today() -> dt.date:
    return timezone.localdate()


def _memberships(staff: Staff) -> QuerySet[Membership]:
    return Membership.objects.filter(in_force(_today()), staff=staff)


def _region_roles(staff: Staff) -> QuerySet[RegionRole]:
    return RegionRole.objects.filter(in_force(_today()), staff=staff)


def is_unit_admin(staff: Staff, unit: CareUnit) -> bool:
    return _memberships(staff).filter(unit=unit, role=MembershipRole.UNIT_ADMIN).exists()


def is_member(staff: Staff, unit: CareUnit) -> bool:
    return _memberships(staff).filter(unit=unit).exists()


def administered_units(staff: Staff) -> list[CareUnit]:
    return list(
        CareUnit.objects.filter(
            pk__in=_memberships(staff).filter(role=MembershipRole.UNIT_ADMIN).values("unit_id")
        ).order_by("name")
    )


def may_review_unit_log(staff: Staff, unit: CareUnit) -> bool:
    return is_unit_admin(staff, unit)


def may_block_guardian(staff: Staff, guardianship: Guardianship) -> bool:
    """A unit head (unit administrator) of a unit where the child is listed."""
    return (
        _memberships(staff).filter(role=MembershipRole.UNIT_ADMIN, unit__listings__patient=guardianship.child).exists()
    )


def blocking_unit(staff: Staff, guardianship: Guardianship) -> CareUnit | None:
    """The unit in whose name a unit head handles a guardianship (the first, by name, of their
    units where the child is listed): its log follow-up is where the block shows."""
    return (
        CareUnit.objects.filter(
            pk__in=_memberships(staff).filter(role=MembershipRole.UNIT_ADMIN).values("unit_id"),
            listings__patient=guardianship.child,
        )
        .order_by("name")
        .first()
    )


def is_region_admin(staff: Staff, region: Region) -> bool:
    return _region_roles(staff).filter(region=region, role=RegionRoleKind.REGION_ADMIN).exists()


def administered_regions(staff: Staff) -> list[Region]:
    held = _region_roles(staff).filter(role=RegionRoleKind.REGION_ADMIN).values("region_id")
    return list(Region.objects.filter(pk__in=held).order_by("name"))


def is_archivist(staff: Staff) -> bool:
    return _region_roles(staff).filter(role=RegionRoleKind.ARCHIVIST).exists()


def is_support(staff: Staff) -> bool:
    """The e-services' support: looks up a person's account, logins, notices and proxies, never
    anything medical. Residents belong to no region, so the role is held in any (one per installation)."""
    return _region_roles(staff).filter(role=RegionRoleKind.SUPPORT).exists()


def staff_may_see_patient(staff: Staff, patient: Patient) -> bool:
    """Care staff see patients of their own units only (SPEC §1)."""
    return _memberships(staff).filter(unit__listings__patient=patient).exists()
