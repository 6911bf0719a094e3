from __future__ import annotations

import datetime as dt

from django.utils import timezone

from vardkontakt.booking.models import BookingSettings, ScheduleTemplate
from vardkontakt.booking.schedule import settings_of, slots_generate
from vardkontakt.organisation.models import CareUnit


def roll_schedules(*, today: dt.date | None = None) -> int:
    """On the worker heartbeat: every unit's templates reach its horizon (idempotent, cheap when done)."""
    today = today or timezone.localdate()
    created = 0
    units = CareUnit.objects.filter(pk__in=ScheduleTemplate.objects.values("unit_id"))
    for unit in units:
        if settings_of(unit).rolled_on == today:
            continue
        created += slots_generate(unit, today=today).created
        BookingSettings.objects.filter(unit=unit).update(rolled_on=today)
    return created
