"""The notification core: outbox rows with the change, delivery by real SMTP and an SMS gateway,
retries while the gateway is down, once per (event, channel, recipient), never medical content."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from vardkontakt.access.services import proxy_invite
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.notifications import messages
from vardkontakt.notifications.delivery import deliveries_due, delivery_attempt, delivery_release_next, gateways_probe
from vardkontakt.notifications.models import Delivery, DeliveryStatus, Notification, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.notifications.tasks import sweep_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def reachable(personas) -> Patient:
    patient = personas.tolvan
    Patient.objects.filter(pk=patient.pk).update(
        email="tolvan@example.se", mobile="+46701234567", notify_by_email=True, notify_by_sms=True
    )
    patient.refresh_from_db()
    return patient


def only(kind_filter: str, patient: Patient) -> Delivery:
    return Delivery.objects.get(notification__recipient=patient, channel=kind_filter)


def test_a_notice_gets_one_delivery_per_chosen_channel(reachable):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:1")
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:1")  # the same event
    assert Notification.objects.filter(recipient=reachable).count() == 1
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["email", "sms"]


def test_no_delivery_without_a_choice_or_an_address(personas):
    Patient.objects.filter(pk=personas.tolvan.pk).update(email="t@example.se", notify_by_email=False)
    personas.tolvan.refresh_from_db()
    notification_create(recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="case:2")
    assert Notification.objects.filter(recipient=personas.tolvan).exists()  # shown in the platform
    assert not Delivery.objects.exists()


def test_staff_are_told_of_assigned_cases_by_their_own_settings(personas):
    Staff.objects.filter(pk=personas.nurse.pk).update(
        email="bengt@vardkontakt.example", notify_assigned_by_email=True, mobile="+46701112233"
    )
    personas.nurse.refresh_from_db()
    notification_create(recipient=personas.nurse, kind=NotificationKind.CASE_ASSIGNED, cause="case:3")
    assert list(Delivery.objects.values_list("channel", "address")) == [("email", "bengt@vardkontakt.example")]


def test_an_email_reaches_a_real_smtp_server_without_medical_content(reachable, smtp_server):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:4")
    delivery = only("email", reachable)
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["To"] == "tolvan@example.se"
    body = mail.get_content()
    assert "Logga in på" in body
    assert "Tolvan" not in body and reachable.personnummer not in body
    # Trying again sends nothing more.
    assert delivery_attempt(str(delivery.id)) is None
    assert len(smtp_server.messages) == 1


def test_a_resent_email_carries_the_same_message_id_so_the_receiver_can_drop_the_copy(reachable, smtp_server):
    """A worker killed after the mail server's 250 but before its commit leaves the delivery
    SENDING; when the claim lapses it is sent again. SMTP allows no more than this: the copy is the
    same message, by its Message-ID."""
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:4b")
    delivery = only("email", reachable)
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    # What the killed worker's database looks like: accepted by the server, never marked sent.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    ids = [mail["Message-ID"] for mail in smtp_server.messages]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert str(delivery.id) in ids[0]
    other = only("sms", reachable)
    assert str(other.id) not in ids[0]


def test_an_sms_goes_through_the_gateway_api(reachable, sms_gateway):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:5")
    delivery = only("sms", reachable)
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    assert len(sms_gateway.received) == 1
    sent = sms_gateway.received[0]
    assert (sent["to"], sent["from"]) == ("+46701234567", settings.SMS_SENDER)
    assert sent["message"] == messages.render(NotificationKind.REPLY_WAITING).body
    delivery.refresh_from_db()
    assert delivery.provider_id.startswith("s")


def test_while_the_gateway_is_down_messages_wait_and_go_once_when_it_returns(reachable, sms_gateway):
    start = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:6")
        delivery = only("sms", reachable)
        sms_gateway.down = True
        for minutes in (0, 1, 5, 15):
            traveller.shift(dt.timedelta(minutes=minutes))
            for due in deliveries_due():
                delivery_attempt(due)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts >= 3
        assert "503" in delivery.last_error
        assert sms_gateway.received == []
        # Not yet due: nothing is tried early.
        assert delivery_attempt(str(delivery.id)) is None
        sms_gateway.down = False
        traveller.shift(dt.timedelta(hours=1))
        for due in deliveries_due():
            delivery_attempt(due)
        for due in deliveries_due():
            delivery_attempt(due)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT
        assert len(sms_gateway.received) == 1


def test_when_the_gateway_takes_a_message_again_what_waited_goes_at_once(reachable, personas, sms_gateway):
    """After a 30-minute outage the waiting texts would go only at their next back-off step (an
    hour after the third failure): the first text the gateway takes again makes them due now."""
    start = timezone.now().replace(microsecond=0)
    other = personas.other_patient
    Patient.objects.filter(pk=other.pk).update(mobile="+46701234568", notify_by_sms=True)
    other.refresh_from_db()
    with time_machine.travel(start, tick=False) as traveller:
        sms_gateway.down = True
        notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:61")
        for minutes in (0, 1, 5, 15):  # minutes 0, 1, 6 and 21: four failures, next at 1 h later
            traveller.shift(dt.timedelta(minutes=minutes))
            for due in deliveries_due():
                delivery_attempt(due)
        waiting = only("sms", reachable)
        waiting.refresh_from_db()
        assert waiting.status == DeliveryStatus.PENDING and waiting.next_attempt_at > start + dt.timedelta(minutes=60)
        traveller.shift(dt.timedelta(minutes=9))  # minute 30: the gateway is back
        sms_gateway.down = False
        assert deliveries_due() == []  # nothing is due yet by the back-off
        notification_create(recipient=other, kind=NotificationKind.REPLY_WAITING, cause="case:62")
        assert delivery_attempt(str(only("sms", other).id)) == DeliveryStatus.SENT
        assert deliveries_due() == [str(waiting.pk)]  # the next heartbeat's sweep queues it
        assert delivery_attempt(str(waiting.pk)) == DeliveryStatus.SENT
    assert [m["to"] for m in sms_gateway.received] == ["+46701234568", "+46701234567"]


def test_a_failing_gateway_is_probed_once_a_minute_so_a_recovery_is_seen_without_new_notices(
    reachable, personas, sms_gateway
):
    """The worker's sweep makes the oldest waiting text due once a minute while the gateway fails
    (one attempt, not all of them); the first that goes through lets the rest go at once, long
    before their back-off, still each recipient's oldest first."""
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        sms_gateway.down = True
        for n in range(3):
            notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause=f"case:8{n}")
            traveller.shift(dt.timedelta(seconds=1))

        def heartbeat() -> None:  # what the worker's sweep does, and the tasks it queues
            gateways_probe()
            for due in deliveries_due():
                current: str | None = due
                while current is not None:  # tasks.deliver: a text out releases the next behind it
                    status = delivery_attempt(current)
                    current = delivery_release_next(current) if status == DeliveryStatus.SENT else None

        for _ in range(30):  # half an hour down: the head of the line is probed each minute
            heartbeat()
            traveller.shift(dt.timedelta(minutes=1))
        head, *behind = Delivery.objects.filter(channel="sms").order_by("notification__created_at")
        assert 25 <= head.attempts <= 31 and head.status == DeliveryStatus.PENDING
        assert [d.attempts for d in behind] == [0, 0]  # they never knocked on the gateway
        sms_gateway.down = False
        assert sms_gateway.received == []
        traveller.shift(dt.timedelta(minutes=1))  # back: the next probe goes through
        heartbeat()
        traveller.shift(dt.timedelta(seconds=30))  # the next heartbeat: the rest, due since the first went
        heartbeat()
        traveller.shift(dt.timedelta(seconds=30))
        heartbeat()
    texts = list(Delivery.objects.filter(channel="sms").order_by("notification__created_at"))
    assert [d.status for d in texts] == [DeliveryStatus.SENT] * 3
    assert len(sms_gateway.received) == 3
    sent_in_order = [d.provider_id for d in texts]
    assert [m["id"] for m in sms_gateway.history if m["direction"] == "outgoing"] == sent_in_order


