"""tests/emptying.py: after a test in committed transactions the database is as Django's flush
leaves it, and where that cannot be had quickly Django's flush runs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from tests import demo_snapshot, emptying
from vardkontakt.access.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def after_full_flush():
    """The state a full flush (with post_migrate) leaves, as the quick emptying's reference."""
    kept = dict(emptying._after_full_flush)
    call_command("flush", verbosity=0, interactive=False)
    state = demo_snapshot.tables_with_rows()
    emptying._after_full_flush.clear()
    emptying._after_full_flush.update(state)
    yield state
    emptying._after_full_flush.clear()
    emptying._after_full_flush.update(kept)


def test_the_quick_emptying_leaves_what_a_flush_leaves(after_full_flush):
    assert set(after_full_flush) == {"django_content_type", "auth_permission"}
    call_command("load_demo", "--no-activity", verbosity=0)
    assert AuditEntry.objects.exists()  # the append-only audit log is emptied too
    assert len(demo_snapshot.tables_holding_rows()) > 10

    assert emptying._quick_empty()
    assert demo_snapshot.tables_with_rows() == after_full_flush


def test_changed_permissions_get_the_full_flush(after_full_flush):
    call_command("load_demo", "--no-activity", verbosity=0)
    Permission.objects.filter(codename="add_permission").update(name="Changed")

    assert not emptying._quick_empty()
    assert AuditEntry.objects.exists()  # nothing was emptied: Django's flush does it
