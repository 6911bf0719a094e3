"""The access rules at their edges: birthdays to the second, blocks, protected identity, proxies."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from vardkontakt.access import policy
from vardkontakt.access.models import Guardianship, Proxy, ProxyStatus, RecordSeal
from vardkontakt.access.services import proxy_revoke, record_seal
from vardkontakt.demo.demo_data import personnummer
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import Region

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=STOCKHOLM)


@pytest.fixture
def family(db):
    """A guardian and a child born 2014-03-30 (the 13th birthday, 2027-03-30, is after a DST night)."""
    guardian = Patient.objects.create(
        personnummer=personnummer(dt.date(1984, 5, 5), 111), given_name="G", family_name="X"
    )
    child = Patient.objects.create(
        personnummer=personnummer(dt.date(2014, 3, 30), 222), given_name="C", family_name="X"
    )
    Guardianship.objects.create(guardian=guardian, child=child, imported_at=timezone.now())
    return guardian, child


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (local(2027, 3, 29, 23, 59, 59), True),  # one second before the 13th birthday
        (local(2027, 3, 30, 0, 0, 0), False),  # the birthday begins in Sweden
        (local(2027, 3, 30, 0, 0, 1), False),
    ],
)
def test_a_guardian_acts_until_the_13th_birthday_to_the_second(family, moment, allowed):
    guardian, child = family
    with time_machine.travel(moment, tick=False):
        assert policy.can_act_for(guardian, child, policy.Scope.CASES) is allowed
        assert policy.can_read_record(guardian, child) is allowed
        assert (child in [r.subject for r in policy.representations(guardian)]) is allowed


def test_the_birthday_counts_in_swedish_time_not_utc(family):
    guardian, child = family
    # 2027-03-29 22:30 UTC is already 2027-03-30 00:30 in Stockholm (summer time, UTC+2).
    with time_machine.travel(dt.datetime(2027, 3, 29, 22, 30, tzinfo=dt.UTC), tick=False):
        assert not policy.can_act_for(guardian, child, policy.Scope.CASES)


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [(local(2032, 3, 29, 23, 59, 59), False), (local(2032, 3, 30, 0, 0, 0), True), (local(2032, 3, 30, 0, 0, 1), True)],
)
def test_a_person_reads_their_own_record_from_18(family, moment, allowed):
    _, child = family
    with time_machine.travel(moment, tick=False):
        assert policy.can_read_record(child, child) is allowed


def test_between_13_and_18_neither_guardian_nor_child_reads_the_record(family):
    guardian, child = family
    with time_machine.travel(local(2029, 6, 1, 12), tick=False):
        assert not policy.can_read_record(guardian, child)
        assert not policy.can_read_record(child, child)


def test_the_ages_are_region_settings(family):
    _guardian, child = family
    Region.objects.create(name="Region Test", guardian_access_until_age=13, own_record_from_age=16)
    with time_machine.travel(local(2030, 3, 30, 0, 0, 1), tick=False):
        assert policy.can_read_record(child, child)  # 16 today
    with time_machine.travel(local(2030, 3, 29, 23, 59, 59), tick=False):
        assert not policy.can_read_record(child, child)


def test_a_leap_day_child_turns_13_on_1_march_in_a_common_year(db):
    guardian = Patient.objects.create(
        personnummer=personnummer(dt.date(1980, 1, 1), 111), given_name="G", family_name="Y"
    )
    child = Patient.objects.create(
        personnummer=personnummer(dt.date(2012, 2, 29), 222), given_name="C", family_name="Y"
    )
    Guardianship.objects.create(guardian=guardian, child=child, imported_at=timezone.now())
    with time_machine.travel(local(2025, 2, 28, 23, 59, 59), tick=False):
        assert policy.can_act_for(guardian, child, policy.Scope.CASES)
    with time_machine.travel(local(2025, 3, 1, 0, 0, 0), tick=False):
        assert not policy.can_act_for(guardian, child, policy.Scope.CASES)


def test_a_blocked_guardian_cannot_act(personas):
    assert policy.representation(personas.blocked_guardian, personas.blocked_child) is None
    assert not policy.can_read_record(personas.blocked_guardian, personas.blocked_child)


def test_a_child_with_protected_identity_gets_no_guardian_proxy(personas):
    assert policy.representation(personas.protected_guardian, personas.protected_child) is None
    subjects = [r.subject for r in policy.representations(personas.protected_guardian)]
    assert subjects == [personas.protected_guardian]


def test_an_ended_guardianship_stops_working(personas):
    Guardianship.objects.filter(guardian=personas.guardian, child=personas.child_9).update(ended_at=timezone.now())
    assert policy.representation(personas.guardian, personas.child_9) is None


def test_the_guardian_of_a_9_year_old_but_not_of_a_14_year_old(personas):
    subjects = [r.subject for r in policy.representations(personas.guardian)]
    assert personas.child_9 in subjects
    assert personas.child_14 not in subjects


def test_a_guardian_cannot_touch_the_childs_own_account(personas):
    found = policy.representation(personas.guardian, personas.child_9)
    assert found is not None
    assert found.allows(policy.Scope.CASES)
    assert not found.allows(policy.Scope.OWN_ACCOUNT)


def test_a_proxy_acts_within_its_scopes_only(personas):
    Proxy.objects.filter(principal=personas.principal, agent=personas.adult_proxy).update(
        scope_record=False, scope_bookings=False
    )
    assert policy.can_act_for(personas.adult_proxy, personas.principal, policy.Scope.CASES)
    assert not policy.can_act_for(personas.adult_proxy, personas.principal, policy.Scope.BOOKINGS)
    assert not policy.can_read_record(personas.adult_proxy, personas.principal)
    assert not policy.can_act_for(personas.adult_proxy, personas.principal, policy.Scope.OWN_ACCOUNT)


def test_a_revoked_proxy_acts_for_nobody(personas):
    assert policy.representation(personas.revoked_proxy, personas.principal) is None


def test_revocation_takes_effect_immediately(personas):
    assert policy.can_read_record(personas.adult_proxy, personas.principal)
    proxy = Proxy.objects.get(principal=personas.principal, agent=personas.adult_proxy, status=ProxyStatus.ACTIVE)
    proxy_revoke(proxy=proxy, by=personas.principal)
    assert not policy.can_read_record(personas.adult_proxy, personas.principal)


def test_a_proxy_expires_at_the_end_of_its_last_day(personas):
    proxy = Proxy.objects.get(principal=personas.principal, agent=personas.adult_proxy, status=ProxyStatus.ACTIVE)
    proxy.expires_on = dt.date(2027, 1, 31)
    proxy.save(update_fields=["expires_on"])
    with time_machine.travel(local(2027, 1, 31, 23, 59, 59), tick=False):
        assert policy.can_act_for(personas.adult_proxy, personas.principal, policy.Scope.CASES)
    with time_machine.travel(local(2027, 2, 1, 0, 0, 0), tick=False):
        assert not policy.can_act_for(personas.adult_proxy, personas.principal, policy.Scope.CASES)


def test_an_invitation_is_not_yet_a_proxy(personas):
    Proxy.objects.create(
        principal=personas.tolvan,
        agent=personas.other_patient,
        scope_cases=True,
        invited_at=timezone.now(),
        idempotency_key="k",
    )
    assert policy.representation(personas.other_patient, personas.tolvan) is None


def test_the_seal_closes_the_record_to_everyone_at_once(personas):
    assert policy.can_read_record(personas.adult_proxy, personas.principal)
    assert policy.can_read_record(personas.principal, personas.principal)
    record_seal(patient=personas.principal)
    assert not policy.can_read_record(personas.adult_proxy, personas.principal)
    assert not policy.can_read_record(personas.principal, personas.principal)
    assert RecordSeal.objects.filter(patient=personas.principal, reopened_at__isnull=True).count() == 1


def test_the_seal_also_closes_a_young_childs_record_to_the_guardian(personas):
    assert policy.can_read_record(personas.guardian, personas.child_9)
    record_seal(patient=personas.child_9)
    assert not policy.can_read_record(personas.guardian, personas.child_9)


def test_nobody_acts_for_a_stranger(personas):
    assert policy.representation(personas.tolvan, personas.other_patient) is None
    assert not policy.can_read_record(personas.tolvan, personas.other_patient)


def test_staff_see_patients_of_their_own_units_only(personas):
    assert policy.staff_may_see_patient(personas.staff_x, personas.tolvan)
    assert not policy.staff_may_see_patient(personas.nurse_elsewhere, personas.tolvan)


def test_only_archivists_reopen_and_only_unit_heads_review_logs(personas):
    unit = personas.unit_admin.memberships.get().unit
    assert policy.is_archivist(personas.archivist)
    assert not policy.is_archivist(personas.unit_admin)
    assert policy.may_review_unit_log(personas.unit_admin, unit)
    assert not policy.may_review_unit_log(personas.staff_x, unit)