def test_a_text_is_given_up_two_days_after_its_notice_not_after_a_count_of_attempts(reachable, sms_gateway):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        sms_gateway.down = True
        notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:90")
        delivery = only("sms", reachable)
        for _ in range(60):  # sixty probes in an hour: still waiting
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            assert delivery_attempt(str(delivery.pk)) == DeliveryStatus.PENDING
            traveller.shift(dt.timedelta(minutes=1))
        traveller.move_to(start + dt.timedelta(days=2))
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert delivery_attempt(str(delivery.pk)) == DeliveryStatus.FAILED


def test_a_gateway_that_never_failed_costs_no_update_per_message(reachable, sms_gateway):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:63")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert delivery_attempt(str(only("sms", reachable).id)) == DeliveryStatus.SENT
    assert not [q for q in captured.captured_queries if 'SET "next_attempt_at"' in q["sql"]]


def test_an_unreachable_gateway_is_retried(reachable, settings):
    settings.SMS_BACKEND = "46elks"
    settings.SMS_API_URL = "http://127.0.0.1:9"
    settings.SMS_API_USERNAME, settings.SMS_API_PASSWORD = "u", "p"
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:7")
    assert delivery_attempt(str(only("sms", reachable).id)) == DeliveryStatus.PENDING


def test_the_task_queues_the_next_attempt_for_when_it_is_due(reachable, settings):
    from django_tasks_db.models import DBTaskResult

    from vardkontakt.notifications.tasks import deliver

    settings.SMS_BACKEND = "46elks"
    settings.SMS_API_URL = "http://127.0.0.1:9"  # nothing listens: the gateway is down
    settings.SMS_API_USERNAME, settings.SMS_API_PASSWORD = "u", "p"
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:71")
    delivery = only("sms", reachable)
    DBTaskResult.objects.all().delete()
    deliver.call(str(delivery.id))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    retry = DBTaskResult.objects.get(task_path__endswith="notifications.tasks.deliver")
    assert retry.args_kwargs["args"] == [str(delivery.id)]
    assert retry.run_after == delivery.next_attempt_at > timezone.now()


