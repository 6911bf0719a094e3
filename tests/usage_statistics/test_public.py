"""The public page of response times: open to all, linked from nowhere, small units hidden."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.usage_statistics.conftest import Desk, at
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.services import service_activate
from vardkontakt.organisation.models import CareUnit
from vardkontakt.usage_statistics.public import MIN_CASES, public_response_times

pytestmark = pytest.mark.django_db

URL = "/statistics/response-times/"
NOW = at(2026, 12, 20, 12)


def answered_cases(personas, unit: CareUnit, count: int, *, hours: int = 5, first: dt.datetime | None = None) -> None:
    admin = unit.memberships.get(role="unit_admin").staff
    service = service_activate(unit=unit, kind=ServiceKind.ADVICE, by=admin)
    desk = Desk(patient=personas.tolvan, staff=admin)
    start = first or at(2026, 12, 1, 8)
    for n in range(count):
        received = start + dt.timedelta(hours=n)
        desk.answer(desk.send(service, received), received + dt.timedelta(hours=hours))


def rows_by_name(today: dt.date) -> dict[str, object]:
    _period, rows = public_response_times(today)
    return {row.unit.name: row.median for row in rows}


def test_anyone_may_read_it_without_logging_in():
    assert reverse("usage_statistics:public") == URL
    response = Client().get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_unit_with_enough_cases_shows_its_median(personas, unit_x):
    answered_cases(personas, unit_x, MIN_CASES, hours=5)
    assert rows_by_name(NOW.date())["Vårdcentralen Lindängen"] == dt.timedelta(hours=5)


def test_a_unit_with_too_few_cases_shows_no_number(personas, unit_x):
    answered_cases(personas, unit_x, MIN_CASES - 1, hours=5)
    assert rows_by_name(NOW.date())["Vårdcentralen Lindängen"] is None
    with time_machine.travel(NOW, tick=True):
        body = Client().get(URL).content.decode()
    assert "5,0" not in body
    cells = body.count("Too few cases</td>") + body.count("För få ärenden</td>")
    assert cells == CareUnit.objects.filter(live=True).count()


def test_only_the_last_90_days_count(personas, unit_x):
    answered_cases(personas, unit_x, MIN_CASES, hours=5, first=at(2026, 9, 1, 8))  # before the 90 days
    answered_cases(personas, unit_x, 3, hours=7)
    assert rows_by_name(NOW.date())["Vårdcentralen Lindängen"] is None


def test_units_not_live_are_not_listed(personas, unit_x):
    CareUnit.objects.filter(pk=unit_x.pk).update(live=False)
    assert "Vårdcentralen Lindängen" not in rows_by_name(NOW.date())


def test_no_page_links_to_it(personas):
    from tests.helpers import login_as
    from vardkontakt.identity.models import User

    staff = login_as(Client(), User.objects.get_or_create_for_staff(personas.region_admin))
    for client, path in [(Client(), "/"), (Client(), "/support/"), (staff, "/staff/"), (staff, "/staff/statistics/")]:
        assert URL not in client.get(path).content.decode(), path
