"""The OIDC callback records logins, and refused logins of people we know, for support.

Over real HTTP against the demo provider, as tests/identity does: tests.helpers.login_as does not
pass the callback, so only these tests prove the records are written where logins happen."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LOA2, LOA3, TOLVAN
from tests.identity.test_oidc_login import choose, finish, refusal_reason
from vardkontakt.identity.models import Patient
from vardkontakt.operations.models import LoginOutcome, LoginRecord, LoginSide

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_login_is_recorded_with_side_and_assurance_level(site, personas):
    assert finish(choose(site, "19121212-1212")).status_code == 302
    record = LoginRecord.objects.get()
    assert (record.patient, record.staff) == (personas.tolvan, None)
    assert (record.side, record.acr, record.outcome, record.reason) == (LoginSide.EID, LOA3, LoginOutcome.SUCCEEDED, "")


def test_a_staff_login_is_recorded_as_siths(site, personas):
    assert finish(choose(site, personas.nurse.hsa_id, side="staff")).status_code == 302
    record = LoginRecord.objects.get()
    assert (record.staff, record.patient, record.side) == (personas.nurse, None, LoginSide.SITHS)


def test_a_refused_login_of_a_known_person_is_recorded_with_the_reason(site, personas):
    assert refusal_reason(finish(choose(site, "19121212-1212", acr=LOA2))) == "acr"
    record = LoginRecord.objects.get()
    assert (record.patient, record.outcome, record.reason, record.acr) == (personas.tolvan, "refused", "acr", LOA2)


def test_a_refused_login_of_someone_unknown_records_and_registers_nobody(site, db):
    assert refusal_reason(finish(choose(site, "19121212-1212", acr=LOA2))) == "acr"
    assert not Patient.objects.filter(personnummer=TOLVAN).exists()
    assert not LoginRecord.objects.exists()


def test_a_refusal_without_a_verified_token_records_nothing(site, personas):
    flow = choose(site, "19121212-1212")
    forged = re.sub(r"state=[^&]+", "state=forged", flow.callback)
    assert refusal_reason(flow.session.get(forged, allow_redirects=False, timeout=10)) == "state"
    assert not LoginRecord.objects.exists()
