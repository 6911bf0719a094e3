"""Writes of the unit's side of the appointment book: its set-up. (Staff booking and cancelling are
``services.booking_create_by_staff`` and ``services.booking_cancel``, beside the resident's.)

Set-up rules the database cannot hold alone are checked here, inside the transaction, with the
practitioner's row locked so two administrators cannot save overlapping blocks at once. Errors
are ``ValidationError``s keyed by form field, so the page shows them where they belong.

Taking time out of a schedule (an absence, a deleted block) also takes its free times out of the
book; times that have or had a booking stay (a booking's history is kept) and are counted, so the
unit knows whom to call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.policy import is_member
from vardkontakt.booking import policy, waiting_list
from vardkontakt.booking.models import (
    Booking,
    BookingSettings,
    BookingStatus,
    Channel,
    HolidayOpening,
    ScheduleException,
    ScheduleTemplate,
    Slot,
    VisitType,
)
from vardkontakt.booking.schedule import Generated, local_instant, settings_of, slots_generate
from vardkontakt.core.calendar import is_day_off
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.organisation.models import CareUnit


def _log(by: Staff, unit: CareUnit, what: str, obj: object = None) -> None:
    audit(actor=Actor.of_staff(by), action="booking_setup.change", unit=unit, obj=obj, detail=what)


# --- rules and visit types ----------------------------------------------------------------------


@transaction.atomic
def booking_settings_update(
    *,
    unit: CareUnit,
    by: Staff,
    horizon_weeks: int,
    release_hours: int,
    reminder_hours: int,
    terms_text: str,
    self_assessment_url: str,
    online_bookings_per_visit_type: int = 1,
    offer_claim_hours: int = 2,
    checkin_opens_minutes: int = 30,
    checkin_closes_minutes: int = 15,
    missed_after_minutes: int = 15,
    video_join_minutes: int = 15,
) -> BookingSettings:
    rules = settings_of(unit)
    rules.checkin_opens_minutes = checkin_opens_minutes
    rules.checkin_closes_minutes = checkin_closes_minutes
    rules.missed_after_minutes = missed_after_minutes
    rules.horizon_weeks = horizon_weeks
    rules.release_hours = release_hours
    rules.reminder_hours = reminder_hours
    rules.online_bookings_per_visit_type = online_bookings_per_visit_type
    rules.offer_claim_hours = offer_claim_hours
    rules.video_join_minutes = video_join_minutes
    rules.terms_text = terms_text.strip()
    rules.self_assessment_url = self_assessment_url
    rules.full_clean(exclude=["unit"])
    rules.save(
        update_fields=[
            "horizon_weeks",
            "release_hours",
            "reminder_hours",
            "terms_text",
            "self_assessment_url",
            "online_bookings_per_visit_type",
            "offer_claim_hours",
            "checkin_opens_minutes",
            "checkin_closes_minutes",
            "missed_after_minutes",
            "video_join_minutes",
        ]
    )
    _log(by, unit, "rules")
    return rules


def _check_visit_type(visit_type: VisitType) -> None:
    same = VisitType.objects.filter(unit=visit_type.unit, name__iexact=visit_type.name).exclude(pk=visit_type.pk)
    if same.exists():
        raise ValidationError({"name": _("The unit already has a visit type with this name.")})
    if visit_type.duration_minutes < 5:
        raise ValidationError({"duration_minutes": _("A visit is at least 5 minutes long.")})
    if not visit_type.professions or not set(visit_type.professions) <= set(Profession.values):
        raise ValidationError({"professions": _("Choose at least one profession that may hold the visit.")})
    if visit_type.pk is None:
        return
    # A block already in the weekly schedule keeps its practitioner: a change that would leave them
    # holding a visit their profession may not hold is refused, naming the block to move first.
    for block in ScheduleTemplate.objects.filter(visit_type=visit_type).select_related("practitioner"):
        if not visit_type.may_be_held_by(block.practitioner):
            raise ValidationError(
                {
                    "professions": _(
                        "%(name)s (%(profession)s) has a block of this visit type on %(weekday)s "
                        "%(start)s–%(end)s. Remove that block first, or keep their profession."
                    )
                    % {
                        "name": block.practitioner.full_name,
                        "profession": block.practitioner.get_profession_display(),
                        "weekday": WEEKDAYS[block.weekday],
                        "start": f"{block.start_time:%H:%M}",
                        "end": f"{block.end_time:%H:%M}",
                    }
                }
            )


@transaction.atomic
def visit_type_create(
    *,
    unit: CareUnit,
    by: Staff,
    name: str,
    duration_minutes: int,
    professions: list[str],
    bookable_online: bool,
    rebookable_online: bool,
    cancellation_deadline_hours: int,
    active: bool = True,
    fee_kronor: int = 0,
    fee_kind: str = "",
    name_en: str = "",
    video: bool = False,
) -> VisitType:
    CareUnit.objects.select_for_update().filter(pk=unit.pk).first()  # one name check at a time per unit
    visit_type = VisitType(
        unit=unit,
        name=name,
        duration_minutes=duration_minutes,
        professions=list(professions),
        bookable_online=bookable_online,
        rebookable_online=rebookable_online,
        cancellation_deadline_hours=cancellation_deadline_hours,
        active=active,
        fee_kronor=fee_kronor,
        fee_kind=fee_kind,
        name_en=name_en,
        video=video,
    )
    _check_visit_type(visit_type)
    visit_type.save(force_insert=True)
    _log(by, unit, f"visit type {name}", visit_type)
    return visit_type


@transaction.atomic
def visit_type_update(
    *,
    visit_type: VisitType,
    by: Staff,
    name: str,
    duration_minutes: int,
    professions: list[str],
    bookable_online: bool,
    rebookable_online: bool,
    cancellation_deadline_hours: int,
    active: bool,
    fee_kronor: int = 0,
    fee_kind: str = "",
    name_en: str = "",
    video: bool = False,
) -> VisitType:
    """Change a visit type. Times already in the book keep their length; new ones get the new one."""
    CareUnit.objects.select_for_update().filter(pk=visit_type.unit_id).first()
    visit_type.name = name
    visit_type.duration_minutes = duration_minutes
    visit_type.professions = list(professions)
    visit_type.bookable_online = bookable_online
    visit_type.rebookable_online = rebookable_online
    visit_type.cancellation_deadline_hours = cancellation_deadline_hours
    visit_type.active = active
    visit_type.fee_kronor = fee_kronor
    visit_type.fee_kind = fee_kind
    visit_type.name_en = name_en
    visit_type.video = video
    _check_visit_type(visit_type)
    fields = [
        "name",
        "duration_minutes",
        "professions",
        "bookable_online",
        "rebookable_online",
        "cancellation_deadline_hours",
        "active",
        "fee_kronor",
        "fee_kind",
        "name_en",
        "video",
    ]
    visit_type.save(update_fields=fields)
    _log(by, visit_type.unit, f"visit type {name}", visit_type)
    return visit_type


# --- schedules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cleared:
    """What taking time out of the schedule did to the book."""

    removed: int  # free times taken out
    kept_booked: int  # times with an active booking: the unit contacts these patients


def _clear_free_slots(slots: QuerySet[Slot]) -> Cleared:
    """Delete the future times in ``slots`` that never had a booking; count the ones booked now."""
    future = slots.filter(starts_at__gt=timezone.now())
    _total, by_model = future.filter(bookings__isnull=True).delete()
    removed = by_model.get(Slot._meta.label, 0)
    kept_booked = future.filter(bookings__status=BookingStatus.ACTIVE).distinct().count()
    return Cleared(removed=removed, kept_booked=kept_booked)


def _lock_practitioner(unit: CareUnit, practitioner: Staff) -> None:
    Staff.objects.select_for_update().filter(pk=practitioner.pk).first()
    if not is_member(practitioner, unit):
        raise ValidationError({"practitioner": _("Choose a member of the unit's staff.")})


@transaction.atomic
def schedule_template_create(
    *,
    unit: CareUnit,
    by: Staff,
    practitioner: Staff,
    visit_type: VisitType,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    place: str,
    channel: str,
    held_back: str,
) -> ScheduleTemplate:
    """A weekly block. The practitioner's blocks never overlap, in this unit or another one."""
    _lock_practitioner(unit, practitioner)
    if visit_type.unit_id != unit.pk or not visit_type.active:
        raise ValidationError({"visit_type": _("Choose one of the unit's visit types in use.")})
    if not visit_type.may_be_held_by(practitioner):
        raise ValidationError({"practitioner": policy.profession_refusal(practitioner, visit_type)})
    if not 0 <= weekday <= 6:
        raise ValidationError({"weekday": _("Choose a weekday.")})
    if end_time <= start_time:
        raise ValidationError({"end_time": _("The block must end after it starts.")})
    overlapping = ScheduleTemplate.objects.filter(
        practitioner=practitioner, weekday=weekday, start_time__lt=end_time, end_time__gt=start_time
    ).first()
    if overlapping is not None:
        raise ValidationError(
            {
                "start_time": _("This overlaps the practitioner's block %(start)s–%(end)s the same weekday.")
                % {"start": f"{overlapping.start_time:%H:%M}", "end": f"{overlapping.end_time:%H:%M}"}
            }
        )
    template = ScheduleTemplate.objects.create(
        unit=unit,
        practitioner=practitioner,
        visit_type=visit_type,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        place=place.strip(),
        channel=channel,
        held_back=held_back,
    )
    _log(by, unit, f"block {practitioner.hsa_id} {weekday} {start_time:%H:%M}-{end_time:%H:%M}", template)
    return template