def test_a_refused_number_is_given_up_at_once(reachable, sms_gateway):
    sms_gateway.reject = True
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:8")
    assert delivery_attempt(str(only("sms", reachable).id)) == DeliveryStatus.FAILED


def test_nothing_is_queued_for_a_change_that_rolls_back(reachable):
    with pytest.raises(RuntimeError), transaction.atomic():
        notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:9")
        raise RuntimeError
    assert not Notification.objects.filter(cause="case:9").exists()
    assert not Delivery.objects.filter(notification__cause="case:9").exists()


def test_the_sweep_queues_deliveries_whose_task_was_lost(reachable):
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:10")
    DBTaskResult.objects.all().delete()  # the tasks vanished (say, a restored backup)
    assert sweep_outbox() == 2
    assert DBTaskResult.objects.filter(task_path__endswith="notifications.tasks.deliver").count() == 2


def test_a_sender_that_died_mid_send_is_retried_after_its_claim_lapses(reachable, sms_gateway):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:11")
    delivery = only("sms", reachable)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert str(delivery.id) in deliveries_due()
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    assert len(sms_gateway.received) == 1  # the gateway had not accepted it: it goes now


def _killed_after_the_gateway_accepted(delivery: Delivery) -> str:
    """Send, then put the row back as a worker killed before its commit leaves it."""
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    provider_id = Delivery.objects.get(pk=delivery.pk).provider_id
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        provider_id="",
        sent_at=None,
        claimed_until=timezone.now() - dt.timedelta(seconds=1),
    )
    return provider_id


