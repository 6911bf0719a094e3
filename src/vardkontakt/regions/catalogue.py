"""Importing the HSA catalogue (issue 15 §3): what an extract would change, applying it all or
nothing, and ending the access of persons the latest extract no longer lists.

The catalogue is the truth for what it holds: units' names, kinds and administrations, persons'
names and professions, and at which units they work from when until when. It does not know the
e-services' own roles, so a place's role (staff or unit administrator) is only set when the place
is new, and region roles are never touched except when a person leaves.

Everything is read in a handful of queries and written in bulk, so the time and memory of an
import grow with the extract's size, not with its square (bench/hsa_import.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access.audit import SYSTEM, Actor, audit
from vardkontakt.booking.selectors import forget_units
from vardkontakt.identity.models import Staff
from vardkontakt.identity.user_cache import user_forget
from vardkontakt.organisation.models import (
    Administration,
    CareUnit,
    Membership,
    MembershipRole,
    Region,
    RegionRole,
    in_force,
)
from vardkontakt.records.publishing import rules_of
from vardkontakt.regions.catalogue_format import Extract, PersonRecord, read_extract
from vardkontakt.regions.models import CatalogueImport, CataloguePerson

CHUNK = 500  # ids per IN (…): well under SQLite's limit on parameters
SHOWN = 50  # changes listed by name in the preview; the rest are counted


def digest_of(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


@dataclass
class Plan:
    """What applying an extract would do, computed against what is stored now."""

    units_added: list[CareUnit] = field(default_factory=list)
    units_changed: list[tuple[CareUnit, list[str]]] = field(default_factory=list)
    persons_added: list[Staff] = field(default_factory=list)
    persons_changed: list[tuple[Staff, list[str]]] = field(default_factory=list)
    persons_ended: list[Staff] = field(default_factory=list)  # in the extract, every place there over
    persons_missing: int = 0  # listed before, not in this extract: their access ends at night
    # Writes, for apply(): staff to update, memberships to create and to update (with the fields).
    staff_updates: list[Staff] = field(default_factory=list)
    memberships_new: list[tuple[str, str, dt.date | None, dt.date | None]] = field(default_factory=list)
    memberships_changed: list[Membership] = field(default_factory=list)
    same_as_latest: bool = False

    @property
    def changes(self) -> bool:
        return bool(self.units_added or self.units_changed or self.staff_updates or self.persons_added) or bool(
            self.memberships_new or self.memberships_changed
        )

    def counts(self) -> dict[str, int]:
        return {
            "units_added": len(self.units_added),
            "units_changed": len(self.units_changed),
            "persons_added": len(self.persons_added),
            "persons_changed": len(self.persons_changed),
            "persons_ended": len(self.persons_ended),
            "persons_missing": self.persons_missing,
        }


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _by_hsa_id(model: type[Any], hsa_ids: Iterable[str], *related: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(sorted(hsa_ids)):
        found.update((row.hsa_id, row) for row in model.objects.filter(hsa_id__in=chunk).select_related(*related))
    return found


def _holds(place_starts: dt.date | None, place_ends: dt.date | None, today: dt.date) -> bool:
    return (place_starts is None or place_starts <= today) and (place_ends is None or today <= place_ends)


def plan_for(region: Region, extract: Extract, *, today: dt.date | None = None) -> Plan:
    """What applying ``extract`` to ``region`` would change. ValidationError if it cannot be applied
    (a unit of another region, an administration the region does not have, an unknown unit)."""
    today = today or timezone.localdate()
    plan = Plan()
    problems: list[str] = []
    administrations = {a.name.casefold(): a for a in Administration.objects.filter(region=region)}
    units = _by_hsa_id(
        CareUnit,
        set(extract.units) | {p.unit_hsa_id for r in extract.persons.values() for p in r.places},
        "administration",
    )
    harm_assessment = rules_of(region).harm_assessment_for_new_units
    for record in extract.units.values():
        administration = administrations.get(record.administration.casefold())
        if administration is None:
            problems.append(
                _("%(unit)s: the region has no administration named “%(name)s”: add it first.")
                % {"unit": record.hsa_id, "name": record.administration}
            )
            continue
        unit = units.get(record.hsa_id)
        ended = record.ends_on is not None and record.ends_on < today
        if unit is None:
            unit = CareUnit(
                hsa_id=record.hsa_id,
                name=record.name,
                kind=record.kind,
                administration=administration,
                live=False,
                needs_harm_assessment=harm_assessment,
            )
            units[record.hsa_id] = unit
            plan.units_added.append(unit)
            continue
        if unit.administration.region_id != region.pk:
            problems.append(_("%(unit)s belongs to another region.") % {"unit": record.hsa_id})
            continue
        wanted: dict[str, Any] = {"name": record.name, "kind": record.kind, "administration_id": administration.pk}
        if ended:
            wanted["live"] = False  # a unit that has closed is taken out of residents' sight
        changed = [name for name, value in wanted.items() if getattr(unit, name) != value]
        for name in changed:
            setattr(unit, name, wanted[name])
        if changed:
            plan.units_changed.append((unit, [name.removesuffix("_id") for name in changed]))
    for person in extract.persons.values():
        for place in person.places:
            unit = units.get(place.unit_hsa_id)
            if unit is None:
                problems.append(
                    _("%(person)s: the unit %(unit)s is neither in the extract nor in the region.")
                    % {"person": person.hsa_id, "unit": place.unit_hsa_id}
                )
            elif unit.pk and unit.administration.region_id != region.pk and unit not in plan.units_added:
                problems.append(_("%(unit)s belongs to another region.") % {"unit": place.unit_hsa_id})
    if problems:
        raise ValidationError(problems[:20])
    _plan_persons(region, extract, units, plan, today)
    latest = latest_import(region)
    plan.same_as_latest = latest is not None and latest.digest == extract.digest
    return plan


def _plan_persons(region: Region, extract: Extract, units: dict[str, CareUnit], plan: Plan, today: dt.date) -> None:
    people = _by_hsa_id(Staff, extract.persons)
    region_units = {u.pk for u in units.values() if u.pk and u.administration.region_id == region.pk}
    current: dict[Any, dict[Any, Membership]] = {}
    staff_ids = [staff.pk for staff in people.values()]
    for chunk in _chunks(staff_ids):
        for membership in Membership.objects.filter(staff_id__in=chunk, unit__administration__region=region):
            current.setdefault(membership.staff_id, {})[membership.unit_id] = membership
    for record in extract.persons.values():
        staff = people.get(record.hsa_id)
        if staff is None:
            staff = Staff(
                hsa_id=record.hsa_id,
                given_name=record.given_name,
                family_name=record.family_name,
                profession=record.profession,
            )
            plan.persons_added.append(staff)
            for place in record.places:
                plan.memberships_new.append((record.hsa_id, place.unit_hsa_id, place.starts_on, place.ends_on))
            continue
        changed = _person_changes(staff, record, today)
        if changed:
            plan.staff_updates.append(staff)
        held_before = any(_holds(m.starts_on, m.ends_on, today) for m in current.get(staff.pk, {}).values())
        held_after = False
        listed = set()
        for place in record.places:
            unit = units[place.unit_hsa_id]
            listed.add(unit.pk)
            held_after |= _holds(place.starts_on, place.ends_on, today)
            held = current.get(staff.pk, {}).get(unit.pk)
            if held is None:
                plan.memberships_new.append((record.hsa_id, place.unit_hsa_id, place.starts_on, place.ends_on))
                changed.append(_("place at %(unit)s") % {"unit": unit.name})
            elif (held.starts_on, held.ends_on) != (place.starts_on, place.ends_on):
                held.starts_on, held.ends_on = place.starts_on, place.ends_on
                plan.memberships_changed.append(held)
                changed.append(_("dates at %(unit)s") % {"unit": unit.name})
        for unit_id, membership in current.get(staff.pk, {}).items():
            # A place at one of the region's units the catalogue no longer lists ends yesterday.
            if unit_id not in listed and unit_id in region_units and _holds(None, membership.ends_on, today):
                membership.ends_on = today - dt.timedelta(days=1)
                if membership.starts_on and membership.starts_on > membership.ends_on:
                    membership.starts_on = membership.ends_on
                plan.memberships_changed.append(membership)
                changed.append(_("left a unit"))
        if held_before and not held_after and record.places:
            plan.persons_ended.append(staff)
        elif changed:
            plan.persons_changed.append((staff, changed))
    known = set(CataloguePerson.objects.filter(region=region).values_list("staff_id", flat=True))
    plan.persons_missing = len(known - set(staff_ids))


def _person_changes(staff: Staff, record: PersonRecord, today: dt.date) -> list[str]:
    wanted = {"given_name": record.given_name, "family_name": record.family_name, "profession": record.profession}
    changed = [name for name, value in wanted.items() if getattr(staff, name) != value]
    for name in changed:
        setattr(staff, name, wanted[name])
    if staff.access_ended_at is not None and any(_holds(p.starts_on, p.ends_on, today) for p in record.places):
        staff.access_ended_at = None  # back in the catalogue with a place: their access opens again
        changed.append("access_ended_at")
    return changed


def latest_import(region: Region) -> CatalogueImport | None:
    return CatalogueImport.objects.filter(region=region, applied_at__isnull=False).order_by("-applied_at").first()


def upload(*, region: Region, by: Staff | None, content: str, file_name: str) -> CatalogueImport:
    """Keeps an extract for its preview, if it reads without problems (ExtractError otherwise)."""
    read_extract(content)
    stored = CatalogueImport.objects.create(
        region=region, uploaded_by=by, content=content, file_name=file_name[:200], digest=digest_of(content)
    )
    actor = Actor.of_staff(by) if by is not None else SYSTEM
    audit(actor=actor, action="catalogue.upload", obj=stored, detail=file_name[:200])
    return stored


def preview(stored: CatalogueImport) -> Plan:
    extract = read_extract(stored.content)
    extract.digest = stored.digest
    return plan_for(stored.region, extract)


@transaction.atomic
def apply(stored: CatalogueImport, *, by: Staff | None) -> dict[str, int]:
    """Applies the extract all or nothing; returns what it changed, by kind. The same extract as the
    latest applied, with nothing changed since, changes nothing and is not kept ({})."""
    stored = CatalogueImport.objects.select_for_update().select_related("region").get(pk=stored.pk)
    if stored.applied_at is not None:
        raise ValidationError(_("This extract is already applied."), code="applied")
    region = Region.objects.select_for_update().get(pk=stored.region_id)
    plan = preview(stored)
    if plan.same_as_latest and not plan.changes:
        stored.delete()  # the latest extract again, and nothing drifted since: nothing to do
        return {}
    now = timezone.now()
    CareUnit.objects.bulk_create(plan.units_added, batch_size=CHUNK)
    if plan.units_changed:
        CareUnit.objects.bulk_update(
            [unit for unit, _ in plan.units_changed], ["name", "kind", "administration", "live"], batch_size=CHUNK
        )
        forget_units()  # bulk_update sends no signal: the booking pages' copies of the units go
    Staff.objects.bulk_create(plan.persons_added, batch_size=CHUNK)
    for staff in plan.staff_updates:
        staff.updated_at = now
    Staff.objects.bulk_update(
        plan.staff_updates,
        ["given_name", "family_name", "profession", "access_ended_at", "updated_at"],
        batch_size=CHUNK,
    )
    user_forget(staff.user_id for staff in plan.staff_updates)  # bulk_update sends no signal
    extract = read_extract(stored.content)
    people = _by_hsa_id(Staff, extract.persons)
    units = _by_hsa_id(CareUnit, {unit for _, unit, _, _ in plan.memberships_new})
    Membership.objects.bulk_create(
        [
            Membership(
                staff=people[person],
                unit=units[unit],
                role=MembershipRole.STAFF,
                starts_on=starts_on,
                ends_on=ends_on,
            )
            for person, unit, starts_on, ends_on in plan.memberships_new
        ],
        batch_size=CHUNK,
    )
    Membership.objects.bulk_update(plan.memberships_changed, ["starts_on", "ends_on"], batch_size=CHUNK)
    stored.applied_at = now
    stored.summary = plan.counts()
    stored.save(update_fields=["applied_at", "summary"])
    CataloguePerson.objects.bulk_create(
        [CataloguePerson(region=region, staff=staff, last_import=stored) for staff in people.values()],
        update_conflicts=True,
        unique_fields=["region", "staff"],
        update_fields=["last_import"],
        batch_size=CHUNK,
    )
    actor = Actor.of_staff(by) if by is not None else SYSTEM
    detail = ", ".join(f"{name} {count}" for name, count in stored.summary.items())
    audit(actor=actor, action="catalogue.import", obj=stored, detail=detail)
    return dict(stored.summary)


def end_access_of_departed(*, now: dt.datetime | None = None) -> int:
    """Nightly (once a local day, from 01:00; settings.PERIODIC_JOBS): persons the region's latest
    applied extract no longer lists lose their places in the region and, with none left anywhere,
    their login. Returns how many persons lost access."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < 1:
        return 0
    ended = 0
    for latest_id in _latest_imports():
        with transaction.atomic():
            latest = CatalogueImport.objects.select_for_update().select_related("region").get(pk=latest_id)
            if latest.swept_on == local.date():
                continue
            ended += _end_departed(latest, now)
            latest.swept_on = local.date()
            latest.save(update_fields=["swept_on"])
    return ended