@transaction.atomic
def schedule_template_delete(*, template: ScheduleTemplate, by: Staff) -> Cleared:
    """The block rolls no more; its free future times leave the book, booked ones stay."""
    cleared = _clear_free_slots(Slot.objects.filter(template=template))
    _log(by, template.unit, f"block removed {template.practitioner.hsa_id} {template.weekday}", template)
    template.delete()
    return cleared


@transaction.atomic
def schedule_exception_create(
    *, unit: CareUnit, by: Staff, practitioner: Staff, starts_at: dt.datetime, ends_at: dt.datetime, reason: str
) -> tuple[ScheduleException, Cleared]:
    """An absence: no times are made in it, and the free ones already made leave the book."""
    _lock_practitioner(unit, practitioner)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The absence must end after it starts.")})
    exception = ScheduleException.objects.create(
        unit=unit, practitioner=practitioner, starts_at=starts_at, ends_at=ends_at, reason=reason
    )
    cleared = _clear_free_slots(
        Slot.objects.filter(practitioner=practitioner, unit=unit, starts_at__lt=ends_at, ends_at__gt=starts_at)
    )
    _log(by, unit, f"absence {practitioner.hsa_id} {starts_at.isoformat()}-{ends_at.isoformat()}", exception)
    return exception, cleared


