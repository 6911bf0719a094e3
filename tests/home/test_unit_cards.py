"""Issue 16 §8: each unit card on the resident's start page shows what the unit offers through the
e-services — its active services and web booking — instead of a placeholder."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import login_as
from vardkontakt.booking.models import VisitType
from vardkontakt.cases.models import Service
from vardkontakt.identity.models import Patient, User
from vardkontakt.organisation.models import CareUnit, Listing

pytestmark = pytest.mark.django_db


def home_of(patient: Patient) -> str:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient)).get("/patient/").content.decode()


def card(page: str, unit_name: str) -> str:
    """The card of one unit: the page's card items, the one headed by the unit's name."""
    for item in page.split("nhsuk-card-group__item")[1:]:
        if f'<h3 class="nhsuk-card__heading">{unit_name}</h3>' in item:
            return item
    raise AssertionError(f"no card for {unit_name}")


def test_a_card_lists_the_units_active_services_as_ways_to_write(personas, unit_x):
    Service.objects.filter(unit=unit_x, kind="test_results").update(active=False)
    lindangen = card(home_of(personas.tolvan), unit_x.name)
    for service in Service.objects.filter(unit=unit_x, active=True):
        assert f'<a href="/cases/new/{unit_x.id}/{service.id}/">{service.name}</a>' in lindangen
    assert "Svar på prover eller röntgen" not in lindangen
    assert "Här visas de tjänster" not in lindangen  # the placeholder is gone
    assert "Boka tid online" not in lindangen  # no visit type booked online yet


def test_web_booking_is_offered_where_the_unit_books_online(personas, unit_x):
    VisitType.objects.create(
        unit=unit_x, name="Hälsosamtal", duration_minutes=30, professions=["nurse"], bookable_online=True
    )
    lindangen = card(home_of(personas.tolvan), unit_x.name)
    assert f'<a href="/bookings/book/{unit_x.id}/">Boka tid online</a>' in lindangen


def test_a_unit_offering_nothing_says_so(personas, unit_x):
    Service.objects.filter(unit=unit_x).update(active=False)
    lindangen = card(home_of(personas.tolvan), unit_x.name)
    assert "Mottagningen erbjuder inga e-tjänster här ännu" in lindangen
    assert "/cases/new/" not in lindangen


def test_without_the_right_to_write_the_services_are_named_not_linked(personas):
    """Maria's proxy for Gunnel holds every scope; a proxy with bookings only names the services."""
    from vardkontakt.access.models import Proxy

    Proxy.objects.filter(principal=personas.principal, agent=personas.adult_proxy).update(scope_cases=False)
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.adult_proxy))
    client.post("/acting-for/", {"subject": str(personas.principal.pk)})
    page = client.get("/patient/").content.decode()
    unit = CareUnit.objects.get(listings__patient=personas.principal)
    gunnels = card(page, unit.name)
    assert "Rådgivning" in gunnels and "/cases/new/" not in gunnels


def test_the_cards_cost_the_same_for_one_unit_or_five(personas, django_assert_max_num_queries):
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    with django_assert_max_num_queries(40) as one:
        client.get("/patient/")
    for unit in CareUnit.objects.exclude(listings__patient=personas.tolvan)[:4]:
        Listing.objects.create(patient=personas.tolvan, unit=unit, since="2020-01-01")
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get("/patient/").content.decode()
    assert page.count('class="nhsuk-card__heading"') >= 5
