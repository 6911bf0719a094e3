"""The confirmation page's slot query is compiled once per process (core/compiled.py): for every
rule of online_slots and the counted limit it gives what the ORM definition gives, row for row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.booking.helpers import ONLINE_NOW, clock_at, make_slot, online_slots, online_unit, online_visit  # noqa: F401 (fixtures: slots, unit, visit)
from vardkontakt.booking import selectors
from vardkontakt.booking.models import (
    Booking,
    BookingChannel,
    BookingStatus,
    Channel,
    EarlierTimeOffer,
    EarlierTimeRequest,
    HeldBack,
    OfferStatus,
    Slot,
    VisitType,
)
from vardkontakt.core.compiled import CompiledRead
from vardkontakt.organisation.models import CareUnit

pytestmark = pytest.mark.django_db

clock = clock_at(ONLINE_NOW)


def both(unit, slot, subject) -> tuple[Slot | None, Slot | None]:
    """(the compiled read's slot, the ORM definition's slot) for the subject, now."""
    values = {"unit_id": unit.pk, "slot_id": slot.pk, "subject_id": subject.pk, "now": timezone.now()}
    compiled = selectors._slot_to_confirm(**values)
    defined = list(selectors._slot_to_confirm.queryset(**values))
    return (compiled[0] if compiled else None), (defined[0] if defined else None)


def same(unit, slot, subject) -> Slot | None:
    compiled, defined = both(unit, slot, subject)
    if defined is None:
        assert compiled is None
        return None
    assert compiled is not None
    fields = [f.attname for f in Slot._meta.concrete_fields]
    assert [getattr(compiled, f) for f in fields] == [getattr(defined, f) for f in fields]
    assert compiled.coming == defined.coming  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as queries:  # the visit type and practitioner come with it
        assert (compiled.visit_type.pk, compiled.visit_type.name) == (defined.visit_type.pk, defined.visit_type.name)
        assert compiled.practitioner.full_name == defined.practitioner.full_name
    assert len(queries) == 0
    return compiled


def booking(slot, patient, *, channel=BookingChannel.ONLINE, status=BookingStatus.ACTIVE) -> Booking:
    return Booking.objects.create(
        slot=slot, patient=patient, channel=channel, booked_by_patient=patient, status=status, created_at=timezone.now()
    )


def test_a_free_published_coming_slot_is_found_by_both(unit, slots, personas):
    found = same(unit, slots[0], personas.tolvan)
    assert found is not None and found.pk == slots[0].pk
    assert found.coming is None  # type: ignore[attr-defined]  # nothing booked: no row to count


def test_a_taken_slot_is_refused_by_both_and_free_again_when_cancelled(unit, slots, personas):
    taken = booking(slots[0], personas.other_patient)
    assert same(unit, slots[0], personas.tolvan) is None
    taken.status = BookingStatus.CANCELLED
    taken.save(update_fields=["status"])
    assert same(unit, slots[0], personas.tolvan) is not None


def test_a_past_slot_is_refused_by_both(unit, visit, personas):
    past = make_slot(unit, visit, personas.staff_x, timezone.now() - dt.timedelta(hours=1))
    assert same(unit, past, personas.tolvan) is None


def test_a_phone_only_or_held_back_slot_is_refused_by_both(unit, slots, personas):
    Slot.objects.filter(pk=slots[0].pk).update(channel=Channel.PHONE_ONLY)
    Slot.objects.filter(pk=slots[1].pk).update(held_back=HeldBack.SERIES)
    assert same(unit, slots[0], personas.tolvan) is None
    assert same(unit, slots[1], personas.tolvan) is None
    assert same(unit, slots[2], personas.tolvan) is not None


@pytest.mark.parametrize("change", [{"bookable_online": False}, {"active": False}])
def test_a_visit_type_not_booked_online_is_refused_by_both(unit, visit, slots, personas, change):
    VisitType.objects.filter(pk=visit.pk).update(**change)
    assert same(unit, slots[0], personas.tolvan) is None


def test_another_units_slot_is_refused_by_both(unit, slots, personas):
    elsewhere = CareUnit.objects.exclude(pk=unit.pk).first()
    assert elsewhere is not None
    assert same(elsewhere, slots[0], personas.tolvan) is None


def test_a_slot_offered_for_an_earlier_time_is_refused_by_both_until_the_offer_ends(unit, slots, personas):
    waiting = booking(slots[-1], personas.other_patient)
    request = EarlierTimeRequest.objects.create(
        booking=waiting,
        patient=personas.other_patient,
        unit=unit,
        visit_type=slots[-1].visit_type,
        asked_at=timezone.now(),
    )
    now = timezone.now()
    offer = EarlierTimeOffer.objects.create(
        request=request, slot=slots[0], made_at=now, expires_at=now + dt.timedelta(hours=2)
    )
    assert same(unit, slots[0], personas.tolvan) is None
    EarlierTimeOffer.objects.filter(pk=offer.pk).update(
        made_at=now - dt.timedelta(hours=3), expires_at=now - dt.timedelta(minutes=1)
    )
    assert same(unit, slots[0], personas.tolvan) is not None
    EarlierTimeOffer.objects.filter(pk=offer.pk).update(expires_at=now + dt.timedelta(hours=2))
    EarlierTimeOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.WITHDRAWN)
    assert same(unit, slots[0], personas.tolvan) is not None


def test_the_limit_counts_the_same_coming_web_bookings(unit, visit, slots, personas):
    """Counted: the subject's coming, active web bookings of the visit type. Not counted: by phone,
    cancelled, past, someone else's."""
    tolvan = personas.tolvan
    booking(slots[1], tolvan)
    booking(slots[2], tolvan)
    booking(slots[3], tolvan, channel=BookingChannel.PHONE)
    booking(slots[4], tolvan, status=BookingStatus.CANCELLED)
    booking(slots[5], personas.other_patient)
    past = make_slot(unit, visit, personas.staff_x, timezone.now() - dt.timedelta(hours=2))
    booking(past, tolvan)
    found = same(unit, slots[0], tolvan)
    assert found is not None and found.coming == 2  # type: ignore[attr-defined]
    assert same(unit, slots[0], personas.other_patient).coming == 1  # type: ignore[union-attr]


def test_the_page_says_at_limit_from_the_compiled_count(unit, slots, personas):
    unit.booking_settings.online_bookings_per_visit_type = 1
    unit.booking_settings.save(update_fields=["online_bookings_per_visit_type"])
    booking(slots[1], personas.tolvan)
    fresh = selectors.unit_booking_online(unit_id=unit.pk)
    slot, at_limit = selectors.slot_to_confirm(
        reader=personas.tolvan, subject=personas.tolvan, unit=fresh, slot_id=slots[0].pk
    )
    assert slot is not None and slot.pk == slots[0].pk and at_limit
    slot, at_limit = selectors.slot_to_confirm(
        reader=personas.other_patient, subject=personas.other_patient, unit=fresh, slot_id=slots[0].pk
    )
    assert slot is not None and not at_limit


def test_a_definition_whose_argument_is_not_in_its_sql_is_refused():
    read = CompiledRead(Slot, lambda *, slot_id: Slot.objects.all()[:1], slot_id=Slot._meta.pk)
    with pytest.raises(Exception, match="slot_id"):
        read(slot_id=None)