@transaction.atomic
def schedule_exception_delete(*, exception: ScheduleException, by: Staff) -> None:
    """The absence is lifted; the next roll (or 'roll now') fills its time again."""
    _log(by, exception.unit, f"absence removed {exception.practitioner.hsa_id}", exception)
    exception.delete()


# --- public holidays and days off ----------------------------------------------------------------


def _check_day_off(day: dt.date) -> None:
    if day < timezone.localdate():
        raise ValidationError({"day": _("Choose today or a later day.")})
    if not is_day_off(day):
        raise ValidationError(
            {
                "day": _("%(day)s is not a public holiday or a day off: the schedule makes its times as usual.")
                % {"day": date_format(day, "l j F Y")}
            }
        )


@transaction.atomic
def day_off_open(*, unit: CareUnit, by: Staff, day: dt.date) -> Generated:
    """The unit works this public holiday or day off: its weekly blocks make times that day (made
    at once, for a day within the horizon)."""
    _check_day_off(day)
    HolidayOpening.objects.get_or_create(unit=unit, day=day, defaults={"opened_by": by, "opened_at": timezone.now()})
    _log(by, unit, f"day off {day.isoformat()} opened")
    generated = slots_generate(unit)
    waiting_list.offers_make_soon_for_unit(unit)
    return generated


