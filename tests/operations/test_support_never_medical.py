"""The support lookup of a patient with a case, record notes, a diagnosis and a booking shows none of
them: the authorization matrix proves support gets 200; this proves what the 200 does not contain."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from tests.operations.conftest import client_of
from vardkontakt.booking.models import Slot, VisitType
from vardkontakt.booking.services import booking_create_online
from vardkontakt.records.models import Diagnosis, RecordNote

pytestmark = pytest.mark.django_db
_ids = itertools.count()

NOTE_TEXT = "Patienten har besvär med halsen sedan en vecka. Bedömning: virusinfektion."
DIAGNOSIS = "Akut faryngit"
VISIT = "Uppföljning av blodtryck"


@pytest.fixture
def tolvan_with_care(personas, tolvans_case, unit_x):
    """Tolvan's case (a sore throat), a note and a diagnosis in her record, and a booked visit."""
    received = timezone.now() - dt.timedelta(days=30)
    source = {"unit": unit_x, "source_system": "test", "received_at": received}
    RecordNote.objects.create(
        patient=personas.tolvan,
        source_id=f"n{next(_ids)}",
        author_name="Doktor Halsdahl",
        author_profession="doctor",
        written_on=dt.date(2026, 10, 1),
        template="Besöksanteckning läkare",
        signed=True,
        text=NOTE_TEXT,
        **source,
    )
    Diagnosis.objects.create(
        patient=personas.tolvan,
        source_id=f"d{next(_ids)}",
        code="J02.9",
        text=DIAGNOSIS,
        recorded_on=dt.date(2026, 10, 1),
        **source,
    )
    visit = VisitType.objects.create(
        unit=unit_x,
        name=VISIT,
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
    )
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(days=7)
    slot = Slot.objects.create(
        unit=unit_x,
        practitioner=personas.staff_x,
        visit_type=visit,
        place="Rum 4",
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
    )
    booking_create_online(slot_id=slot.pk, unit=unit_x, subject=personas.tolvan, actor=personas.tolvan)
    return personas.tolvan


def test_support_sees_the_account_and_none_of_the_care(personas, tolvan_with_care, tolvans_case, unit_x):
    response = client_of(personas.support).post(
        "/staff/support/lookup/", {"personnummer": tolvan_with_care.personnummer}
    )
    assert response.status_code == 200
    body = response.text
    assert tolvan_with_care.full_name in body  # it is the right page
    medical = [
        "Jag har haft ont i halsen i en vecka.",  # the case's answer
        tolvans_case.service.name,
        NOTE_TEXT,
        "Besöksanteckning läkare",
        "Doktor Halsdahl",
        DIAGNOSIS,
        "J02.9",
        VISIT,
        "Rum 4",
        unit_x.name,  # not even where they are cared for
        personas.staff_x.full_name,
    ]
    assert [text for text in medical if text in body] == []
