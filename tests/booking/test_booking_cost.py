"""What a booking costs the database (issue 20): the confirmation page and the booking stay within
their statements, and what the pages keep per process (the unit with its rules, "acts for
nobody") is read again as soon as it changes.

The counts are pinned with django_assert_num_queries so that they do not creep back (nor drop unseen); the
figures per statement are in docs/benchmarks.md, "Cost per booking"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.utils import timezone, translation

from tests.booking.helpers import (  # noqa: F401 (fixtures: unit, visit, slots, chain_rows)
    ONLINE_NOW,
    book,
    chain_rows,
    client_for,
    clock_at,
    online_slots,
    online_unit,
    online_visit,
    text_of,
)
from vardkontakt.access.models import AuditEntry, Guardianship
from vardkontakt.booking import selectors, services
from vardkontakt.booking.models import Booking, BookingSettings, BookingStatus
from vardkontakt.booking.services import Refusal
from vardkontakt.identity.models import Patient
from vardkontakt.notifications.models import Notification
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db
clock = clock_at(ONLINE_NOW)


# The database's statements of one request, sessions in the database (the tests' settings; on
# Redis, as deployed, one fewer each), and inside the test's transaction (SAVEPOINT and RELEASE
# where a request's own transaction has BEGIN and COMMIT).
# session (the user is in the cache since the first page, identity/user_cache.py); the slot with
# the person's coming web bookings counted in it
CONFIRM_PAGE = 2
if connection.vendor == "postgresql":
    # session; SAVEPOINT; the booking's three statements (booking/booking_statements.py: the person's
    # and the slot's locks; what they protect, with the audit head; every row); RELEASE
    BOOKING_POST = 1 + 1 + 3 + 1
else:
    # session; SAVEPOINT; the person's lock, the slot's lock, who holds the slot with its open
    # offers and the person's coming web bookings (one query); the booking, its notice, the
    # person's push devices, the deliveries, one task for the notice; the audit chain (head, entry,
    # head moved); the change feed (number, row); RELEASE
    BOOKING_POST = 1 + 1 + 3 + 5 + 3 + 2 + 1


def confirm_path(unit, slot) -> str:
    return f"/bookings/book/{unit.pk}/slot/{slot.pk}/"


def test_the_confirmation_page_and_the_booking_stay_within_their_statements(
    personas, unit, slots, django_assert_num_queries
):
    Patient.objects.filter(pk=personas.tolvan.pk).update(email="tolvan@example.se", notify_by_email=True)
    tolvan = client_for(personas.tolvan)
    tolvan.get(confirm_path(unit, slots[1]))  # the process keeps the unit from here on
    with django_assert_num_queries(CONFIRM_PAGE):
        page = tolvan.get(confirm_path(unit, slots[0]))
    assert page.status_code == 200
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    with django_assert_num_queries(BOOKING_POST):
        answer = tolvan.post(confirm_path(unit, slots[0]), {"submission_key": key, "sms_reminder": "on"})
    booking = Booking.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/bookings/{booking.pk}/"
    # Everything the statements were for is there: the notice's deliveries, the entry, the chain.
    notice = Notification.objects.get(recipient=personas.tolvan, cause=f"booking_confirmed:{booking.pk}")
    assert notice.deliveries.filter(channel="email", address="tolvan@example.se").exists()
    assert AuditEntry.objects.filter(action="booking.book", object_id=str(booking.pk)).count() == 1
    # The same form again (a double click) answers with the booking and books nothing more.
    again = tolvan.post(confirm_path(unit, slots[0]), {"submission_key": key})
    assert again["Location"] == f"/bookings/{booking.pk}/" and Booking.objects.count() == 1


def test_the_one_query_still_refuses_a_taken_time_and_the_limit(personas, unit, visit, slots):
    """The slot's holders, its open offers and the person's coming bookings are read in one query
    after the slot's lock: each still refuses on its own."""
    assert book(client_for(personas.tolvan), unit, slots[0]).status_code == 302
    assert book(client_for(personas.guardian), unit, slots[0], key="other").status_code == 409
    BookingSettings.objects.filter(unit=unit).update(online_bookings_per_visit_type=1)
    refused = book(client_for(personas.tolvan), unit, slots[1], key="second")
    with translation.override("sv"):
        expected = str(Refusal.LIMIT_REACHED.value)
    assert refused.status_code == 400 and expected in text_of(refused)
    assert list(Booking.objects.values_list("slot_id", flat=True)) == [slots[0].pk]


def test_a_unit_closed_for_online_booking_is_refused_at_once_though_its_page_was_kept(personas, unit, slots):
    tolvan = client_for(personas.tolvan)
    path = confirm_path(unit, slots[0])
    key = re.search(r'name="submission_key" value="([^"]+)"', tolvan.get(path).text)[1]  # type: ignore[index]
    unit.live = False
    unit.save(update_fields=["live"])
    assert tolvan.get(confirm_path(unit, slots[1])).status_code == 404
    assert tolvan.post(path, {"submission_key": key}).status_code == 404
    assert not Booking.objects.exists()


def test_the_booking_judges_the_unit_from_the_locked_slot_not_from_the_kept_copy(personas, unit, slots):
    kept = selectors.unit_booking_online(unit_id=unit.pk)
    CareUnit.objects.filter(pk=unit.pk).update(live=False)  # no signal: the process's copy stays
    with pytest.raises(services.BookingRefused) as refused:
        services.booking_create_online(slot_id=slots[0].pk, unit=kept, subject=personas.tolvan, actor=personas.tolvan)
    assert refused.value.refusal is Refusal.NOT_ONLINE and not Booking.objects.exists()


def test_the_kept_units_rules_change_with_the_unit(personas, unit, slots):
    tolvan = client_for(personas.tolvan)
    types = f"/bookings/book/{unit.pk}/"  # the unit's page, read with the kept unit and its rules
    assert "Boka inte för akuta besvär." in tolvan.get(types).text
    rules = BookingSettings.objects.get(unit=unit)
    rules.terms_text = "Ring 1177 vid akuta besvär."
    rules.save()
    assert "Ring 1177 vid akuta besvär." in tolvan.get(types).text


def test_the_switch_shows_a_new_guardianship_on_the_next_page(personas):
    """A resident who acts for nobody is not asked again for a minute — unless a guardianship or
    proxy of theirs changes, which is seen on the very next page."""
    tolvan = client_for(personas.tolvan)
    assert personas.child_9.given_name not in tolvan.get("/patient/").text
    guardianship = Guardianship.objects.create(
        guardian=personas.tolvan, child=personas.child_9, imported_at=timezone.now()
    )
    assert f'<option value="{personas.child_9.pk}"' in tolvan.get("/patient/").text
    guardianship.ended_at = timezone.now() - dt.timedelta(seconds=1)
    guardianship.save()
    assert f'<option value="{personas.child_9.pk}"' not in tolvan.get("/patient/").text


def test_each_booking_gets_the_next_number_of_the_change_feed(personas, unit, slots):
    """The number comes from one UPDATE … RETURNING now: still one per change, in order."""
    from vardkontakt.booking.external_models import AppointmentChange

    book(client_for(personas.tolvan), unit, slots[0])
    book(client_for(personas.guardian), unit, slots[1], key="k2")
    assert list(AppointmentChange.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.ACTIVE}
