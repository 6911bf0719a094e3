"""The fee on the booking pages, the resident's high-cost page, the frikort check and the staff's
registration of a fee paid elsewhere: what a person sees, and the unhappy paths."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client

from tests.booking.helpers import clock_at, weekly_block
from tests.helpers import login_as
from vardkontakt.access.acting import ACTING_FOR
from vardkontakt.access.audit import SYSTEM
from vardkontakt.access.models import AuditEntry
from vardkontakt.booking.models import BookingSettings, Slot, VisitType
from vardkontakt.booking.schedule import slots_generate
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.fees import frikort_code, services
from vardkontakt.fees.models import Fee, FeeKind, FeeRules, FeeSchedule, Frikort
from vardkontakt.identity.models import Staff, User

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)  # a Wednesday
clock = clock_at(NOW)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def unit(personas):
    unit = personas.staff_x.memberships.get().unit
    BookingSettings.objects.create(unit=unit)
    region = unit.administration.region
    # Tolvan is 114: the region here charges every age, so her fee shows.
    FeeRules.objects.update_or_create(region=region, defaults={"free_under_age": 20, "free_from_age": 0})
    FeeSchedule.objects.update_or_create(
        region=region,
        kind=FeeKind.DOCTOR,
        unit_kind="",
        effective_from=dt.date(2026, 1, 1),
        defaults={"amount": Decimal(200)},
    )
    return unit


@pytest.fixture
def slot(unit, personas) -> Slot:
    visit = VisitType.objects.create(
        unit=unit,
        name="Läkarbesök",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        fee_kind=FeeKind.DOCTOR,
        fee_kronor=999,  # the schedule wins over the visit type's own figure
    )
    weekly_block(unit, personas.staff_x, visit, weekday=3, end=dt.time(10))
    slots_generate(unit, today=NOW.date())
    return Slot.objects.filter(unit=unit).order_by("starts_at")[0]


def resident(patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def staff(member: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(member))


def test_the_booking_pages_show_the_schedules_fee_and_then_the_frikort(unit, slot, personas):
    client = resident(personas.tolvan)
    assert "200 kronor" in text(client.get(f"/bookings/book/{unit.pk}/"))
    confirm = text(client.get(f"/bookings/book/{unit.pk}/slot/{slot.pk}/"))
    assert "200 kronor" in confirm and not re.search(r"\b999\b", confirm)  # a bare substring may sit inside an id
    services.fee_register_external(
        staff=personas.staff_x,
        unit=unit,
        patient=personas.tolvan,
        day=NOW.date(),
        amount=Decimal(1400),
        provider="Region Uppsala",
        reason="Kvitto",
    )
    confirm = text(client.get(f"/bookings/book/{unit.pk}/slot/{slot.pk}/"))
    assert "Avgiftsfritt — du har frikort" in confirm
    assert "avgiftsfritt — du har frikort" in text(client.get(f"/bookings/book/{unit.pk}/"))


def test_a_child_under_the_regions_age_sees_free_of_charge(unit, slot, personas):
    client = resident(personas.guardian)
    session = client.session
    session[ACTING_FOR] = str(personas.child_9.pk)
    session.save()
    assert "Avgiftsfritt i din ålder" in text(client.get(f"/bookings/book/{unit.pk}/slot/{slot.pk}/"))


def test_the_high_cost_page_shows_the_period_and_a_guardian_sees_the_childs(unit, personas):
    client = resident(personas.tolvan)
    page = text(client.get("/high-cost-protection/"))
    assert "Ditt högkostnadsskydd" in page and "1400 kronor återstår" in page
    services.fee_charge_for_booking(
        actor=SYSTEM, booking_id=uuid.uuid4(), patient=personas.tolvan, unit=unit, kind=FeeKind.DOCTOR, day=NOW.date()
    )
    page = text(client.get("/high-cost-protection/"))
    assert "2026-11-25 till 2027-11-24" in page and "1200 kronor" in page
    guardian = resident(personas.guardian)
    session = guardian.session
    session[ACTING_FOR] = str(personas.child_9.pk)
    session.save()
    page = text(guardian.get("/high-cost-protection/"))
    assert "Högkostnadsskydd för Liam" in page and "Tolvan" not in page
    entry = AuditEntry.objects.filter(action="fees.highcost.read").order_by("-sequence")[0]
    assert (entry.patient_id, entry.actor_id) == (str(personas.child_9.pk), str(personas.guardian.pk))


def _card(unit, personas, day: dt.date) -> str:
    services.fee_register_external(
        staff=personas.staff_x,
        unit=unit,
        patient=personas.tolvan,
        day=day,
        amount=Decimal(1400),
        provider="X",
        reason="Y",
    )
    card = Frikort.objects.get()
    return frikort_code.code_for(
        frikort_id=card.id,
        personnummer=personas.tolvan.personnummer,
        valid_from=card.valid_from,
        valid_until=card.valid_until,
    )


def test_a_code_is_valid_expired_not_yet_or_forged(unit, personas):
    code = _card(unit, personas, dt.date(2026, 3, 1))
    read = frikort_code.read
    assert read(code, today=dt.date(2026, 3, 1)).verdict == "valid"
    assert read(code, today=dt.date(2027, 2, 28)).verdict == "valid"  # the period's last day
    assert read(code, today=dt.date(2027, 3, 1)).verdict == "expired"
    assert read(code, today=dt.date(2026, 2, 28)).verdict == "not_yet"
    assert (
        read(code.replace(personas.tolvan.personnummer, personas.other_patient.personnummer), today=NOW.date()).verdict
        == "forged"
    )
    assert read(code[:-1] + ("A" if code[-1] != "A" else "B"), today=NOW.date()).verdict == "forged"
    assert read("nonsense", today=NOW.date()).verdict == "forged"


def test_staff_verify_a_code_and_a_removed_card_is_not_genuine(unit, personas):
    code = _card(unit, personas, NOW.date())
    nurse_elsewhere = staff(personas.nurse)
    page = text(nurse_elsewhere.post("/staff/frikort/verify/", {"code": code}))
    assert "Giltigt frikort" in page and "Tolvan" in page
    entry = AuditEntry.objects.filter(action="fees.frikort.verify").get()
    assert (entry.patient_id, entry.actor_id) == (str(personas.tolvan.pk), str(personas.nurse.pk))
    Frikort.objects.all().delete()
    page = text(nurse_elsewhere.post("/staff/frikort/verify/", {"code": code}))
    assert "Inte ett äkta frikort" in page and "Tolvan" not in page
    assert nurse_elsewhere.post("/staff/frikort/verify/", {"code": ""}).status_code == 400


def test_staff_of_no_unit_may_not_check_or_register():
    loner = Staff.objects.create(hsa_id="SE2321000000-FNONE", given_name="Ensam", family_name="Utanenhet")
    client = staff(loner)
    assert client.get("/staff/frikort/verify/").status_code == 403
    assert client.get("/staff/fees/register/").status_code == 403


def test_registering_a_fee_twice_from_one_form_registers_once_and_bad_input_changes_nothing(unit, personas):
    client = staff(personas.staff_x)
    form = {
        "personnummer": "19121212-1212",
        "unit": str(unit.pk),
        "date_of_care": "2026-11-20",
        "amount": "350,50",
        "provider": "Capio Citykliniken",
        "counts": "on",
        "reason": "Kvitto visat",
        "form_key": "abc123",
    }
    bad = client.post("/staff/fees/register/", {**form, "amount": "-5", "reason": ""})
    assert bad.status_code == 400 and not Fee.objects.exists()
    assert client.post("/staff/fees/register/", {**form, "personnummer": "19121212-1213"}).status_code == 400
    assert client.post("/staff/fees/register/", form).status_code == 302
    assert client.post("/staff/fees/register/", form).status_code == 302
    fee = Fee.objects.get()
    assert (fee.amount_charged, fee.provider, fee.registered_by) == (
        Decimal("350.50"),
        "Capio Citykliniken",
        personas.staff_x,
    )
    other_unit = personas.nurse.memberships.first().unit
    refused = client.post("/staff/fees/register/", {**form, "unit": str(other_unit.pk), "form_key": "other"})
    assert refused.status_code == 400 and Fee.objects.count() == 1


def test_the_confirmation_page_reads_the_fee_without_reading_the_unit_again(unit, slot, personas):
    """The page has the unit with its administration (booking.selectors.unit_booking_online): the
    fee is priced from it, not from the visit type's unit read anew."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = resident(personas.tolvan)
    client.get(f"/bookings/book/{unit.pk}/slot/{slot.pk}/")  # the process keeps the unit from here on
    with CaptureQueriesContext(connection) as queries:
        confirm = text(client.get(f"/bookings/book/{unit.pk}/slot/{slot.pk}/"))
    assert "200 kronor" in confirm
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert 'FROM "organisation_careunit"' not in read and 'FROM "organisation_administration"' not in read
