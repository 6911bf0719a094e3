"""Who may verify a frikort and register a fee paid elsewhere: staff of any care unit (a frikort
is valid in the whole country, so any unit's reception checks it)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import CareUnit, Membership, in_force


def units_of(staff: Staff, *, now: dt.datetime | None = None) -> list[CareUnit]:
    today = timezone.localdate(now or timezone.now())
    return [
        m.unit
        for m in Membership.objects.filter(in_force(today), staff=staff).select_related("unit").order_by("unit__name")
    ]


def may_handle_fees(staff: Staff, *, now: dt.datetime | None = None) -> bool:
    return bool(units_of(staff, now=now))
