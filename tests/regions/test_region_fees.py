"""The region administrator's fees page (issue 19 §1): the schedule in force and to come, a change
from a later day, the region's fee rules within the law's bounds."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tests.regions.helpers import client_of as client_in
from vardkontakt.access.models import AuditEntry
from vardkontakt.fees import rules
from vardkontakt.fees.models import FeeKind, FeeSchedule
from vardkontakt.identity.middleware import AUTHENTICATED_AT
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import Region, RegionRole, RegionRoleKind, UnitKind

pytestmark = pytest.mark.django_db


def client_of(staff: Staff) -> Client:
    return client_in(staff, language="en")


def url_of(region: Region) -> str:
    return f"/staff/regions/{region.id}/fees/"


def a_change(**changes: str | None) -> dict[str, str]:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    form: dict[str, str | None] = {
        "action": "change",
        "kind": FeeKind.DOCTOR,
        "unit_kind": UnitKind.SPECIALIST_CLINIC,
        "amount": "350",
        "counts": "on",
        "effective_from": tomorrow.isoformat(),
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def the_rules(**changes: str) -> dict[str, str]:
    form = {
        "action": "rules",
        "ceiling": "1400",
        "free_under_age": "20",
        "free_from_age": "85",
        "missed_visit_hours": "24",
        "missed_visit_fee_age_exempt_under": "20",
    }
    form.update(changes)
    return form


def stored(region: Region) -> list[tuple[object, ...]]:
    """The region's fee schedule and rules as they stand (the demo region has both)."""
    rows = FeeSchedule.objects.filter(region=region).order_by("kind", "unit_kind", "effective_from")
    fee_rules = rules.rules_of(region)
    return [
        *rows.values_list("kind", "unit_kind", "amount", "counts_toward_ceiling", "effective_from"),
        (fee_rules.ceiling, fee_rules.free_under_age, fee_rules.free_from_age, fee_rules.missed_visit_hours),
    ]


def test_the_demo_region_has_a_fee_schedule_in_force(personas, region):
    page = client_of(personas.region_admin).get(url_of(region))
    in_force = {(row.kind, row.unit_kind): row for row in page.context["schedule"].in_force}
    assert in_force[FeeKind.DOCTOR, ""].amount == Decimal(200)
    assert in_force[FeeKind.DOCTOR, UnitKind.SPECIALIST_CLINIC].amount == Decimal(300)
    assert in_force[FeeKind.OTHER_PROFESSION, ""].amount == Decimal(100)
    assert not in_force[FeeKind.MISSED_VISIT, ""].counts_toward_ceiling
    assert page.context["schedule"].coming == []
    assert rules.rules_of(region).ceiling == Decimal(1400)


def test_the_page_shows_the_schedule_in_force_the_changes_to_come_and_each_rules_default_and_bound(personas, region):
    today = timezone.localdate()
    FeeSchedule.objects.filter(region=region).delete()  # a region whose doctor's fee has changed twice
    FeeSchedule.objects.create(
        region=region, kind=FeeKind.DOCTOR, amount=Decimal(150), effective_from=today - dt.timedelta(days=400)
    )
    FeeSchedule.objects.create(
        region=region, kind=FeeKind.DOCTOR, amount=Decimal(200), effective_from=today - dt.timedelta(days=30)
    )
    FeeSchedule.objects.create(
        region=region, kind=FeeKind.DOCTOR, amount=Decimal(250), effective_from=today + dt.timedelta(days=10)
    )
    page = client_of(personas.region_admin).get(url_of(region))
    assert page.status_code == 200
    schedule = page.context["schedule"]
    assert [row.amount for row in schedule.in_force] == [Decimal(200)]  # the older row is no longer in force
    assert [row.amount for row in schedule.coming] == [Decimal(250)]
    text = page.content.decode()
    assert "200 kronor" in text and "250 kronor" in text and "150 kronor" not in text
    assert (today + dt.timedelta(days=10)).isoformat() in text
    for words in ("Default: 1 400 kronor", "17 kap. 6 §", "Default: 20", "Default: 85", "Default: 24 hours"):
        assert words in text, words
    overview = client_of(personas.region_admin).get(f"/staff/regions/{region.id}/")
    assert url_of(region) in overview.content.decode()


def test_the_region_administrator_adds_a_fee_from_tomorrow_and_it_is_audited_once(personas, region):
    admin = client_of(personas.region_admin)
    response = admin.post(url_of(region), a_change())
    assert response.status_code == 302
    row = FeeSchedule.objects.get(region=region, effective_from__gt=timezone.localdate())
    assert (row.kind, row.unit_kind, row.amount, row.counts_toward_ceiling) == (
        FeeKind.DOCTOR,
        UnitKind.SPECIALIST_CLINIC,
        Decimal("350.00"),
        True,
    )
    assert row.effective_from == timezone.localdate() + dt.timedelta(days=1)
    entry = AuditEntry.objects.get(action="fees.schedule.set")
    assert entry.actor_id == str(personas.region_admin.pk)
    assert "350.00" in entry.detail
    page = admin.get(url_of(region))
    assert [r.pk for r in page.context["schedule"].coming] == [row.pk]
    assert "The fee change is saved." in page.content.decode()
    # The same form sent again (a double click) stores and logs nothing more.
    assert admin.post(url_of(region), a_change()).status_code == 302
    assert FeeSchedule.objects.filter(region=region, effective_from__gt=timezone.localdate()).count() == 1
    assert AuditEntry.objects.filter(action="fees.schedule.set").count() == 1
    # A fee that does not count (the box left empty), for every kind of unit.
    admin.post(url_of(region), a_change(kind=FeeKind.MISSED_VISIT, unit_kind="", amount="400", counts=None))
    missed = FeeSchedule.objects.get(region=region, kind=FeeKind.MISSED_VISIT, effective_from__gt=timezone.localdate())
    assert (missed.unit_kind, missed.amount, missed.counts_toward_ceiling) == ("", Decimal(400), False)


