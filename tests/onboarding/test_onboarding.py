"""Onboarding a unit (SPEC §2), step by step, as the unit and its coordinator meet it."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.cases.selectors import units_to_write_to
from vardkontakt.cases.services import service_activate
from vardkontakt.identity.models import Staff, User
from vardkontakt.notifications.models import Notification, NotificationKind
from vardkontakt.onboarding import services as steps
from vardkontakt.organisation.models import (
    Administration,
    AdministratorTraining,
    CareUnit,
    Membership,
    MembershipRole,
    Onboarding,
)

pytestmark = pytest.mark.django_db
NEW_HSA = "SE2321000255-E9001"


def staff_client(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


@pytest.fixture
def administration(personas) -> Administration:
    found = personas.coordinator.coordinated_administrations.first()
    assert found is not None
    return found


def interest(client: Client, administration: Administration, **changes: str):
    data = {
        "administration": str(administration.pk),
        "unit_name": "Vårdcentralen Nyby",
        "hsa_id": NEW_HSA.lower(),
        "kind": "primary_care",
        "contact_name": "Vera Verksamhetschef",
        "contact_email": "vera@nyby.example",
        "contact_phone": "040-11 22 33",
        "message": "Vi vill börja i januari.",
        **changes,
    }
    return client.post("/units/interest/", data)


def test_a_unit_registers_its_interest_once(personas, administration):
    answer = interest(Client(), administration)
    assert answer.status_code == 200 and "Er mottagnings intresse är registrerat" in answer.text
    onboarding = Onboarding.objects.get()
    assert (onboarding.hsa_id, onboarding.interest_on) == (NEW_HSA, timezone.localdate())
    assert Notification.objects.filter(
        recipient_staff=personas.coordinator, kind=NotificationKind.ONBOARDING_INTEREST
    ).exists()
    again = interest(Client(), administration)
    assert again.status_code == 400 and "redan registrerat" in again.text and Onboarding.objects.count() == 1
    live = interest(Client(), administration, hsa_id=CareUnit.objects.first().hsa_id)  # type: ignore[union-attr]
    assert live.status_code == 400 and "använder redan e-tjänsterna" in live.text
    bad = interest(Client(), administration, hsa_id="nonsense", contact_email="not-an-address")
    assert bad.status_code == 400 and Onboarding.objects.count() == 1


def test_the_coordinator_takes_the_unit_live_step_by_step(personas, administration):
    interest(Client(), administration)
    onboarding = Onboarding.objects.get()
    coordinator = staff_client(personas.coordinator)
    url = f"/staff/onboarding/{onboarding.pk}/"

    too_early = coordinator.post(url, {"action": "activate"})
    assert too_early.status_code == 400 and "informationsmötet först" in too_early.text
    # The interest was registered today; the meeting follows it and the start follows the meeting.
    interest_on = onboarding.interest_on
    meeting_on, start_on = interest_on + dt.timedelta(days=5), interest_on + dt.timedelta(days=40)
    backwards = coordinator.post(
        url, {"action": "meeting", "meeting_on": start_on.isoformat(), "agreed_start_on": meeting_on.isoformat()}
    )
    assert backwards.status_code == 400
    before_interest = coordinator.post(
        url,
        {
            "action": "meeting",
            "meeting_on": (interest_on - dt.timedelta(days=1)).isoformat(),
            "agreed_start_on": start_on.isoformat(),
        },
    )
    assert before_interest.status_code == 400
    onboarding.refresh_from_db()
    assert onboarding.meeting_on is None and onboarding.agreed_start_on is None
    met = coordinator.post(
        url, {"action": "meeting", "meeting_on": meeting_on.isoformat(), "agreed_start_on": start_on.isoformat()}
    )
    assert met.status_code in (200, 302)
    onboarding.refresh_from_db()
    assert (onboarding.meeting_on, onboarding.agreed_start_on) == (meeting_on, start_on)
    activated = coordinator.post(url, {"action": "activate"})
    assert activated.status_code in (200, 302)
    onboarding.refresh_from_db()
    unit = onboarding.unit
    assert unit is not None and not unit.live and onboarding.activated_on == timezone.localdate()
    assert (
        unit not in units_to_write_to(reader=personas.tolvan, subject=personas.tolvan, query="Nyby")[1]
    )  # out of residents' sight

    unknown = coordinator.post(url, {"action": "appoint", "hsa_id": "SE2321000255-P9999"})
    assert unknown.status_code == 400
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert (
        coordinator.post(url, {"action": "appoint", "hsa_id": personas.nurse.hsa_id, "trained_on": future}).status_code
        == 400
    )
    for member in (personas.nurse, personas.nurse_elsewhere):
        coordinator.post(url, {"action": "appoint", "hsa_id": member.hsa_id})
    third = coordinator.post(url, {"action": "appoint", "hsa_id": personas.staff_x.hsa_id})
    assert third.status_code == 400 and "en eller två" in third.text
    assert Membership.objects.get(staff=personas.nurse, unit=unit).role == MembershipRole.UNIT_ADMIN
    training = onboarding.administrators.get(staff=personas.nurse)
    coordinator.post(
        url, {"action": "training", "training": str(training.pk), "trained_on": timezone.localdate().isoformat()}
    )
    training.refresh_from_db()
    assert training.trained_on == timezone.localdate()

    refused = coordinator.post(url, {"action": "live"})
    assert refused.status_code == 400 and "Ingen tjänst är aktiv" in refused.text and "telefon" in refused.text
    CareUnit.objects.filter(pk=unit.pk).update(
        street_address="Nybyvägen 1",
        postal_code="21100",
        city="Malmö",
        phone="040-11 22 33",
        opening_hours="Mån–fre 8–17",
    )
    service_activate(unit=CareUnit.objects.get(pk=unit.pk), kind="advice", by=personas.nurse)
    assert coordinator.post(url, {"action": "live"}).status_code == 302
    onboarding.refresh_from_db()
    assert onboarding.live_on == timezone.localdate() and CareUnit.objects.get(pk=unit.pk).live
    assert (
        CareUnit.objects.get(pk=unit.pk)
        in units_to_write_to(reader=personas.tolvan, subject=personas.tolvan, query="Nyby")[1]
    )
    actions = set(AuditEntry.objects.filter(action__startswith="onboarding.").values_list("action", flat=True))
    assert actions == {
        "onboarding.meeting",
        "onboarding.activate",
        "onboarding.appoint",
        "onboarding.training",
        "onboarding.live",
    }


def test_the_list_shows_days_and_marks_units_past_a_month(personas, administration):
    interest(Client(), administration)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        page = staff_client(personas.coordinator).get("/staff/onboarding/").text
    assert "Vårdcentralen Nyby" in page and "31" in page and "förbi målet" in page


def test_only_the_administrations_coordinator_sees_it(personas, administration):
    interest(Client(), administration)
    onboarding = Onboarding.objects.get()
    assert staff_client(personas.staff_x).get("/staff/onboarding/").status_code == 403
    assert staff_client(personas.staff_x).get(f"/staff/onboarding/{onboarding.pk}/").status_code == 403
    Onboarding.objects.filter(pk=onboarding.pk).update(
        administration=Administration.objects.exclude(pk=administration.pk).first()
    )
    assert staff_client(personas.coordinator).get(f"/staff/onboarding/{onboarding.pk}/").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: the PostgreSQL case")
def test_two_coordinators_appointing_at_once_never_make_three_administrators(personas, administration, monkeypatch):
    """One administrator appointed; two more appointed at the same moment: one is refused. The first
    appointment is held just after its insert, uncommitted, while the second one runs."""
    interest(Client(), administration)
    onboarding = Onboarding.objects.get()
    steps.meeting_record(
        onboarding=onboarding,
        by=personas.coordinator,
        meeting_on=onboarding.interest_on,
        agreed_start_on=onboarding.interest_on,
    )
    steps.onboarding_activate(onboarding=onboarding, by=personas.coordinator)
    steps.administrator_appoint(onboarding=onboarding, by=personas.coordinator, staff=personas.nurse, trained_on=None)

    first_inserted, second_finished = threading.Event(), threading.Event()
    create = AdministratorTraining.objects.create

    def create_then_hold(**fields):
        training = create(**fields)
        if threading.current_thread().name == "first":
            first_inserted.set()
            second_finished.wait(timeout=2)  # with the lock the second waits for this commit instead
        return training

    monkeypatch.setattr(AdministratorTraining.objects, "create", create_then_hold)
    outcomes: dict[str, str] = {}

    def appoint(staff: Staff) -> None:
        name = threading.current_thread().name
        try:
            if name == "second":
                assert first_inserted.wait(timeout=10)
            fresh = Onboarding.objects.select_related("unit").get(pk=onboarding.pk)
            steps.administrator_appoint(onboarding=fresh, by=personas.coordinator, staff=staff, trained_on=None)
            outcomes[name] = "appointed"
        except ValidationError as error:
            outcomes[name] = error.code or ""
        finally:
            if name == "second":
                second_finished.set()
            connection.close()

    threads = [
        threading.Thread(target=appoint, args=(personas.nurse_elsewhere,), name="first"),
        threading.Thread(target=appoint, args=(personas.staff_x,), name="second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"first": "appointed", "second": "too_many"}
    assert onboarding.administrators.count() == 2
    assert not Membership.objects.filter(unit=onboarding.unit, staff=personas.staff_x).exists()
