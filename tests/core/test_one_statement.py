"""Rows of several tables in one statement (core/one_statement.py): what save() would store, the
model's signals sent, nothing marked saved when the statement fails."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from vardkontakt.access.models import AuditHead
from vardkontakt.core.one_statement import KEPT_ROWS, OneStatement, insert_text
from vardkontakt.notifications.models import Channel, Delivery, Notification, NotificationKind

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="data-modifying WITH is PostgreSQL's"),
]


def test_two_tables_in_one_statement_as_save_would_store_them(personas):
    seen: list[tuple[str, str]] = []
    pre_save.connect(
        lambda sender, instance, **kw: seen.append(("pre", sender.__name__)), weak=False, dispatch_uid="t1"
    )
    post_save.connect(
        lambda sender, instance, created, **kw: seen.append(("post", sender.__name__)), weak=False, dispatch_uid="t2"
    )
    try:
        notice = Notification(
            recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="c:1", created_at=timezone.now()
        )
        deliveries = [
            Delivery(notification=notice, channel=channel, address="a", next_attempt_at=notice.created_at)
            for channel in (Channel.EMAIL, Channel.SMS)
        ]
        rows = (
            OneStatement()
            .insert("notice_row", [notice], returning=("id",))
            .insert("delivery_rows", deliveries)
            .run("SELECT id FROM notice_row")
        )
    finally:
        pre_save.disconnect(dispatch_uid="t1")
        post_save.disconnect(dispatch_uid="t2")
    assert rows == [(notice.pk,)]
    stored = Notification.objects.get(pk=notice.pk)
    assert stored.context == {} and set(stored.deliveries.values_list("channel", flat=True)) == {"email", "sms"}
    assert not notice._state.adding and all(not d._state.adding for d in deliveries)
    assert seen.count(("pre", "Delivery")) == 2 and seen.count(("post", "Notification")) == 1


def test_a_failed_statement_writes_nothing_and_marks_nothing_saved(personas):
    notice = Notification(
        recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="c:2", created_at=timezone.now()
    )
    twice = Notification(
        recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="c:2", created_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        OneStatement().insert("notice_rows", [notice, twice]).run("SELECT 1")
    assert notice._state.adding and not Notification.objects.filter(cause="c:2").exists()


def test_the_text_of_a_few_rows_is_kept_and_a_batchs_made_each_time():
    assert insert_text(AuditHead, 2) is insert_text(AuditHead, 2)
    assert insert_text(AuditHead, KEPT_ROWS + 1) is not insert_text(AuditHead, KEPT_ROWS + 1)
    assert insert_text(AuditHead, 3).count("(%s, %s, %s)") == 3


def test_the_placeholders_are_numbered_in_order_and_only_theirs():
    from vardkontakt.core.one_statement import _numbered

    assert (
        _numbered("INSERT INTO t (a, b) VALUES (%s, %s), (%s, %s)") == "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
    )
    long = "SELECT " + ", ".join(["%s"] * 20_000)
    assert _numbered(long).endswith("$19999, $20000")