def _latest_imports() -> list[Any]:
    found: dict[Any, Any] = {}
    for region_id, import_id in (
        CatalogueImport.objects.filter(applied_at__isnull=False)
        .order_by("region_id", "-applied_at")
        .values_list("region_id", "id")
    ):
        found.setdefault(region_id, import_id)
    return list(found.values())


def _end_departed(latest: CatalogueImport, now: dt.datetime) -> int:
    region, today = latest.region, timezone.localdate(now)
    departed = list(
        CataloguePerson.objects.filter(region=region).exclude(last_import=latest).values_list("staff_id", flat=True)
    )
    ended = 0
    yesterday = today - dt.timedelta(days=1)
    for chunk in _chunks(departed):
        places = Membership.objects.filter(in_force(today), staff_id__in=chunk, unit__administration__region=region)
        roles = RegionRole.objects.filter(in_force(today), staff_id__in=chunk, region=region)
        places.update(ends_on=yesterday)
        roles.update(ends_on=yesterday)
        for administration in region.administrations.filter(coordinators__in=chunk).distinct():
            administration.coordinators.remove(*chunk)
        elsewhere = set(
            Membership.objects.filter(in_force(today), staff_id__in=chunk).values_list("staff_id", flat=True)
        ) | set(RegionRole.objects.filter(in_force(today), staff_id__in=chunk).values_list("staff_id", flat=True))
        leaving = list(Staff.objects.filter(pk__in=set(chunk) - elsewhere, access_ended_at__isnull=True))
        for staff in leaving:
            audit(actor=SYSTEM, action="catalogue.access_end", obj=staff, detail=staff.hsa_id)
        Staff.objects.filter(pk__in=[s.pk for s in leaving]).update(access_ended_at=now, updated_at=now)
        user_forget(staff.user_id for staff in leaving)  # their open sessions end at the next request
        ended += len(leaving)
    return ended
