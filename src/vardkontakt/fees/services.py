"""Every write of fees: charging a visit's fee, registering one paid elsewhere, setting the schedule.

One door for a fee that may count: ``_fee_record`` locks the ceiling holder's row, looks at the
period, decides the charge and writes, in that order, so two fees at once for the same ceiling
are decided one after the other and never together pass it (tests/fees/test_race.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vardkontakt.access.audit import Actor, audit
from vardkontakt.fees import ceiling, rules
from vardkontakt.fees.models import (
    CeilingHolder,
    Fee,
    FeeKind,
    FeeRules,
    FeeSchedule,
    FeeSource,
    Frikort,
    HighCostPeriod,
)
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit, Region

FEE_CHARGE = "fees.fee.charge"
FEE_REGISTER = "fees.fee.register"
FEE_WITHDRAW = "fees.fee.withdraw"
SCHEDULE_SET = "fees.schedule.set"
RULES_UPDATE = "fees.rules.update"
RULE_FIELDS = ("ceiling", "free_under_age", "free_from_age", "missed_visit_hours", "missed_visit_fee_age_exempt_under")


def _holder_locked(key: str) -> CeilingHolder:
    # Insert-if-missing never fails on a race (ON CONFLICT DO NOTHING), then the row is locked.
    CeilingHolder.objects.bulk_create([CeilingHolder(key=key)], ignore_conflicts=True)
    return CeilingHolder.objects.select_for_update().get(key=key)


def _period_for(holder: CeilingHolder, day: dt.date, patient: Patient) -> HighCostPeriod:
    """The period covering ``day``, or a new one starting on it (the first counted visit).

    A fee registered late, dated before a period that already exists, starts its own period that
    ends the day before the later one begins: periods never overlap, so no day has two ceilings.
    """
    found = HighCostPeriod.objects.filter(holder=holder, start__lte=day, end__gte=day).first()
    if found is not None:
        return found
    end = ceiling.period_end(day)
    later = HighCostPeriod.objects.filter(holder=holder, start__gt=day).order_by("start").first()
    if later is not None and later.start <= end:
        end = later.start - dt.timedelta(days=1)
    return HighCostPeriod.objects.create(holder=holder, start=day, end=end, ceiling=rules.ceiling_of(patient))


def _fee_record(
    *,
    patient: Patient,
    unit: CareUnit | None,
    kind: str,
    day: dt.date,
    before: Decimal,
    counts: bool,
    **extra: object,
) -> Fee:
    """Decide and write one fee. Must run inside a transaction (the holder's lock lasts to its end)."""
    before = ceiling.money(before)
    period = None
    charged = before
    if counts and before > 0:
        holder = _holder_locked(rules.holder_key(patient, day))
        period = _period_for(holder, day, patient)
        charged = ceiling.charge(before=before, counts=True, used=period.used, ceiling=period.ceiling)
        if charged > 0:
            period.used += charged
            period.save(update_fields=["used"])
            if period.used == period.ceiling:
                # Issued at the very fee that reaches the ceiling, valid to the period's last day.
                Frikort.objects.create(period=period, valid_from=day, valid_until=period.end, issued_at=timezone.now())
    return Fee.objects.create(
        patient=patient,
        unit=unit,
        kind=kind,
        date_of_care=day,
        amount_before=before,
        amount_charged=charged,
        counts=counts,
        period=period,
        **extra,
    )


@transaction.atomic
def fee_charge_for_booking(
    *, actor: Actor, booking_id: uuid.UUID, patient: Patient, unit: CareUnit, kind: str, day: dt.date
) -> Fee:
    """The fee of a booked visit (or of its missed visit), from the unit's region's schedule on the
    day of care. The entry point for check-in and payment: called twice for the same booking and
    kind it gives the fee it made the first time, and charges once."""
    existing = Fee.objects.filter(booking_id=booking_id, kind=kind).first()
    if existing is not None:
        return existing
    price = rules.price_of(patient=patient, unit=unit, kind=kind, day=day)
    try:
        with transaction.atomic():
            fee = _fee_record(
                patient=patient,
                unit=unit,
                kind=kind,
                day=day,
                before=price.amount,
                counts=price.counts,
                booking_id=booking_id,
            )
    except IntegrityError:  # the same booking charged at the same moment elsewhere: that one stands
        return Fee.objects.get(booking_id=booking_id, kind=kind)
    audit(actor=actor, action=FEE_CHARGE, patient=patient, obj=fee, unit=unit, detail=f"{kind} {fee.amount_charged}")
    return fee


@transaction.atomic
def fee_withdraw(*, actor: Actor, fee_id: uuid.UUID, reason: str) -> bool:
    """Take back a fee charged in error (a missed visit undone the same day): the fee is deleted and,
    if it counted, its amount leaves the period (a frikort it reached goes with it). A fee something
    else holds (a payment, an invoice) is protected by the database and stays: ``ProtectedError``.
    Returns False when the fee is already gone."""
    fee = Fee.objects.select_related("patient", "unit").filter(pk=fee_id).first()
    if fee is None:
        return False
    if fee.period_id is not None and fee.amount_charged > 0:
        _holder_locked(fee.period.holder.key)  # type: ignore[union-attr]
        period = HighCostPeriod.objects.select_for_update().get(pk=fee.period_id)
        period.used -= fee.amount_charged
        period.save(update_fields=["used"])
        Frikort.objects.filter(period=period).delete()
    patient, unit = fee.patient, fee.unit
    detail = f"{fee.kind} {fee.amount_charged}: {reason}"[:500]
    fee.delete()
    audit(actor=actor, action=FEE_WITHDRAW, patient=patient, object_type="Fee", unit=unit, detail=detail)
    return True


@transaction.atomic
def fee_register_external(
    *,
    staff: Staff,
    unit: CareUnit,
    patient: Patient,
    day: dt.date,
    amount: Decimal,
    provider: str,
    reason: str,
    counts: bool = True,
    form_key: str = "",
) -> Fee:
    """A fee paid in another region or to a private unit under agreement, entered from the receipt.

    It counts toward the ceiling as if charged here (reduced to what remains, reaching it issues
    the frikort). Sending the same form twice registers once. The registering unit and the reason
    are kept on the fee and in the log."""
    if form_key:
        existing = Fee.objects.filter(form_key=form_key).first()
        if existing is not None:
            return existing
    if amount <= 0:
        raise ValidationError(_("Enter an amount above 0 kronor."))
    if not reason.strip() or not provider.strip():
        raise ValidationError(_("Say where the fee was paid and why it is registered."))
    fee = _fee_record(
        patient=patient,
        unit=None,
        kind=FeeKind.DOCTOR if counts else FeeKind.CERTIFICATE,
        day=day,
        before=amount,
        counts=counts,
        source=FeeSource.REGISTERED,
        provider=provider.strip(),
        reason=reason.strip(),
        registered_by=staff,
        form_key=form_key,
    )
    audit(
        actor=Actor.of_staff(staff),
        action=FEE_REGISTER,
        patient=patient,
        obj=fee,
        unit=unit,
        detail=f"{fee.amount_before} paid to {fee.provider}; charged {fee.amount_charged}: {fee.reason}"[:500],
    )
    return fee


@transaction.atomic
def fee_schedule_set(
    *,
    actor: Actor,
    region: Region,
    kind: str,
    amount: Decimal,
    effective_from: dt.date,
    counts: bool = True,
    unit_kind: str = "",
    today: dt.date | None = None,
) -> FeeSchedule:
    """A new fee from a date. Never retroactive: only a later day than today is taken, so every visit
    already made (today's too) keeps the fee that was in force on its day."""
    today = today or timezone.localdate()
    if effective_from <= today:
        raise ValidationError(_("A fee can change from tomorrow or a later day, never before."))
    amount = ceiling.money(amount)
    if amount < 0:
        raise ValidationError(_("Enter an amount of 0 kronor or more."))
    same = FeeSchedule.objects.filter(
        region=region, kind=kind, unit_kind=unit_kind, effective_from=effective_from, amount=amount
    )
    found = same.filter(counts_toward_ceiling=counts).first()
    if found is not None:  # the same change sent twice: stored and logged once
        return found
    row, _created = FeeSchedule.objects.update_or_create(
        region=region,
        kind=kind,
        unit_kind=unit_kind,
        effective_from=effective_from,
        defaults={"amount": amount, "counts_toward_ceiling": counts},
    )
    audit(
        actor=actor,
        action=SCHEDULE_SET,
        obj=row,
        detail=f"{region.name}: {kind} {unit_kind or 'all units'} {row.amount} from {effective_from.isoformat()}",
    )
    return row


@transaction.atomic
def fee_rules_update(*, actor: Actor, region: Region, values: dict[str, object]) -> list[str]:
    """The region's fee settings (ceiling, age exemptions, missed-visit hours): stores those that
    differ and returns their names (none: nothing written, nothing logged). The bounds are the
    form's; the database refuses a ceiling above the statutory maximum in any case."""
    Region.objects.select_for_update().get(pk=region.pk)  # one change of the region's rules at a time
    current = FeeRules.objects.filter(region=region).first() or FeeRules(region=region)
    # A form without a rule (an older one) leaves that rule as it is.
    changed = [name for name in RULE_FIELDS if name in values and getattr(current, name) != values[name]]
    if not changed:
        return []
    for name in changed:
        setattr(current, name, values[name])
    current.save()
    audit(
        actor=actor,
        action=RULES_UPDATE,
        obj=current,
        detail=f"{region.name}: " + ", ".join(f"{name} {getattr(current, name)}" for name in changed),
    )
    return changed
