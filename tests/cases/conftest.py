from __future__ import annotations

import uuid

import pytest

from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Case, Service
from vardkontakt.cases.questions import answers_for_storage
from vardkontakt.cases.services import case_create, service_activate
from vardkontakt.organisation.models import CareUnit


@pytest.fixture
def unit_x(personas) -> CareUnit:
    """Vårdcentralen Lindängen: Tolvan is listed there; staff_x is a member, unit_admin its head."""
    return personas.unit_admin.memberships.get().unit


@pytest.fixture
def advice(unit_x, personas) -> Service:
    return service_activate(unit=unit_x, kind=ServiceKind.ADVICE, by=personas.unit_admin)


@pytest.fixture
def tolvans_case(advice, personas) -> Case:
    answers = answers_for_storage(advice.questions, {"what": "Jag har haft ont i halsen i en vecka."})
    return case_create(
        actor=personas.tolvan,
        subject=personas.tolvan,
        service=advice,
        answers=answers,
        idempotency_key=uuid.uuid4().hex,
    )
