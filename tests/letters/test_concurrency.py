"""Several workers at once (PostgreSQL): the day's run is made by one of them, and every paper letter
goes in exactly one print batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tests.letters.conftest import at, local, slots_from
from vardkontakt.booking.services import booking_create_online
from vardkontakt.identity.models import Patient
from vardkontakt.letters.models import Letter, Paper
from vardkontakt.letters.services import letters_issue_due, print_batch_create
from vardkontakt.notifications.models import Notification, NotificationKind

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: the PostgreSQL case"),
]


def at_once(copies: int, work: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(copies)
    answers: list[Any] = []

    def one() -> None:
        try:
            barrier.wait(timeout=30)
            answers.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_four_workers_make_the_days_letters_once_and_print_each_once(unit, visit, personas, print_dir):
    people = list(Patient.objects.order_by("personnummer")[:8])
    Patient.objects.filter(pk__in=[p.pk for p in people]).update(
        street_address="Storgatan 1", postal_code="21145", city="Malmö", digital_letters=False
    )
    slots = slots_from(unit, visit, personas.staff_x, local(2026, 12, 7, 9), count=len(people))
    with at(local(2026, 11, 30, 10)):
        for slot, person in zip(slots, people, strict=True):
            booking_create_online(slot_id=slot.pk, unit=unit, subject=person, actor=person)
    with at(local(2026, 11, 30, 18, 1)):
        issued = at_once(4, letters_issue_due)
    assert sorted(issued) == [0, 0, 0, len(people)]
    assert Letter.objects.count() == len(people)
    assert Notification.objects.filter(kind=NotificationKind.NEW_LETTER).count() >= len(people)
    with at(local(2026, 11, 30, 19)):
        batches = at_once(3, lambda: print_batch_create(limit=3))
    made = [batch for batch in batches if batch is not None]
    # Three batches of at most three: the eight letters, each in exactly one batch.
    printed = Letter.objects.filter(paper=Paper.PRINTED)
    assert sum(batch.letter_count for batch in made) == printed.count() == len(people)
    assert {letter.print_batch_id for letter in printed} == {batch.pk for batch in made}
    assert sorted(p.name for p in print_dir.iterdir() if p.suffix == ".pdf") == sorted(b.pdf_name for b in made)


def test_two_workers_on_the_same_external_appointments_store_each_letter_and_reminder_once(unit, personas):
    """Past the run's claim (a run taken up again while the first worker still works): both render
    the same external appointments' letters, and each is stored once (one per appointment and
    version); the reminders of two heartbeats at once go once."""
    import datetime as dt

    from tests.helpers import at_once as released_together
    from tests.letters.test_external import VISIT, publish
    from vardkontakt.booking.external_models import ExternalAppointment
    from vardkontakt.booking.notices import send_due_external_reminders
    from vardkontakt.letters import services

    people = list(Patient.objects.order_by("personnummer")[:4])
    Patient.objects.filter(pk__in=[p.pk for p in people]).update(digital_letters=True, mobile="+46701234567")
    with at(local(2026, 11, 30, 10)):
        for n, person in enumerate(people):
            publish(person, unit, identifier=f"urn:pasis|{n}")
    ids = sorted(ExternalAppointment.objects.values_list("pk", flat=True))
    cutoff = local(2026, 11, 30, 18)
    with at(local(2026, 11, 30, 18, 1)):
        errors = released_together([lambda: services._issue_external_chunk(ids, cutoff, cutoff, {})] * 2)
    assert errors == []
    assert Letter.objects.count() == len(people)
    told = Notification.objects.filter(kind=NotificationKind.NEW_LETTER).values_list("cause", flat=True)
    assert set(told) == {f"letter:{pk}" for pk in Letter.objects.values_list("pk", flat=True)}
    with at(VISIT - dt.timedelta(hours=2)):
        errors = released_together([send_due_external_reminders] * 2)
    assert errors == []
    assert Notification.objects.filter(kind=NotificationKind.BOOKING_REMINDER).count() == len(people)
