"""The region's rules page (issue 15 §2) and the start and end dates of staff's places."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import Client
from django.utils import timezone

from tests.regions.helpers import client_of as client_in
from vardkontakt.access import policy
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.middleware import AUTHENTICATED_AT
from vardkontakt.identity.models import Staff
from vardkontakt.organisation.models import (
    CareUnit,
    Membership,
    MembershipRole,
    Region,
    RegionRole,
    RegionRoleKind,
    UnitKind,
)
from vardkontakt.records.models import RecordRules
from vardkontakt.records.publishing import hidden_units
from vardkontakt.regions.rule_services import rules_initial

pytestmark = pytest.mark.django_db


def client_of(staff: Staff) -> Client:
    return client_in(staff, language="en")


def rules_form(region: Region, **changes: object) -> dict[str, object]:
    values = rules_initial(region)
    form: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                form[name] = "on"
        elif isinstance(value, list):
            form[name] = value
        elif isinstance(value, dt.time):
            form[name] = value.strftime("%H:%M")
        else:
            form[name] = "" if value is None else str(value)
    form.update(changes)
    return form


def test_the_page_shows_each_rule_with_its_default_and_the_laws_bound(personas, region):
    page = client_of(personas.region_admin).get(f"/staff/regions/{region.id}/rules/")
    assert page.status_code == 200
    text = page.content.decode()
    for words in (
        "Default: 13",
        "Default: 18",
        "Föräldrabalken 6:2",
        "Default: 2014-09-01",
        "Default: 80 per cent",
        "Default: 8 weeks",
        "Default: 30 days",
        "Default: 06:00",
        "menprövning",
    ):
        assert words in text, words
    # The kinds the national rules withhold are not offered as a choice: they are withheld always.
    assert f'value="{UnitKind.CHILD_PSYCHIATRY}"' not in text
    assert f'value="{UnitKind.ADULT_PSYCHIATRY}"' in text


def test_the_region_administrator_changes_the_ages_and_it_is_audited(personas, region):
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/rules/"
    response = admin.post(url, rules_form(region, guardian_access_until_age="12", own_record_from_age="16"))
    assert response.status_code == 302
    region.refresh_from_db()
    assert (region.guardian_access_until_age, region.own_record_from_age) == (12, 16)
    entry = AuditEntry.objects.get(action="region.rules_update")
    assert entry.detail == "guardian_access_until_age, own_record_from_age"
    assert policy.age_rules(personas.tolvan) == policy.AgeRules(12, 16)
    # The same form again changes nothing and writes no second entry (a double submit).
    again = admin.post(url, rules_form(region))
    assert again.status_code == 302
    assert AuditEntry.objects.filter(action="region.rules_update").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"guardian_access_until_age": "19"}, "guardian_access_until_age"),
        ({"own_record_from_age": "12"}, "own_record_from_age"),
        ({"guardian_access_until_age": "17", "own_record_from_age": "16"}, "guardian_access_until_age"),
        ({"booking_target_percent": "101"}, "booking_target_percent"),
        ({"booking_target_weeks": "0"}, "booking_target_weeks"),
        ({"onboarding_target_days": "many"}, "onboarding_target_days"),
        ({"support_opens": "22:00", "support_closes": "06:00"}, "support_closes"),
        ({"adult_psychiatry_notes_from": "2010-01-01"}, "adult_psychiatry_notes_from"),
        ({"extra_withheld_kinds": [UnitKind.CHILD_PSYCHIATRY]}, "extra_withheld_kinds"),
        ({"support_email": "not an address"}, "support_email"),
    ],
    ids=[
        "guardian past 18",
        "own record under 13",
        "guardian past own",
        "over 100 %",
        "no weeks",
        "not a number",
        "closes before it opens",
        "psychiatry before notes",
        "a kind the law withholds",
        "bad e-mail",
    ],
)
def test_bad_input_is_refused_and_changes_nothing(personas, region, changes, field):
    before = rules_initial(region)
    admin = client_of(personas.region_admin)
    admin.cookies["vk_language"] = "sv"
    response = admin.post(
        f"/staff/regions/{region.id}/rules/", rules_form(region, **changes), HTTP_ACCEPT_LANGUAGE="sv"
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert "Det finns ett problem" in response.content.decode()  # translated
    region.refresh_from_db()
    assert rules_initial(region) == before
    assert not AuditEntry.objects.filter(action="region.rules_update").exists()


def test_a_change_needs_a_fresh_login(personas, region):
    admin = client_of(personas.region_admin)
    session = admin.session
    session[AUTHENTICATED_AT] = int(time.time()) - 3600
    session.save()
    url = f"/staff/regions/{region.id}/rules/"
    assert admin.get(url).status_code == 200
    assert admin.post(url, rules_form(region, booking_target_percent="70")).status_code == 401
    region.refresh_from_db()
    assert region.booking_target_percent == 80


def test_other_staff_and_other_regions_administrators_do_not_find_the_page(personas, region):
    other = Region.objects.create(name="Region Annan")
    stranger = Staff.objects.create(hsa_id="SE2321000255-P7900", given_name="Ola", family_name="Annan")
    RegionRole.objects.create(region=other, staff=stranger, role=RegionRoleKind.REGION_ADMIN)
    for who in (personas.unit_admin, personas.coordinator, stranger):
        assert client_of(who).get(f"/staff/regions/{region.id}/rules/").status_code == 404


def test_a_further_withheld_kind_hides_that_kind_in_this_region_only(personas, region):
    admin = client_of(personas.region_admin)
    response = admin.post(
        f"/staff/regions/{region.id}/rules/", rules_form(region, extra_withheld_kinds=[UnitKind.PHYSIOTHERAPY])
    )
    assert response.status_code == 302
    assert RecordRules.objects.get(region=region).extra_withheld_kinds == [UnitKind.PHYSIOTHERAPY]
    condition = hidden_units(personas.tolvan, timezone.now())
    hidden = set(CareUnit.objects.filter(condition).values_list("kind", flat=True))
    assert CareUnit.objects.filter(kind=UnitKind.PHYSIOTHERAPY).exists()
    assert UnitKind.PHYSIOTHERAPY in hidden
    assert UnitKind.PRIMARY_CARE not in hidden


def test_the_support_page_shows_the_regions_hours(personas, region):
    region.support_phone, region.support_opens, region.support_closes = "0771-11 11 11", dt.time(7), dt.time(21, 30)
    region.save()
    page = Client().get("/support/", HTTP_ACCEPT_LANGUAGE="en")
    assert "07–21:30" in page.content.decode()


# --- start and end dates of places ---------------------------------------------------------------


def test_a_membership_not_yet_started_or_already_ended_gives_no_access(personas, unit_x):
    today = timezone.localdate()
    nurse = personas.staff_x
    membership = Membership.objects.get(staff=nurse, unit=unit_x)
    assert policy.is_member(nurse, unit_x)
    membership.starts_on = today + dt.timedelta(days=1)
    membership.save()
    assert not policy.is_member(nurse, unit_x)
    membership.starts_on, membership.ends_on = today - dt.timedelta(days=10), today
    membership.save()
    assert policy.is_member(nurse, unit_x)  # the last day still holds
    membership.ends_on = today - dt.timedelta(days=1)
    membership.save()
    assert not policy.is_member(nurse, unit_x)
    assert client_of(nurse).get(f"/staff/units/{unit_x.id}/inbox/").status_code in (403, 404)


def test_a_region_role_counts_only_between_its_dates(personas, region):
    today = timezone.localdate()
    role = RegionRole.objects.get(staff=personas.region_admin, role=RegionRoleKind.REGION_ADMIN)
    role.ends_on = today - dt.timedelta(days=1)
    role.save()
    assert not policy.is_region_admin(personas.region_admin, region)
    assert client_of(personas.region_admin).get(f"/staff/regions/{region.id}/").status_code == 404
    role.ends_on, role.starts_on = None, today + dt.timedelta(days=3)
    role.save()
    assert not policy.is_region_admin(personas.region_admin, region)
    role.starts_on = today
    role.save()
    assert policy.is_region_admin(personas.region_admin, region)


def test_the_staff_page_sets_dates_on_a_membership_and_a_role(personas, region, unit_x):
    today = timezone.localdate()
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/staff/{personas.staff_x.id}/"
    start, end = today + dt.timedelta(days=7), today + dt.timedelta(days=60)
    response = admin.post(
        url,
        {
            "action": "membership",
            "membership-unit": str(unit_x.pk),
            "membership-role": MembershipRole.STAFF,
            "membership-starts_on": start.isoformat(),
            "membership-ends_on": end.isoformat(),
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(staff=personas.staff_x, unit=unit_x)
    assert (membership.starts_on, membership.ends_on) == (start, end)
    assert not policy.is_member(personas.staff_x, unit_x)  # not started yet
    page = admin.get(url).content.decode()
    assert "Not started" in page
    response = admin.post(
        url,
        {
            "action": "role",
            "role-role": RegionRoleKind.SUPPORT,
            "role-ends_on": (today + dt.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert RegionRole.objects.get(staff=personas.staff_x, role=RegionRoleKind.SUPPORT).ends_on == today + dt.timedelta(
        days=5
    )
    assert policy.is_support(personas.staff_x)


def test_an_end_before_the_start_is_refused(personas, region, unit_x):
    today = timezone.localdate()
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/staff/{personas.staff_x.id}/"
    before = Membership.objects.get(staff=personas.staff_x, unit=unit_x)
    response = admin.post(
        url,
        {
            "action": "membership",
            "membership-unit": str(unit_x.pk),
            "membership-role": MembershipRole.UNIT_ADMIN,
            "membership-starts_on": today.isoformat(),
            "membership-ends_on": (today - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "The last day cannot come before the first." in response.content.decode()
    after = Membership.objects.get(staff=personas.staff_x, unit=unit_x)
    assert (after.role, after.starts_on, after.ends_on) == (before.role, None, None)


# --- the rules at work -----------------------------------------------------------------------------


def test_the_booking_and_onboarding_targets_are_read_from_the_units_region(personas, region, unit_x):
    from fractions import Fraction

    from vardkontakt.booking.coverage import unit_coverage
    from vardkontakt.organisation.models import Onboarding
    from vardkontakt.organisation.progress import progress

    region.booking_target_percent, region.booking_target_weeks, region.onboarding_target_days = 50, 12, 10
    region.save()
    unit_x.refresh_from_db()
    weeks = unit_coverage(unit_x)
    assert len(weeks) == 12 and weeks[0].target == Fraction(1, 2)
    today = timezone.localdate()
    onboarding = Onboarding(
        administration=unit_x.administration,
        unit_name="Ny",
        hsa_id="SE2321000255-E7500",
        kind=UnitKind.PRIMARY_CARE,
        contact_name="A",
        contact_email="a@example.org",
        interest_on=today - dt.timedelta(days=11),
    )
    assert progress(onboarding, today).late
    onboarding.interest_on = today - dt.timedelta(days=10)
    assert not progress(onboarding, today).late


def test_a_new_unit_starts_flagged_for_harm_assessment_when_the_rules_say_so(personas, region):
    admin = client_of(personas.region_admin)
    url = f"/staff/regions/{region.id}/units/new/"
    assert admin.get(url).context["form"]["needs_harm_assessment"].value() is False
    RecordRules.objects.update_or_create(region=region, defaults={"harm_assessment_for_new_units": True})
    assert admin.get(url).context["form"]["needs_harm_assessment"].value() is True