def test_an_sms_the_gateway_accepted_before_its_worker_died_is_not_sent_again(reachable, sms_gateway):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:11b")
    delivery = only("sms", reachable)
    accepted = _killed_after_the_gateway_accepted(delivery)
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    assert len(sms_gateway.received) == 1
    delivery.refresh_from_db()
    assert delivery.provider_id == accepted  # the gateway's status query found it


def test_the_same_text_to_the_same_number_for_another_notice_is_not_taken_for_it(reachable, sms_gateway):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:11c")
    first = only("sms", reachable)
    assert delivery_attempt(str(first.id)) == DeliveryStatus.SENT
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:11d")
    second = Delivery.objects.filter(channel="sms").exclude(pk=first.pk).get()
    # The second notice's worker died after claiming it and before the gateway accepted anything.
    Delivery.objects.filter(pk=second.pk).update(
        status=DeliveryStatus.SENDING, claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert delivery_attempt(str(second.id)) == DeliveryStatus.SENT
    assert len(sms_gateway.received) == 2  # the first notice's SMS in the history is not its own
    second.refresh_from_db()
    assert second.provider_id != first.provider_id


def test_while_the_status_query_fails_an_interrupted_sms_waits_instead_of_going_twice(reachable, sms_gateway):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:11e")
    delivery = only("sms", reachable)
    _killed_after_the_gateway_accepted(delivery)
    sms_gateway.down = True
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENDING  # still unknown: in flight
    delivery.refresh_from_db()
    assert delivery.claimed_until is not None and delivery.claimed_until > timezone.now()
    assert "status query" in delivery.last_error
    assert str(delivery.id) not in deliveries_due()
    sms_gateway.down = False
    Delivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    assert len(sms_gateway.received) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent workers: the PostgreSQL case")
def test_two_workers_send_one_message(reachable, sms_gateway):
    notification_create(recipient=reachable, kind=NotificationKind.REPLY_WAITING, cause="case:12")
    delivery_id = str(only("sms", reachable).id)
    barrier = threading.Barrier(4)

    def work() -> None:
        try:
            barrier.wait()
            delivery_attempt(delivery_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(sms_gateway.received) == 1


@pytest.mark.parametrize("kind", NotificationKind.values)
def test_no_message_of_any_kind_carries_medical_content(kind, personas):
    """Every outgoing text is one of the fixed, neutral texts: no names, units, numbers or case words."""
    from vardkontakt.organisation.models import CareUnit

    for language in ("sv", "en"):
        message = messages.render(kind, language=language)
        text = f"{message.subject}\n{message.body}"
        for unit in CareUnit.objects.all():
            assert unit.name not in text
        for person in Patient.objects.all():
            assert person.personnummer not in text and person.family_name not in text
        for word in (
            "journal",
            "record",
            "diagnos",
            "provsvar",
            "result",
            "recept",
            "ombud",
            "proxy",
            "förseg",
            "seal",
        ):
            assert word not in text.lower()


def test_a_proxy_invitation_notifies_without_saying_what_it_is(personas, sms_gateway):
    Patient.objects.filter(pk=personas.other_patient.pk).update(mobile="+46709876543", notify_by_sms=True)
    with transaction.atomic():
        proxy_invite(
            principal=personas.tolvan,
            agent_personnummer=personas.other_patient.personnummer,
            scope_record=True,
            scope_cases=False,
            scope_bookings=False,
            expires_on=None,
            idempotency_key="k-sms",
        )
    for due in deliveries_due():
        delivery_attempt(due)
    assert len(sms_gateway.received) == 1
    text = sms_gateway.received[0]["message"]
    assert "Tolvan" not in text and "ombud" not in text.lower()
