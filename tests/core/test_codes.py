"""A column's codes checked by the database (core/codes.py): the same rule as ``IN (...)``, stored
on PostgreSQL as one array; every code check of the project written that way."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from vardkontakt.core.codes import one_of
from vardkontakt.notifications.models import About, Channel, Delivery, Notification, NotificationKind


@pytest.fixture
def notice(personas) -> Notification:
    return Notification.objects.create(
        recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="codes:1", created_at=timezone.now()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "bad"),
    [("kind", "reply-waiting"), ("kind", "REPLY_WAITING"), ("kind", ""), ("about", "bookings"), ("about", " ")],
)
def test_a_code_outside_the_list_is_refused_and_nothing_changes(notice, field, bad):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.filter(pk=notice.pk).update(**{field: bad})
    notice.refresh_from_db()
    assert (notice.kind, notice.about) == (NotificationKind.REPLY_WAITING, "")


@pytest.mark.django_db
def test_every_listed_code_is_taken_the_empty_one_too(notice):
    assert "" in About.values
    for kind in NotificationKind.values:
        Notification.objects.filter(pk=notice.pk).update(kind=kind)
    for about in About.values:
        Notification.objects.filter(pk=notice.pk).update(about=about)
    delivery = Delivery.objects.create(
        notification=notice, channel=Channel.EMAIL, address="a@example.org", next_attempt_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(channel="fax")
    assert Delivery.objects.get(pk=delivery.pk).channel == Channel.EMAIL


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["it's", "a,b", "a b", '"a"', "{a}", "a\\b", "ä"])
def test_only_code_like_values_are_written_into_a_constraint(code):
    with pytest.raises(ValueError, match="not a code"):
        str(Notification.objects.filter(one_of("kind", ["fine", code])).query)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored form is PostgreSQL's")
def test_postgresql_stores_the_codes_as_one_array_not_one_node_each():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid), length(conbin::text) FROM pg_constraint "
            "WHERE conname = 'notification_kind_valid'"
        )
        definition, stored = cursor.fetchone()
    assert "ANY ('{proxy_invited," in definition and "ARRAY[" not in definition
    # One constant instead of a CONST node per kind (5,030 characters with IN for 21 kinds).
    assert stored < 150 * len(NotificationKind.values)


def test_every_code_check_of_the_project_uses_one_of():
    """A new ``CheckConstraint(condition=Q(x__in=...))`` would bring the expensive form back (a
    compound condition, one of whose parts is a list, may keep ``__in``)."""
    written_with_in = [
        f"{model._meta.label}.{constraint.name}"
        for model in apps.get_models()
        if model.__module__.startswith("vardkontakt.")
        for constraint in model._meta.constraints
        if isinstance(constraint, models.CheckConstraint)
        and isinstance(constraint.condition, models.Q)
        and not constraint.condition.negated
        and len(constraint.condition.children) == 1
        and str(constraint.condition.children[0][0]).endswith("__in")  # type: ignore[index]
    ]
    assert written_with_in == []