def test_the_region_administrator_changes_the_fee_rules_and_it_is_audited(personas, region):
    admin = client_of(personas.region_admin)
    response = admin.post(url_of(region), the_rules(ceiling="1200", free_under_age="18", missed_visit_hours="48"))
    assert response.status_code == 302
    stored = rules.rules_of(region)
    assert (stored.ceiling, stored.free_under_age, stored.free_from_age, stored.missed_visit_hours) == (
        Decimal(1200),
        18,
        85,
        48,
    )
    assert rules.ceiling_of(personas.tolvan) == Decimal(1200)
    entry = AuditEntry.objects.get(action="fees.rules.update")
    assert "ceiling" in entry.detail and "missed_visit_hours" in entry.detail
    # The same again: nothing changed, no second entry.
    assert (
        admin.post(url_of(region), the_rules(ceiling="1200", free_under_age="18", missed_visit_hours="48")).status_code
        == 302
    )
    assert AuditEntry.objects.filter(action="fees.rules.update").count() == 1


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (lambda: a_change(amount="-5"), "amount"),
        (lambda: a_change(amount="tvåhundra"), "amount"),
        (lambda: a_change(amount=""), "amount"),
        (lambda: a_change(effective_from=timezone.localdate().isoformat()), "effective_from"),
        (lambda: a_change(effective_from=(timezone.localdate() - dt.timedelta(days=1)).isoformat()), "effective_from"),
        (lambda: a_change(kind="massage"), "kind"),
        (lambda: the_rules(ceiling="1400.01"), "ceiling"),
        (lambda: the_rules(ceiling="1500"), "ceiling"),
        (lambda: the_rules(ceiling="-1"), "ceiling"),
        (lambda: the_rules(free_from_age="90"), "free_from_age"),
        (lambda: the_rules(free_from_age="0"), "free_from_age"),
        (lambda: the_rules(free_under_age="85"), "free_under_age"),
        (lambda: the_rules(free_under_age="70", free_from_age="65"), "free_under_age"),
        (lambda: the_rules(missed_visit_hours="0"), "missed_visit_hours"),
        (lambda: the_rules(missed_visit_hours="ett dygn"), "missed_visit_hours"),
    ],
    ids=[
        "negative amount",
        "amount not a number",
        "no amount",
        "from today",
        "from yesterday",
        "no such fee kind",
        "ceiling an öre above the law",
        "ceiling 1500",
        "negative ceiling",
        "free only from 90",
        "never free by age",
        "free under 85",
        "free under past free from",
        "no hours",
        "hours not a number",
    ],
)
def test_bad_input_is_refused_in_swedish_and_changes_nothing(personas, region, form, field):
    before = stored(region)
    admin = client_in(personas.region_admin, language="sv")
    response = admin.post(url_of(region), form(), HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400
    which = "change_form" if field in ("amount", "effective_from", "kind") else "rules_form"
    assert response.context[which].errors[field]
    assert "Det finns ett problem" in response.content.decode()
    assert stored(region) == before
    assert not AuditEntry.objects.filter(action__in=["fees.schedule.set", "fees.rules.update"]).exists()


def test_a_date_error_is_in_swedish(personas, region):
    admin = client_in(personas.region_admin, language="sv")
    today = timezone.localdate().isoformat()
    response = admin.post(url_of(region), a_change(effective_from=today), HTTP_ACCEPT_LANGUAGE="sv")
    assert "aldrig bakåt" in response.content.decode()


def test_a_change_needs_a_fresh_login(personas, region):
    before = stored(region)
    admin = client_of(personas.region_admin)
    session = admin.session
    session[AUTHENTICATED_AT] = int(time.time()) - 3600
    session.save()
    assert admin.get(url_of(region)).status_code == 200
    assert admin.post(url_of(region), a_change()).status_code == 401
    assert admin.post(url_of(region), the_rules(ceiling="1000")).status_code == 401
    assert stored(region) == before


def test_other_staff_and_other_regions_administrators_do_not_find_the_page(personas, region):
    other = Region.objects.create(name="Region Annan")
    stranger = Staff.objects.create(hsa_id="SE2321000255-P7901", given_name="Ola", family_name="Annan")
    RegionRole.objects.create(region=other, staff=stranger, role=RegionRoleKind.REGION_ADMIN)
    before = stored(region)
    for who in (personas.unit_admin, personas.coordinator, personas.staff_x, stranger):
        client = client_of(who)
        assert client.get(url_of(region)).status_code == 404
        assert client.post(url_of(region), a_change()).status_code == 404
        assert client.post(url_of(region), the_rules(ceiling="1000")).status_code == 404
    assert stored(region) == before
    # Their own region's page is theirs, and a change there leaves this region's fees alone.
    assert client_of(stranger).post(url_of(other), a_change()).status_code == 302
    assert FeeSchedule.objects.filter(region=other).count() == 1
    assert stored(region) == before
