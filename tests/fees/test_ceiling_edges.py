"""The edges of the high-cost protection: the exact remaining fee, the period's last day, leap
days, a child turning 18, fees that do not count, age exemptions and effective dates."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests.fees.helpers import guardian_of, region_with_fees, resident
from vardkontakt.access.audit import SYSTEM
from vardkontakt.access.models import AuditEntry
from vardkontakt.fees import ceiling, services
from vardkontakt.fees.models import Fee, FeeKind, FeeSchedule, Frikort, HighCostPeriod
from vardkontakt.fees.selectors import fee_quote

pytestmark = pytest.mark.django_db
D = Decimal


def visit(patient, unit, day: dt.date, kind: str = FeeKind.DOCTOR) -> Fee:
    return services.fee_charge_for_booking(
        actor=SYSTEM, booking_id=uuid.uuid4(), patient=patient, unit=unit, kind=kind, day=day
    )


# --- the arithmetic ---------------------------------------------------------------------------


def test_period_ends_the_day_before_the_anniversary():
    assert ceiling.period_end(dt.date(2026, 4, 25)) == dt.date(2027, 4, 24)  # Avgiftshandboken's example


def test_a_period_from_a_leap_day_ends_on_28_february():
    assert ceiling.period_end(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)


def test_a_period_over_a_leap_day_ends_on_29_february():
    assert ceiling.period_end(dt.date(2027, 3, 1)) == dt.date(2028, 2, 29)


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        ceiling.money(0.1)  # type: ignore[arg-type]


# --- charging ------------------------------------------------------------------------------------


def test_the_fee_that_reaches_the_ceiling_is_reduced_to_exactly_what_remains():
    unit = region_with_fees(doctor=D("300"))
    adult = resident(dt.date(1980, 5, 5))
    start = dt.date(2026, 4, 25)
    charged = [visit(adult, unit, start + dt.timedelta(days=10 * n)).amount_charged for n in range(6)]
    assert charged == [D("300")] * 4 + [D("200"), D("0")]
    period = HighCostPeriod.objects.get()
    assert (period.start, period.end, period.used) == (start, dt.date(2027, 4, 24), D("1400"))
    card = Frikort.objects.get()
    # Issued at the fee that reached the ceiling (the fifth visit), valid to the day before the anniversary.
    assert (card.valid_from, card.valid_until) == (start + dt.timedelta(days=40), dt.date(2027, 4, 24))


def test_the_period_last_day_still_counts_and_the_next_day_starts_a_new_period():
    unit = region_with_fees(doctor=D("1400"))
    adult = resident(dt.date(1980, 5, 5))
    visit(adult, unit, dt.date(2026, 4, 25))
    assert visit(adult, unit, dt.date(2027, 4, 24)).amount_charged == 0  # frikort's last day
    assert visit(adult, unit, dt.date(2027, 4, 25)).amount_charged == D("1400")  # a new period
    assert list(HighCostPeriod.objects.order_by("start").values_list("start", "end")) == [
        (dt.date(2026, 4, 25), dt.date(2027, 4, 24)),
        (dt.date(2027, 4, 25), dt.date(2028, 4, 24)),
    ]


def test_fees_that_do_not_count_are_charged_in_full_with_a_frikort_and_never_count():
    unit = region_with_fees(doctor=D("1400"))
    adult = resident(dt.date(1980, 5, 5))
    missed_first = visit(adult, unit, dt.date(2026, 1, 10), FeeKind.MISSED_VISIT)
    assert (missed_first.amount_charged, missed_first.period) == (D("400"), None)
    assert not HighCostPeriod.objects.exists()  # a missed visit starts no period
    visit(adult, unit, dt.date(2026, 2, 1))
    certificate = visit(adult, unit, dt.date(2026, 3, 1), FeeKind.CERTIFICATE)
    assert certificate.amount_charged == D("300")
    assert HighCostPeriod.objects.get().used == D("1400")


def test_the_same_booking_is_charged_once():
    unit = region_with_fees()
    adult = resident(dt.date(1980, 5, 5))
    booking = uuid.uuid4()
    first = services.fee_charge_for_booking(
        actor=SYSTEM, booking_id=booking, patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 5, 1)
    )
    again = services.fee_charge_for_booking(
        actor=SYSTEM, booking_id=booking, patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 5, 1)
    )
    assert first == again
    assert HighCostPeriod.objects.get().used == D("200")
    assert AuditEntry.objects.filter(action=services.FEE_CHARGE, patient_id=str(adult.pk)).count() == 1


def test_age_exemptions_are_free_and_start_no_period():
    unit = region_with_fees(free_under=20, free_from=85)
    young = resident(dt.date(2007, 6, 1))
    old = resident(dt.date(1941, 6, 1))
    assert visit(young, unit, dt.date(2027, 5, 31)).amount_charged == 0  # the day before turning 20
    assert visit(young, unit, dt.date(2027, 6, 1)).amount_charged == D("200")  # 20 today
    assert visit(old, unit, dt.date(2026, 5, 31)).amount_charged == D("200")  # 84
    assert visit(old, unit, dt.date(2026, 6, 1)).amount_charged == 0  # 85 today
    assert HighCostPeriod.objects.count() == 2


# --- families ------------------------------------------------------------------------------------


def test_children_of_the_same_guardians_share_one_ceiling_and_the_guardian_has_their_own():
    unit = region_with_fees(doctor=D("500"))
    mother, father = resident(dt.date(1985, 1, 1)), resident(dt.date(1984, 1, 1))
    first, second = resident(dt.date(2015, 3, 3)), resident(dt.date(2018, 8, 8))
    half_sibling = resident(dt.date(2016, 1, 1))
    guardian_of(first, mother, father)
    guardian_of(second, mother, father)
    guardian_of(half_sibling, mother)
    day = dt.date(2026, 9, 1)
    assert [visit(child, unit, day).amount_charged for child in (first, second, first)] == [D(500), D(500), D(400)]
    assert visit(second, unit, day).amount_charged == 0  # the family's frikort
    assert visit(half_sibling, unit, day).amount_charged == D(500)  # other guardians: another ceiling
    assert visit(mother, unit, day).amount_charged == D(500)  # adults have their own


def test_a_child_who_turns_18_in_the_period_keeps_the_family_frikort_to_its_end():
    unit = region_with_fees(doctor=D("700"))
    parent = resident(dt.date(1980, 1, 1))
    teenager = resident(dt.date(2009, 6, 15))
    guardian_of(teenager, parent)
    visit(teenager, unit, dt.date(2027, 1, 10))
    visit(teenager, unit, dt.date(2027, 2, 10))  # frikort, 17 years old
    assert visit(teenager, unit, dt.date(2027, 6, 15)).amount_charged == 0  # 18 today: kept
    assert visit(teenager, unit, dt.date(2028, 1, 9)).amount_charged == 0  # the period's last day
    after = visit(teenager, unit, dt.date(2028, 1, 10))  # own period now, as an adult
    assert after.amount_charged == D("700")
    assert after.period is not None and after.period.holder.key == f"person:{teenager.pk}"


def test_an_adult_child_does_not_join_a_family_period_that_began_after_their_18th_birthday():
    unit = region_with_fees(doctor=D("700"))
    parent = resident(dt.date(1980, 1, 1))
    adult_child, young = resident(dt.date(2008, 1, 1)), resident(dt.date(2015, 1, 1))
    guardian_of(adult_child, parent)
    guardian_of(young, parent)
    visit(young, unit, dt.date(2026, 3, 1))
    visit(young, unit, dt.date(2026, 3, 2))  # the family's frikort
    assert visit(adult_child, unit, dt.date(2026, 3, 3)).amount_charged == D("700")


# --- registered fees, the schedule's dates, the quote ---------------------------------------------


def test_a_fee_paid_elsewhere_counts_and_is_registered_once(personas):
    unit = region_with_fees(doctor=D("200"))
    adult = resident(dt.date(1980, 5, 5))
    visit(adult, unit, dt.date(2026, 1, 5))
    args = {
        "staff": personas.staff_x,
        "unit": unit,
        "patient": adult,
        "day": dt.date(2026, 2, 5),
        "amount": D("1300"),
        "provider": "Region Uppland, Akademiska",
        "reason": "Kvitto visat i receptionen",
        "form_key": "k1",
    }
    fee = services.fee_register_external(**args)
    assert services.fee_register_external(**args) == fee
    assert (fee.amount_before, fee.amount_charged, fee.source) == (D("1300"), D("1200"), "registered")
    assert Frikort.objects.get().valid_from == dt.date(2026, 2, 5)
    entry = AuditEntry.objects.get(action=services.FEE_REGISTER)
    assert (entry.patient_id, entry.unit_id, entry.actor_id) == (str(adult.pk), str(unit.pk), str(personas.staff_x.pk))
    assert "Kvitto visat" in entry.detail


def test_a_registration_without_a_reason_changes_nothing(personas):
    unit = region_with_fees()
    adult = resident(dt.date(1980, 5, 5))
    with pytest.raises(ValidationError):
        services.fee_register_external(
            staff=personas.staff_x,
            unit=unit,
            patient=adult,
            day=dt.date(2026, 2, 5),
            amount=D(100),
            provider="Annan region",
            reason="  ",
        )
    assert not Fee.objects.exists() and not HighCostPeriod.objects.exists()


def test_a_fee_change_applies_from_its_date_and_never_before():
    unit = region_with_fees(doctor=D("200"))
    region = unit.administration.region
    adult = resident(dt.date(1980, 5, 5))
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC), tick=False):
        with pytest.raises(ValidationError):
            services.fee_schedule_set(
                actor=SYSTEM, region=region, kind=FeeKind.DOCTOR, amount=D(250), effective_from=dt.date(2026, 6, 1)
            )
        services.fee_schedule_set(
            actor=SYSTEM, region=region, kind=FeeKind.DOCTOR, amount=D(250), effective_from=dt.date(2026, 7, 1)
        )
    assert fee_quote(patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 6, 30)).amount == D(200)
    assert fee_quote(patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 7, 1)).amount == D(250)
    assert FeeSchedule.objects.filter(region=region, kind=FeeKind.DOCTOR).count() == 2


def test_the_quote_says_frikort_and_what_remains():
    unit = region_with_fees(doctor=D("1300"))
    adult = resident(dt.date(1980, 5, 5))
    assert fee_quote(patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 1, 2)).amount == D(1300)
    visit(adult, unit, dt.date(2026, 1, 2))
    assert fee_quote(patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 1, 3)).amount == D(100)
    visit(adult, unit, dt.date(2026, 1, 3))
    quote = fee_quote(patient=adult, unit=unit, kind=FeeKind.DOCTOR, day=dt.date(2026, 1, 4))
    assert (quote.amount, quote.frikort) == (0, True)
    assert fee_quote(patient=adult, unit=unit, kind=FeeKind.MISSED_VISIT, day=dt.date(2026, 1, 4)).amount == D(400)
