"""Slots from the weekly templates and the exceptions, rolled forward to the unit's horizon.

Each template block is cut into visits of its visit type's length, stepping in real time from
the block's start to its end in Europe/Stockholm. So on the spring night (02:00→03:00) a
01:00–04:00 block gives 01:00, 01:30, 03:00, 03:30 — there is no 02:30 — and on the autumn night
it gives eight slots, 02:00 and 02:30 twice, each a different instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from vardkontakt.booking.models import BookingSettings, HolidayOpening, ScheduleException, ScheduleTemplate, Slot
from vardkontakt.core.calendar import STOCKHOLM, is_day_off
from vardkontakt.organisation.models import CareUnit

UTC = dt.UTC


def local_instant(day: dt.date, time: dt.time) -> dt.datetime:
    """The instant a wall-clock time names on a day, as UTC.

    With fold=0 a time in the spring gap (02:00-03:00 on the last Sunday of March) is read with
    the winter offset, which lands after the gap (02:30 → 03:30), and a time in the autumn's
    repeated hour means its first occurrence.
    """
    return dt.datetime.combine(day, time, tzinfo=STOCKHOLM).astimezone(UTC)


# Marks a unit whose booking rules its own query joined (settings_read_with): only such a unit's
# cached rules are used, never rules some other code left on a unit object kept for longer.
_JOINED = "_vk_booking_settings_joined"


def settings_read_with(unit: CareUnit) -> CareUnit:
    """Say that ``unit`` was just read with ``select_related("booking_settings")``."""
    setattr(unit, _JOINED, True)
    return unit


def settings_of(unit: CareUnit) -> BookingSettings:
    """The unit's booking rules. Read with the unit where its query joined them (the booking pages'
    unit and the booking's locked slot: a statement fewer per read on every booking request);
    otherwise looked up."""
    if getattr(unit, _JOINED, False) and CareUnit.booking_settings.is_cached(unit):
        try:
            return unit.booking_settings
        except BookingSettings.DoesNotExist:
            pass  # the join found none: the defaults are made below
    found, _ = BookingSettings.objects.get_or_create(unit=unit)
    return found


@dataclass(frozen=True)
class Generated:
    created: int
    skipped_for_exceptions: int
    skipped_days_off: int = 0  # public holidays and de facto days off the unit has not opened


def slots_generate(unit: CareUnit, *, today: dt.date | None = None) -> Generated:
    """Make every slot the templates give from today to the horizon; existing ones stay as they are.

    No slots on a Swedish public holiday or de facto day off (core/calendar.py: juldagen, julafton,
    trettondedag jul, midsommarafton...) unless the unit has opened that day (HolidayOpening): a
    weekly block is the ordinary week, and a unit that works on a red day says so for that day.

    Idempotent (a unique constraint on practitioner and start), so the weekly roll and a manual
    run can overlap safely.
    """
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(weeks=settings_of(unit).horizon_weeks)
    templates = [
        template
        for template in ScheduleTemplate.objects.filter(unit=unit, visit_type__active=True).select_related(
            "visit_type", "practitioner"
        )
        # A block whose practitioner may no longer hold its visit type (a changed profession) makes no
        # times; the set-up page marks it.
        if template.fits
    ]
    exceptions = list(
        ScheduleException.objects.filter(
            unit=unit,
            ends_at__gt=local_instant(today, dt.time()),
            starts_at__lt=local_instant(horizon, dt.time()),
        )
    )
    opened = set(
        HolidayOpening.objects.filter(unit=unit, day__gte=today, day__lt=horizon).values_list("day", flat=True)
    )
    wanted: list[Slot] = []
    skipped = 0
    days_off = 0
    day = today
    while day < horizon:
        if is_day_off(day) and day not in opened:
            days_off += 1
            day += dt.timedelta(days=1)
            continue
        for template in templates:
            if template.weekday != day.weekday():
                continue
            start = local_instant(day, template.start_time)
            block_end = local_instant(day, template.end_time)
            length = template.visit_type.duration
            while start + length <= block_end:
                end = start + length
                if any(
                    e.practitioner_id == template.practitioner_id and e.starts_at < end and e.ends_at > start
                    for e in exceptions
                ):
                    skipped += 1
                else:
                    wanted.append(
                        Slot(
                            unit=unit,
                            practitioner_id=template.practitioner_id,
                            visit_type=template.visit_type,
                            template=template,
                            place=template.place,
                            starts_at=start,
                            ends_at=end,
                            channel=template.channel,
                            held_back=template.held_back,
                        )
                    )
                start = end
        day += dt.timedelta(days=1)
    with transaction.atomic():
        before = Slot.objects.filter(unit=unit).count()
        Slot.objects.bulk_create(wanted, ignore_conflicts=True, batch_size=500)
        created = Slot.objects.filter(unit=unit).count() - before
    return Generated(created=created, skipped_for_exceptions=skipped, skipped_days_off=days_off)
