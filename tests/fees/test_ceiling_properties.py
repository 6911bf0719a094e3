"""Property tests of the high-cost protection: over any sequence of fees (in any order of their
dates), visits, periods, birthdays and family compositions, nobody pays more than the ceiling in a
period, the frikort is issued at the exact fee that reaches it, fees that do not count never count,
and a fee schedule's change never reaches back before its date."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fees.helpers import guardian_of, region_with_fees, resident
from vardkontakt.access.audit import SYSTEM
from vardkontakt.fees import ceiling, services
from vardkontakt.fees.ceiling import age_on
from vardkontakt.fees.models import Fee, FeeKind, FeeSchedule, Frikort, HighCostPeriod
from vardkontakt.fees.selectors import fee_quote
from vardkontakt.identity.models import Staff

pytestmark = pytest.mark.django_db
BASE = dt.date(2024, 1, 1)  # the window holds 29 February 2024
CENTS = Decimal("0.01")
PROPERTY = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

kronor = st.integers(min_value=0, max_value=150_000).map(lambda ore: (Decimal(ore) * CENTS).quantize(CENTS))
event = st.tuples(
    st.integers(min_value=0, max_value=5),  # who: 0, 1 the guardians; 2.. the children
    st.integers(min_value=0, max_value=1100),  # the day of care, after BASE
    st.sampled_from(["doctor", "doctor", "missed", "certificate", "elsewhere"]),
    kronor,  # the amount of a fee paid elsewhere
)
child = st.tuples(
    st.integers(min_value=0, max_value=19 * 365),  # age in days at BASE: some turn 18 in the window
    st.sampled_from([(0,), (1,), (0, 1)]),  # which of the two guardians
)


class Rollback(Exception):
    pass


@PROPERTY
@given(
    ceiling_ore=st.integers(min_value=10_000, max_value=140_000),
    doctor=kronor,
    free_under=st.sampled_from([0, 0, 18, 20]),
    children=st.lists(child, max_size=4),
    events=st.lists(event, min_size=1, max_size=25),
)
def test_nobody_pays_more_than_the_ceiling_and_the_frikort_comes_at_the_exact_fee(
    personas_free_db, ceiling_ore, doctor, free_under, children, events
):
    limit = (Decimal(ceiling_ore) * CENTS).quantize(CENTS)
    try:
        with transaction.atomic():
            _check_one_history(limit, doctor, free_under, children, events)
            raise Rollback
    except Rollback:
        pass


def _check_one_history(limit, doctor, free_under, children, events):
    unit = region_with_fees(ceiling=limit, doctor=doctor, free_under=free_under)
    guardians = [resident(dt.date(1980, 2, 29)), resident(dt.date(1979, 7, 1))]
    kids = []
    for age_days, which in children:
        kid = resident(BASE - dt.timedelta(days=age_days))
        guardian_of(kid, *(guardians[i] for i in which))
        kids.append((kid, which))
    people = guardians + [kid for kid, _ in kids]
    staff = None
    made: list[Fee] = []
    for who, offset, kind, amount in events:
        person = people[who % len(people)]
        day = BASE + dt.timedelta(days=offset)
        if kind == "elsewhere":
            if amount <= 0:
                continue
            if staff is None:
                staff = Staff.objects.create(hsa_id="SE2321000000-FPROP", given_name="Prop", family_name="Erty")
            made.append(
                services.fee_register_external(
                    staff=staff,
                    unit=unit,
                    patient=person,
                    day=day,
                    amount=amount,
                    provider="Annan region",
                    reason="Kvitto",
                )
            )
        else:
            fee_kind = {"doctor": FeeKind.DOCTOR, "missed": FeeKind.MISSED_VISIT, "certificate": FeeKind.CERTIFICATE}[
                kind
            ]
            made.append(
                services.fee_charge_for_booking(
                    actor=SYSTEM, booking_id=uuid.uuid4(), patient=person, unit=unit, kind=fee_kind, day=day
                )
            )

    running: dict[uuid.UUID, Decimal] = {}
    reached_at: dict[uuid.UUID, dt.date] = {}
    for fee in made:
        fee.refresh_from_db()
        assert Decimal("0") <= fee.amount_charged <= fee.amount_before
        if not fee.counts:
            # Fees that do not count never count: charged in full, in no period, frikort or not.
            assert fee.amount_charged == fee.amount_before
            assert fee.period_id is None
            continue
        if fee.period is None:  # counts but nothing to count: free by age (or a schedule of 0)
            assert fee.amount_charged == 0
            continue
        period = fee.period
        assert period.start <= fee.date_of_care <= period.end
        used = running.get(period.pk, Decimal("0.00"))
        # Exactly what remains, never more: "beloppsgränsen ska tillämpas exakt".
        assert fee.amount_charged == min(fee.amount_before, period.ceiling - used)
        running[period.pk] = used + fee.amount_charged
        if used < period.ceiling and running[period.pk] == period.ceiling:
            reached_at[period.pk] = fee.date_of_care
        # Children under 18 share the ceiling of their guardians' children; adults their own.
        if age_on(fee.patient.birth_date, fee.date_of_care) < 18 and fee.patient in people[2:]:
            assert period.holder.key.startswith("family:")
        if fee.patient in guardians:
            assert period.holder.key == f"person:{fee.patient.pk}"

    for period in HighCostPeriod.objects.all():
        assert period.used == running.get(period.pk, Decimal("0.00")) <= period.ceiling == limit
        assert period.end <= ceiling.period_end(period.start)
        overlapping = HighCostPeriod.objects.filter(
            holder=period.holder, start__lte=period.end, end__gte=period.start
        ).exclude(pk=period.pk)
        assert not overlapping.exists()
        card = Frikort.objects.filter(period=period).first()
        if period.pk in reached_at:
            assert card is not None
            assert (card.valid_from, card.valid_until) == (reached_at[period.pk], period.end)
        else:
            assert card is None

    # Family composition: the children of exactly the same guardians on a day share one period.
    for (kid_a, which_a), (kid_b, which_b) in itertools.pairwise(kids):
        shared = HighCostPeriod.objects.filter(fees__patient=kid_a).filter(fees__patient=kid_b)
        if shared.exists():
            assert which_a == which_b


@pytest.fixture
def personas_free_db(db):
    """The property test builds its own small region for each example (no demo data)."""


schedule_row = st.tuples(st.integers(min_value=0, max_value=800), st.integers(min_value=0, max_value=2000))


@PROPERTY
@given(rows=st.lists(schedule_row, min_size=1, max_size=6, unique_by=lambda r: r[0]), later=schedule_row)
def test_a_fee_change_never_reaches_back(personas_free_db, rows, later):
    try:
        with transaction.atomic():
            unit = region_with_fees(since=BASE + dt.timedelta(days=5000))  # its own rows start far later
            region = unit.administration.region
            patient = resident(dt.date(1970, 1, 1))
            for offset, amount in rows:
                FeeSchedule.objects.create(
                    region=region, kind=FeeKind.PHONE, amount=amount, effective_from=BASE + dt.timedelta(days=offset)
                )
            days = [BASE + dt.timedelta(days=n) for n in range(0, 1000, 37)]
            before = {day: fee_quote(patient=patient, unit=unit, kind=FeeKind.PHONE, day=day).amount for day in days}
            for day in days:
                in_force = [amount for offset, amount in sorted(rows) if BASE + dt.timedelta(days=offset) <= day]
                assert before[day] == (Decimal(in_force[-1]) if in_force else Decimal(0))
            cut = BASE + dt.timedelta(days=max(offset for offset, _ in rows) + 1 + later[0])
            FeeSchedule.objects.create(region=region, kind=FeeKind.PHONE, amount=later[1], effective_from=cut)
            for day in days:
                after = fee_quote(patient=patient, unit=unit, kind=FeeKind.PHONE, day=day).amount
                assert after == (before[day] if day < cut else Decimal(later[1]))
            raise Rollback
    except Rollback:
        pass


@PROPERTY
@given(days_back=st.integers(min_value=0, max_value=4000), amount=st.integers(min_value=0, max_value=2000))
def test_the_schedule_refuses_a_change_dated_today_or_earlier(personas_free_db, days_back, amount):
    try:
        with transaction.atomic():
            unit = region_with_fees()
            today = timezone.localdate()
            with pytest.raises(ValidationError):
                services.fee_schedule_set(
                    actor=SYSTEM,
                    region=unit.administration.region,
                    kind=FeeKind.DOCTOR,
                    amount=Decimal(amount),
                    effective_from=today - dt.timedelta(days=days_back),
                )
            assert FeeSchedule.objects.filter(region=unit.administration.region).count() == 3
            raise Rollback
    except Rollback:
        pass
