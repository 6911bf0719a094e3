"""One definition of median and 90th percentile, in SQL and in Python (statistics/percentiles.py)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.db.models import F

from vardkontakt.usage_statistics.percentiles import MEDIAN, P90, PercentileCont, percentile_cont


def td(*hours: float) -> list[dt.timedelta]:
    return [dt.timedelta(hours=h) for h in hours]


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        (td(5), 5, 5),
        (td(1, 3), 2, 2.8),
        (td(3, 1, 2), 2, 2.8),
        (td(1, 2, 3, 4), 2.5, 3.7),
        (td(*range(1, 11)), 5.5, 9.1),
    ],
)
def test_linear_interpolation_between_closest_ranks(values, median, p90):
    assert percentile_cont(values, MEDIAN) == dt.timedelta(hours=median)
    assert percentile_cont(values, P90) == dt.timedelta(hours=p90)


def test_no_values_no_percentile():
    assert percentile_cont([], MEDIAN) is None


def test_the_fraction_must_be_a_share():
    with pytest.raises(ValueError, match="between 0 and 1"):
        PercentileCont(F("x"), 90)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="percentile_cont is PostgreSQL's")
def test_postgresql_and_python_agree_to_the_microsecond(personas, unit_x):
    from vardkontakt.cases.models import Case
    from vardkontakt.cases.services import service_activate

    service = service_activate(unit=unit_x, kind="advice", by=personas.unit_admin)
    rng = random.Random(7)  # noqa: S311 (test data, not secrets)
    start = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    rows = []
    for n in range(101):
        received = start + dt.timedelta(seconds=rng.randrange(10**6), microseconds=rng.randrange(10**6))
        rows.append(
            Case(
                unit=unit_x,
                service=service,
                patient=personas.tolvan,
                created_by=personas.tolvan,
                received_at=received,
                deadline_last_day=received.date(),
                deadline_passes_at=received,
                first_answered_at=received
                + dt.timedelta(seconds=rng.randrange(10**6), microseconds=rng.randrange(10**6)),
                idempotency_key=f"p{n}",
            )
        )
    Case.objects.bulk_create(rows)
    for size in (101, 100, 2):
        chosen = rows[:size]
        found = Case.objects.filter(pk__in=[c.pk for c in chosen]).aggregate(
            median=PercentileCont(F("first_answered_at") - F("received_at"), MEDIAN),
            p90=PercentileCont(F("first_answered_at") - F("received_at"), P90),
        )
        values = [c.first_answered_at - c.received_at for c in chosen if c.first_answered_at is not None]
        assert found["median"] == percentile_cont(values, MEDIAN)
        expected = percentile_cont(values, P90)
        assert expected is not None and found["p90"] is not None
        assert abs(found["p90"] - expected) <= dt.timedelta(microseconds=1)
