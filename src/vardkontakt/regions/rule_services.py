"""The region's rules (issue 15 §2): one transaction, audited with the names of what changed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from vardkontakt.access.audit import Actor, audit
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Region
from vardkontakt.records.models import RecordRules
from vardkontakt.records.publishing import rules_of
from vardkontakt.regions.rule_forms import RECORD_FIELDS, REGION_FIELDS


def rules_initial(region: Region) -> dict[str, Any]:
    record_rules = rules_of(region)
    return {
        **{name: getattr(region, name) for name in REGION_FIELDS},
        **{name: getattr(record_rules, name) for name in RECORD_FIELDS},
    }


@transaction.atomic
def region_rules_update(*, region: Region, by: Staff, values: dict[str, Any]) -> list[str]:
    """Stores the rules that differ from what is stored; returns their names (none: nothing written)."""
    region = Region.objects.select_for_update().get(pk=region.pk)
    record_rules, _created = RecordRules.objects.select_for_update().get_or_create(region=region)
    values = {**values, "extra_withheld_kinds": sorted(values.get("extra_withheld_kinds", []))}
    changed_region = [name for name in REGION_FIELDS if getattr(region, name) != values[name]]
    changed_record = [name for name in RECORD_FIELDS if getattr(record_rules, name) != values[name]]
    for name in changed_region:
        setattr(region, name, values[name])
    for name in changed_record:
        setattr(record_rules, name, values[name])
    if changed_region:
        region.save(update_fields=changed_region)
    if changed_record:
        record_rules.save(update_fields=changed_record)
    changed = sorted(changed_region + changed_record)
    if changed:
        audit(actor=Actor.of_staff(by), action="region.rules_update", obj=region, detail=", ".join(changed))
    return changed
