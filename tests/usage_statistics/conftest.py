"""Cases and bookings made through the real services at chosen Stockholm times (time-machine), so
every deadline is the one the Swedish calendar gives."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.core.cache import cache

from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Case, Service
from vardkontakt.cases.services import (
    case_close,
    case_create,
    case_reopen,
    case_reply,
    case_withdraw,
    service_activate,
)
from vardkontakt.core.calendar import STOCKHOLM
from vardkontakt.identity.models import Patient, Staff


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """The public page keeps its figures in the cache; every test starts without them."""
    cache.clear()
    yield
    cache.clear()


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


@dataclass
class Desk:
    """Sends and handles cases at one unit, each step at the moment given."""

    patient: Patient
    staff: Staff

    def send(self, service: Service, when: dt.datetime) -> Case:
        with time_machine.travel(when, tick=False):
            return case_create(
                actor=self.patient,
                subject=self.patient,
                service=service,
                answers=[],
                idempotency_key=uuid.uuid4().hex,
            )

    def _fresh(self, case: Case) -> Case:
        case.refresh_from_db()
        return case

    def answer(self, case: Case, when: dt.datetime) -> Case:
        case = self._fresh(case)
        with time_machine.travel(when, tick=False):
            case_reply(case=case, by=self.staff, body="Svar", version=case.version)
        return self._fresh(case)

    def close(self, case: Case, when: dt.datetime, outcome: str = "answered") -> Case:
        case = self._fresh(case)
        with time_machine.travel(when, tick=False):
            case_close(case=case, by=self.staff, outcome=outcome, version=case.version)
        return self._fresh(case)

    def reopen(self, case: Case, when: dt.datetime) -> Case:
        case = self._fresh(case)
        with time_machine.travel(when, tick=False):
            case_reopen(case=case, by=self.staff, version=case.version)
        return self._fresh(case)

    def withdraw(self, case: Case, when: dt.datetime) -> Case:
        case = self._fresh(case)
        with time_machine.travel(when, tick=False):
            case_withdraw(case_id=case.pk, actor=self.patient)
        return self._fresh(case)


@pytest.fixture
def desk(personas, unit_x) -> Desk:
    return Desk(patient=personas.tolvan, staff=personas.staff_x)


@pytest.fixture
def services(unit_x, personas) -> dict[str, Service]:
    return {
        kind: service_activate(unit=unit_x, kind=kind, by=personas.unit_admin)
        for kind in (ServiceKind.ADVICE, ServiceKind.CONTACT_ME)
    }
