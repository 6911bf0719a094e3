"""The online booking in three statements on PostgreSQL (booking/booking_statements.py): the same
rows, rules and guarantees as the ORM's way (SQLite), in fewer statements.

The module's hand-written reads stand beside the ORM's definitions of the same thing (the coming
web bookings the unit's limit counts, the task row the queue would insert); these tests hold them
to the same answers, on whichever database the suite runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.booking.helpers import (  # noqa: F401 (fixtures: unit, visit, slots, chain_rows)
    ONLINE_NOW,
    book,
    chain_rows,
    client_for,
    clock_at,
    online_slots,
    online_unit,
    online_visit,
)
from vardkontakt.access.acting import ACTING_FOR
from vardkontakt.access.audit import verify_chain
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking import booking_statements, services
from vardkontakt.booking.availability import coming_web_bookings_of
from vardkontakt.booking.external_models import AppointmentChange, ChangeKind
from vardkontakt.booking.models import Booking, BookingChannel, BookingSettings, BookingStatus, Slot
from vardkontakt.notifications.models import Channel, Delivery, Notification, PushSubscription
from vardkontakt.notifications.services import delivery_task_row, push_subscription_save
from vardkontakt.notifications.tasks import deliver_notice

pytestmark = pytest.mark.django_db
clock = clock_at(ONLINE_NOW)
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the statements are PostgreSQL's")


def _device(patient, name: str) -> PushSubscription:
    return push_subscription_save(
        patient=patient, endpoint=f"https://push.example/{name}", p256dh="p" * 87, auth="a" * 22, label=name
    )


@postgresql_only
def test_the_limits_count_in_sql_is_the_orms_coming_web_bookings(personas, unit, visit, slots):
    """Each kind of booking the limit leaves out, and the kind it counts, in both readings."""
    tolvan, now = personas.tolvan, ONLINE_NOW
    counted = Booking.objects.create(
        slot=slots[1], patient=tolvan, channel=BookingChannel.ONLINE, booked_by_patient=tolvan, created_at=now
    )
    Booking.objects.create(  # by phone: the unit's own, not counted
        slot=slots[2], patient=tolvan, channel=BookingChannel.PHONE, booked_by_staff=personas.staff_x, created_at=now
    )
    Booking.objects.create(  # cancelled
        slot=slots[3],
        patient=tolvan,
        channel=BookingChannel.ONLINE,
        booked_by_patient=tolvan,
        created_at=now,
        status=BookingStatus.CANCELLED,
    )
    Booking.objects.create(  # someone else's
        slot=slots[4],
        patient=personas.guardian,
        channel=BookingChannel.ONLINE,
        booked_by_patient=personas.guardian,
        created_at=now,
    )
    past = Slot.objects.filter(pk=slots[5].pk)
    past.update(starts_at=now - dt.timedelta(hours=2), ends_at=now - dt.timedelta(hours=1, minutes=30))
    Booking.objects.create(  # begun already
        slot=past.get(), patient=tolvan, channel=BookingChannel.ONLINE, booked_by_patient=tolvan, created_at=now
    )
    for when in (now, counted.slot.starts_at - dt.timedelta(seconds=1), counted.slot.starts_at):
        slot = booking_statements.locked(slot_id=slots[0].pk, subject=tolvan)
        seen = booking_statements.seen_under_locks(
            slot=slot, subject=tolvan, told=[tolvan], idempotency_key=None, now=when
        )
        assert seen.coming_web_bookings == coming_web_bookings_of(tolvan, visit_type=visit, now=when).count()
    assert seen.coming_web_bookings == 0  # at the counted booking's start it is no longer coming
    first = booking_statements.seen_under_locks(slot=slot, subject=tolvan, told=[tolvan], idempotency_key=None, now=now)
    assert first.coming_web_bookings == 1


@postgresql_only
def test_the_task_row_is_the_one_the_queue_would_insert(personas):
    deliveries = [Delivery(channel=Channel.SMS, address="0701234567")]
    built = delivery_task_row(deliveries)
    assert built is not None
    enqueued = deliver_notice.enqueue([str(deliveries[0].id)])
    from django_tasks_db.models import DBTaskResult

    stored = DBTaskResult.objects.get(pk=enqueued.id)
    for field in DBTaskResult._meta.concrete_fields:
        if field.name not in ("id", "enqueued_at"):  # the row's own
            assert getattr(built, field.attname) == getattr(stored, field.attname), field.name


@postgresql_only
def test_a_booking_is_three_statements_between_begin_and_commit(personas, unit, slots):
    """The person's and the slot's locks; what they protect with the audit head; every row. (The
    test's transaction makes BEGIN and COMMIT a SAVEPOINT and its RELEASE.)"""
    tolvan = personas.tolvan
    with CaptureQueriesContext(connection) as statements:
        booking = services.booking_create_online(
            slot_id=slots[0].pk, unit=unit, subject=tolvan, actor=tolvan, idempotency_key="k"
        )
    sql = [query["sql"] for query in statements.captured_queries]
    assert len(sql) == 5 and sql[0].startswith("SAVEPOINT") and sql[-1].startswith("RELEASE"), sql
    assert "FOR NO KEY UPDATE OF s, p" in sql[1] and "FOR UPDATE" in sql[2] and sql[3].startswith("WITH booking_row")
    assert AppointmentChange.objects.get(booking=booking).kind == ChangeKind.BOOKED
    assert AuditEntry.objects.get(action="booking.book").object_id == str(booking.pk)


def test_the_rows_are_those_of_the_orms_way_for_a_guardian_and_the_child(personas, unit, slots):
    """A guardian books for a child: the child and the guardian are told (each on their own devices
    and choices), the log names the child as acted for, the feed has the booking, the chain holds."""
    guardian, child = personas.guardian, personas.child_9
    type(guardian).objects.filter(pk=guardian.pk).update(mobile="0701234567", notify_by_sms=True)
    phone = _device(guardian, "guardian-phone")
    _device(personas.tolvan, "someone-elses")
    client = client_for(guardian)
    session = client.session
    session[ACTING_FOR] = str(child.pk)
    session.save()
    answer = book(client, unit, slots[0])
    booking = Booking.objects.get()
    assert answer.status_code == 302 and booking.patient == child and booking.booked_by_patient == guardian
    notices = {notice.recipient_id: notice for notice in Notification.objects.filter(about_id=str(booking.pk))}
    assert set(notices) == {child.pk, guardian.pk}
    assert {notice.cause for notice in notices.values()} == {f"booking_confirmed:{booking.pk}"}
    to_guardian = set(notices[guardian.pk].deliveries.values_list("channel", "address"))
    assert to_guardian == {(Channel.SMS, "0701234567"), (Channel.PUSH, str(phone.pk))}
    assert not notices[child.pk].deliveries.filter(channel=Channel.PUSH).exists()
    entry = AuditEntry.objects.get(action="booking.book")
    assert (entry.actor_id, entry.patient_id, entry.on_behalf_of_id) == (str(guardian.pk), str(child.pk), str(child.pk))
    assert AppointmentChange.objects.get(booking=booking).patient_id == child.pk
    assert verify_chain().intact


@postgresql_only
def test_without_the_chains_head_row_the_booking_is_logged_after_its_statement(personas, unit, slots):
    """A database whose chain has no head row yet (audit() makes it): the entry and the change are
    written after the statement, once each, and the chain holds."""
    tolvan = personas.tolvan
    with transaction.atomic():
        slot = booking_statements.locked(slot_id=slots[0].pk, subject=tolvan)
        seen = booking_statements.seen_under_locks(
            slot=slot, subject=tolvan, told=[tolvan], idempotency_key=None, now=ONLINE_NOW
        )
        seen.head = None
        booking = Booking(
            slot=slot, patient=tolvan, channel=BookingChannel.ONLINE, booked_by_patient=tolvan, created_at=ONLINE_NOW
        )
        assert booking_statements.written(booking=booking, actor=tolvan, seen=seen, now=ONLINE_NOW)
    assert AuditEntry.objects.filter(action="booking.book", object_id=str(booking.pk)).count() == 1
    assert AppointmentChange.objects.filter(booking=booking, kind=ChangeKind.BOOKED).count() == 1
    assert Notification.objects.filter(cause=f"booking_confirmed:{booking.pk}").count() == 1
    assert verify_chain().intact


def test_a_taken_time_is_refused_and_leaves_no_row_of_the_attempt(personas, unit, slots):
    assert book(client_for(personas.tolvan), unit, slots[0]).status_code == 302
    before = (Notification.objects.count(), AuditEntry.objects.count(), AppointmentChange.objects.count())
    refused = book(client_for(personas.guardian), unit, slots[0], key="other")
    assert refused.status_code == 409
    assert Booking.objects.count() == 1
    assert (Notification.objects.count(), AuditEntry.objects.count(), AppointmentChange.objects.count()) == before


def test_a_slot_gone_from_the_book_is_refused_as_taken(personas, unit, slots):
    tolvan = personas.tolvan
    gone = slots[0].pk
    Slot.objects.filter(pk=gone).delete()
    with pytest.raises(services.BookingRefused) as refused:
        services.booking_create_online(slot_id=gone, unit=unit, subject=tolvan, actor=tolvan)
    assert refused.value.refusal is services.Refusal.TAKEN and not Booking.objects.exists()


def _prepared_on_the_connection() -> int:
    with connection.cursor() as cursor:
        for _ in range(6):  # psycopg prepares a statement the fifth time it is sent
            cursor.execute("SELECT %s::int", [1])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return int(cursor.fetchone()[0])


def _rows_of_attempts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Booking, Notification, Delivery, AuditEntry, AppointmentChange))


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_refusal_ends_its_transaction_without_a_rollback_so_prepared_statements_stay(personas, unit, slots):
    """psycopg forgets every statement prepared on the connection at a ROLLBACK: in a rush each 409
    made the next requests on that connection parse and plan again. A refusal found before anything
    is written (the time taken, the unit's limit) ends with COMMIT, not waited for on disk; nothing
    of the attempt is kept, and the refusal is the same."""
    tolvan, guardian = personas.tolvan, personas.guardian
    services.booking_create_online(slot_id=slots[0].pk, unit=unit, subject=tolvan, actor=tolvan)
    prepared = _prepared_on_the_connection()
    assert prepared >= 1
    before = _rows_of_attempts()

    with CaptureQueriesContext(connection) as statements, pytest.raises(services.BookingRefused) as refused:
        services.booking_create_online(slot_id=slots[0].pk, unit=unit, subject=guardian, actor=guardian)
    assert refused.value.refusal is services.Refusal.TAKEN
    assert slots[1] in refused.value.alternatives and slots[0] not in refused.value.alternatives
    sql = [query["sql"] for query in statements.captured_queries]
    at = sql.index("SET LOCAL synchronous_commit TO OFF")  # right after the locks and what they protect
    assert "FOR NO KEY UPDATE" in sql[at - 2] and sql[at - 1].startswith("WITH seen AS MATERIALIZED"), sql[: at + 1]
    assert not any(statement.startswith("WITH booking_row") for statement in sql)

    BookingSettings.objects.filter(unit=unit).update(online_bookings_per_visit_type=1)
    with pytest.raises(services.BookingRefused) as refused:
        services.booking_create_online(slot_id=slots[1].pk, unit=unit, subject=tolvan, actor=tolvan)
    assert refused.value.refusal is services.Refusal.LIMIT_REACHED

    assert _rows_of_attempts() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= prepared
        cursor.execute("SHOW synchronous_commit")  # SET LOCAL ended with its transaction
        assert cursor.fetchone()[0] == "on"
    assert verify_chain().intact


@postgresql_only
def test_inside_a_callers_transaction_a_refusal_leaves_the_callers_commit_waited_for(personas, unit, slots):
    """Inside a caller's transaction the booking's is a savepoint: the refusal does not turn off
    the wait for the disk, which would cover the caller's own writes too."""
    tolvan, guardian = personas.tolvan, personas.guardian
    services.booking_create_online(slot_id=slots[0].pk, unit=unit, subject=tolvan, actor=tolvan)
    with transaction.atomic():
        with pytest.raises(services.BookingRefused):
            services.booking_create_online(slot_id=slots[0].pk, unit=unit, subject=guardian, actor=guardian)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert Booking.objects.get().patient == tolvan