@transaction.atomic
def day_off_close(*, unit: CareUnit, by: Staff, day: dt.date) -> Cleared:
    """The unit is closed this public holiday or day off (the default): an opening is withdrawn and
    the day's free times leave the book; booked ones stay, counted, so the unit calls the patients."""
    _check_day_off(day)
    HolidayOpening.objects.filter(unit=unit, day=day).delete()
    start, end = local_instant(day, dt.time()), local_instant(day + dt.timedelta(days=1), dt.time())
    cleared = _clear_free_slots(Slot.objects.filter(unit=unit, starts_at__gte=start, starts_at__lt=end))
    _log(by, unit, f"day off {day.isoformat()} closed, {cleared.removed} free times removed")
    return cleared


def schedule_roll(*, unit: CareUnit, by: Staff) -> Generated:
    """Roll now, without waiting for the nightly worker (idempotent: existing times stay)."""
    generated = slots_generate(unit)
    if generated.created:
        waiting_list.offers_make_soon_for_unit(unit)
    _log(by, unit, f"rolled, {generated.created} new")
    return generated


# --- opening phone-only times to the web ----------------------------------------------------------


def _times_of(unit: CareUnit, slot: Slot | None, day: dt.date | None) -> tuple[QuerySet[Slot], str]:
    if slot is not None:
        return Slot.objects.filter(pk=slot.pk, unit=unit), f"time {slot.pk}"
    if day is None:
        raise ValueError("a time or a day")
    start, end = local_instant(day, dt.time()), local_instant(day + dt.timedelta(days=1), dt.time())
    return Slot.objects.filter(unit=unit, starts_at__gte=start, starts_at__lt=end), f"day {day.isoformat()}"


def _release(
    unit: CareUnit,
    by: Staff,
    slot: Slot | None,
    day: dt.date | None,
    *,
    which: dict[str, object],
    change: dict[str, object],
    said: str,
) -> int:
    """The free, future times of one slot or one day (Stockholm) that are ``which``, not held back,
    of a visit type booked online and not booked meanwhile, changed by ``change`` under their
    locks; logged as a change of the unit's book when any was."""
    if slot is None and day is None:
        return 0
    times, what = _times_of(unit, slot, day)
    active = Booking.objects.filter(slot=OuterRef("pk"), status=BookingStatus.ACTIVE)
    free = (
        times.select_for_update(of=("self",))
        .filter(starts_at__gt=timezone.now(), held_back="", visit_type__bookable_online=True, **which)
        .filter(~Exists(active))
    )
    ids = list(free.values_list("pk", flat=True))
    released = Slot.objects.filter(pk__in=ids).update(**change)
    if released:
        _log(by, unit, f"{said.format(count=released)}: {what}")
    return released


@transaction.atomic
def slots_release_online(*, unit: CareUnit, by: Staff, slot: Slot | None = None, day: dt.date | None = None) -> int:
    """Open free, future, phone-only times to web booking: one time, or every one of a day. Their
    weekly block stays phone-only, so later weeks are not changed; a time held back for a reason,
    of a visit type not booked online, or booked meanwhile is left as it is. Counts the times opened."""
    opened = _release(
        unit,
        by,
        slot,
        day,
        which={"channel": Channel.PHONE_ONLY, "visit_type__active": True},
        change={"channel": Channel.ONLINE_AND_PHONE},
        said="opened {count} phone-only times to web booking",
    )
    if opened:
        # Times newly bookable online go first to those waiting for an earlier time.
        waiting_list.offers_make_soon_for_unit(unit)
    return opened


@transaction.atomic
def slots_release_to_staff(*, unit: CareUnit, by: Staff, slot: Slot | None = None, day: dt.date | None = None) -> int:
    """Release free, future times kept for patients online to phone booking now, before the unit's
    rule (48 hours by default) would: one time, or every one of a day. They stay open online too.
    Counts the times released."""
    return _release(
        unit,
        by,
        slot,
        day,
        which={"channel": Channel.ONLINE_AND_PHONE, "released_to_staff": False},
        change={"released_to_staff": True},
        said="released {count} online times to phone booking early",
    )
