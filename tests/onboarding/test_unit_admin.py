"""Unit administration (issue 7 §2): contact details, other opening hours, staff and roles, news."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.models import Patient, Staff, User
from vardkontakt.organisation.models import CareUnit, Membership, MembershipRole, OpeningException, UnitNews

pytestmark = pytest.mark.django_db


def staff_client(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


@pytest.fixture
def unit(personas) -> CareUnit:
    return personas.unit_admin.memberships.get().unit


def url(unit: CareUnit) -> str:
    return f"/staff/units/{unit.pk}/administration/"


def test_only_the_units_administrator_gets_in(personas, unit):
    assert staff_client(personas.unit_admin).get(url(unit)).status_code == 200
    assert staff_client(personas.staff_x).get(url(unit)).status_code == 403  # a member, not its administrator
    assert staff_client(personas.nurse).get(url(unit)).status_code == 404  # another unit's staff


def test_contact_details_are_checked_and_saved(personas, unit):
    admin = staff_client(personas.unit_admin)
    fields = {
        "street_address": "Lindängsvägen 14",
        "postal_code": "21461",
        "city": "Malmö",
        "phone": "040-623 10 01",
        "opening_hours": "Mån–fre 8–17",
        "action": "contact",
    }
    bad = admin.post(url(unit), {**fields, "website": "not a link"})
    assert bad.status_code == 400 and CareUnit.objects.get(pk=unit.pk).phone == "040-623 10 00"
    assert admin.post(url(unit), {**fields, "website": "https://lindangen.example"}).status_code == 302
    assert CareUnit.objects.get(pk=unit.pk).phone == "040-623 10 01"
    assert AuditEntry.objects.filter(action="unit.contact", unit_id=str(unit.pk)).exists()


def test_other_opening_hours_reach_the_residents_start_page(personas, unit):
    admin = staff_client(personas.unit_admin)
    soon = timezone.localdate() + dt.timedelta(days=5)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert (
        admin.post(url(unit), {"action": "exception_add", "day": yesterday.isoformat(), "hours": "Stängt"}).status_code
        == 400
    )
    assert (
        admin.post(url(unit), {"action": "exception_add", "day": soon.isoformat(), "hours": "Stängt"}).status_code
        == 302
    )
    again = admin.post(url(unit), {"action": "exception_add", "day": soon.isoformat(), "hours": "10–14"})
    assert again.status_code == 400 and OpeningException.objects.get().hours == "Stängt"
    tolvan = login_as(Client(), User.objects.get_or_create_for_patient(Patient.objects.get(pk=personas.tolvan.pk)))
    assert "Stängt" in tolvan.get("/patient/").text
    removed = admin.post(url(unit), {"action": "exception_remove", "exception": str(OpeningException.objects.get().pk)})
    assert removed.status_code == 302, removed.status_code
    assert not OpeningException.objects.exists()


def test_staff_and_roles_never_leave_the_unit_without_an_administrator(personas, unit):
    admin = staff_client(personas.unit_admin)
    assert (
        admin.post(url(unit), {"action": "member_set", "hsa_id": personas.nurse.hsa_id, "role": "staff"}).status_code
        == 302
    )
    assert Membership.objects.get(unit=unit, staff=personas.nurse).role == MembershipRole.STAFF
    demote = admin.post(url(unit), {"action": "member_set", "hsa_id": personas.unit_admin.hsa_id, "role": "staff"})
    assert demote.status_code == 400 and "minst en verksamhetsadministratör" in demote.text
    remove = admin.post(url(unit), {"action": "member_remove", "staff": str(personas.unit_admin.pk)})
    assert remove.status_code == 400 and Membership.objects.filter(unit=unit, staff=personas.unit_admin).exists()
    admin.post(url(unit), {"action": "member_set", "hsa_id": personas.nurse.hsa_id, "role": "unit_admin"})
    assert admin.post(url(unit), {"action": "member_remove", "staff": str(personas.unit_admin.pk)}).status_code == 302
    unknown = staff_client(personas.nurse).post(
        url(unit), {"action": "member_set", "hsa_id": "SE2321000255-P9999", "role": "staff"}
    )
    assert unknown.status_code == 400


def test_news_reaches_the_units_colleagues_only(personas, unit):
    admin = staff_client(personas.unit_admin)
    assert admin.post(url(unit), {"action": "news_publish", "title": "", "body": "x"}).status_code == 400
    admin.post(url(unit), {"action": "news_publish", "title": "Nytt telefonsystem", "body": "Från måndag."})
    assert "Nytt telefonsystem" in staff_client(personas.staff_x).get("/staff/").text
    assert "Nytt telefonsystem" not in staff_client(personas.nurse).get("/staff/").text
    admin.post(url(unit), {"action": "news_remove", "news": str(UnitNews.objects.get().pk)})
    assert not UnitNews.objects.exists()
