"""tests/demo_snapshot.py: a copied demo region is, row for row, the build it was read from, and a
copy is used only where a new build would write the same rows."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from tests import demo_snapshot, emptying
from vardkontakt.access.models import RecordSeal

pytestmark = pytest.mark.django_db


class _Undo(Exception):
    pass


def _load_and_read() -> dict[str, bytes | list[str]]:
    """The demo region loaded in a savepoint, every table's rows read, the savepoint undone."""
    rows: dict[str, bytes | list[str]] = {}
    try:
        with transaction.atomic():
            demo_snapshot.load_demo_region()
            rows = demo_snapshot.tables_with_rows()
            raise _Undo
    except _Undo:
        pass
    return rows


def test_a_copied_demo_region_is_the_build_it_was_read_from():
    demo_snapshot._snapshots.clear()
    empty = demo_snapshot.tables_with_rows()
    built, copied = demo_snapshot.stats["built"], demo_snapshot.stats["copied"]

    first = _load_and_read()
    assert demo_snapshot.stats["built"] == built + 1
    assert demo_snapshot.tables_with_rows() == empty
    second = _load_and_read()
    assert demo_snapshot.stats["copied"] == copied + 1
    assert demo_snapshot.stats["built"] == built + 1

    assert set(first) == set(second)
    for table in first:
        assert second[table] == first[table], table
    # What the copy holds is the demo region, not an empty database.
    assert {"identity_patient", "organisation_careunit", "access_auditentry", "access_guardianship"} <= set(
        first
    ) - set(empty)
    demo_snapshot.load_demo_region()
    assert RecordSeal.objects.filter(patient__given_name="Sofia", patient__family_name="Förseglad").exists()


def test_on_a_stopped_clock_a_copy_is_only_used_at_the_same_instant():
    demo_snapshot._snapshots.clear()
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12, 0)))
    built = demo_snapshot.stats["built"]
    with time_machine.travel(noon, tick=False):
        _load_and_read()
        _load_and_read()
        assert demo_snapshot.stats["built"] == built + 1
    with time_machine.travel(noon + dt.timedelta(seconds=1), tick=False):
        _load_and_read()
        assert demo_snapshot.stats["built"] == built + 2


def test_on_a_running_clock_a_copy_older_than_a_minute_is_built_again():
    demo_snapshot._snapshots.clear()
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12, 0)))
    built = demo_snapshot.stats["built"]
    with time_machine.travel(noon, tick=True) as traveller:
        _load_and_read()
        traveller.shift(demo_snapshot.MAX_AGE / 2)
        _load_and_read()
        assert demo_snapshot.stats["built"] == built + 1
        traveller.shift(demo_snapshot.MAX_AGE)
        _load_and_read()
        assert demo_snapshot.stats["built"] == built + 2


def test_a_test_in_committed_transactions_gets_a_copy_that_is_committed(transactional_db):
    demo_snapshot._snapshots.clear()
    empty = demo_snapshot.tables_with_rows()
    built, copied = demo_snapshot.stats["built"], demo_snapshot.stats["copied"]
    demo_snapshot.load_demo_region()
    assert demo_snapshot.stats["built"] == built + 1
    first = demo_snapshot.tables_with_rows()
    kept = dict(emptying._after_full_flush)
    emptying._after_full_flush.clear()
    emptying._after_full_flush.update(empty)
    try:
        assert emptying._quick_empty()
    finally:
        emptying._after_full_flush.clear()
        emptying._after_full_flush.update(kept)
    assert demo_snapshot.tables_with_rows() == empty

    demo_snapshot.load_demo_region()
    assert demo_snapshot.stats["copied"] == copied + 1
    assert demo_snapshot.stats["built"] == built + 1
    assert not connection.in_atomic_block  # committed, for the live server's threads to see
    assert demo_snapshot.tables_with_rows() == first
