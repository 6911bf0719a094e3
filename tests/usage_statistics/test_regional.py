"""The regional view: who sees which administrations, figures summed and recomputed over units and
administrations, onboarding times and the use of each service."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.helpers import login_as
from tests.usage_statistics.conftest import Desk, at
from tests.usage_statistics.test_unit_page import rows_of_csv, tables_of
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.services import service_activate
from vardkontakt.identity.models import Staff, User
from vardkontakt.organisation.models import Administration, CareUnit, Onboarding
from vardkontakt.usage_statistics.periods import Period
from vardkontakt.usage_statistics.regional_page import regional_statistics

pytestmark = pytest.mark.django_db

NOW = at(2027, 1, 15, 12)
DECEMBER = Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
QUERY = {"from": "2026-12-01", "to": "2026-12-31"}
URL = "/staff/statistics/"


def client_of(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


def sund() -> Administration:
    return Administration.objects.get(name="Skånevård Sund")


@pytest.fixture
def two_units(personas, unit_x):
    """Unit X answers after 1, 2 and 3 hours, unit Y (same administration) after 10 hours; a case at
    Hudmottagningen Lund (another administration) after 100 hours."""
    unit_y = CareUnit.objects.get(name="Vårdcentralen Kärnan")
    lund = CareUnit.objects.get(name="Hudmottagningen Lund")
    for unit, answer_after in [(unit_x, 1), (unit_x, 2), (unit_x, 3), (unit_y, 10), (lund, 100)]:
        admin = unit.memberships.get(role="unit_admin").staff
        service = service_activate(unit=unit, kind=ServiceKind.ADVICE, by=admin)
        desk = Desk(patient=personas.tolvan, staff=admin)
        case = desk.send(service, at(2026, 12, 1, 8))
        desk.answer(case, at(2026, 12, 1, 8) + dt.timedelta(hours=answer_after))
    return unit_y, lund


def test_the_coordinator_sees_their_administration(personas):
    assert reverse("usage_statistics:regional") == URL
    with time_machine.travel(NOW, tick=True):
        response = client_of(personas.coordinator).get(URL, QUERY)
    assert response.status_code == 200
    statistics = response.context["statistics"]
    assert [a.name for a in statistics.administrations] == ["Skånevård Sund"]
    assert {u.name for u in statistics.units} == {
        "Vårdcentralen Lindängen",
        "Vårdcentralen Kärnan",
        "Barnavårdscentralen Söder",
    }


def test_the_region_administrator_sees_the_whole_region(personas):
    response = client_of(personas.region_admin).get(URL, QUERY)
    assert response.status_code == 200
    assert len(response.context["statistics"].administrations) == 5
    assert len(response.context["statistics"].units) == CareUnit.objects.count()


@pytest.mark.parametrize("persona", ["staff_x", "unit_admin", "archivist", "support", "nurse"])
def test_other_staff_are_refused(personas, persona):
    assert client_of(getattr(personas, persona)).get(URL).status_code == 403
    assert client_of(getattr(personas, persona)).get(f"{URL}units.csv").status_code == 403


def test_an_administration_outside_ones_view_is_a_wrong_choice(personas):
    other = Administration.objects.get(name="Skånevård Kryh")
    response = client_of(personas.coordinator).get(URL, {**QUERY, "administration": str(other.pk)})
    assert response.status_code == 400
    assert "administration" in response.context["form"].errors


def test_a_region_administrator_may_narrow_to_one_administration(personas):
    response = client_of(personas.region_admin).get(URL, {**QUERY, "administration": str(sund().pk)})
    assert [a.name for a in response.context["statistics"].administrations] == ["Skånevård Sund"]
    assert f"administration={sund().pk}" in response.context["query"]


def test_medians_are_recomputed_for_each_administration_not_taken_from_the_units(two_units, unit_x):
    with time_machine.travel(NOW, tick=False):
        found = regional_statistics(list(Administration.objects.order_by("name")), DECEMBER)
    administrations = found.table("administrations")
    assert administrations is not None
    by_name = {row[0]: row for row in administrations.rows}
    # Sund: 1, 2, 3, 10 hours → median (2 + 3) / 2 = 2.5 (the median of the units' medians would be 6).
    assert by_name["Skånevård Sund"][1:3] == ["4", "2,5"]
    assert by_name["Skånes universitetssjukvård"][1:3] == ["1", "100,0"]
    total = administrations.rows[-1]
    assert total[1:3] == ["5", "3,0"]  # 1, 2, 3, 10, 100 → 3
    units = found.table("units")
    assert units is not None
    unit_rows = {row[0]: row for row in units.rows}
    assert unit_rows["Vårdcentralen Lindängen"][2:4] == ["3", "2,0"]
    assert unit_rows["Vårdcentralen Kärnan"][2:4] == ["1", "10,0"]


def test_use_of_each_service_per_unit(two_units, unit_x, desk, services):
    desk.send(services[ServiceKind.CONTACT_ME], at(2026, 12, 2, 9))
    with time_machine.travel(NOW, tick=False):
        found = regional_statistics([sund()], DECEMBER)
    table = found.table("services")
    assert table is not None
    kinds = list(ServiceKind.values)
    rows = {row[0]: row for row in table.rows}
    lindangen = rows["Vårdcentralen Lindängen"]
    assert lindangen[1 + kinds.index(ServiceKind.ADVICE)] == "3"
    assert lindangen[1 + kinds.index(ServiceKind.CONTACT_ME)] == "1"
    assert lindangen[-1] == "4"
    assert rows["Vårdcentralen Kärnan"][-1] == "1"
    assert table.rows[-1][-1] == "5"  # Lund is not in Sund


def test_onboarding_times_and_units_on_their_way(personas):
    def onboarding(hsa: str, interest: dt.date, live: dt.date | None) -> Onboarding:
        return Onboarding.objects.create(
            administration=sund(),
            unit_name=f"Enhet {hsa}",
            hsa_id=f"SE2321000255-E{hsa}",
            kind="primary_care",
            contact_name="Vera",
            contact_email="vera@example.se",
            interest_on=interest,
            live_on=live,
            meeting_on=interest if live else None,
            activated_on=live,
        )

    onboarding("9101", dt.date(2026, 11, 20), dt.date(2026, 12, 10))  # 20 days
    onboarding("9102", dt.date(2026, 11, 1), dt.date(2026, 12, 11))  # 40 days
    onboarding("9103", dt.date(2026, 11, 25), dt.date(2026, 12, 1))  # 6 days
    onboarding("9104", dt.date(2026, 11, 25), dt.date(2026, 12, 2))  # 7 days → median (7 + 20) / 2
    onboarding("9105", dt.date(2026, 10, 1), dt.date(2026, 11, 2))  # live in November: not counted
    onboarding("9106", dt.date(2026, 12, 1), None)  # on its way: 45 days on 15 January
    with time_machine.travel(NOW, tick=False):
        found = regional_statistics([sund()], DECEMBER)
    table = found.table("onboarding")
    assert table is not None
    assert table.rows[0] == ["Skånevård Sund", "4", "13,5", "3"]
    waiting = found.table("on-the-way")
    assert waiting is not None
    assert [(row[0], row[-1]) for row in waiting.rows] == [("Enhet 9106", "45")]


def test_the_regional_figures_count_against_the_regions_own_targets(personas):
    """The rules page's targets, not the seed's 80 per cent, eight weeks and 30 days."""
    Onboarding.objects.create(
        administration=sund(),
        unit_name="Enhet 9201",
        hsa_id="SE2321000255-E9201",
        kind="primary_care",
        contact_name="Vera",
        contact_email="vera@example.se",
        interest_on=dt.date(2026, 11, 20),
        live_on=dt.date(2026, 12, 10),  # 20 days: within 30, not within 10
        meeting_on=dt.date(2026, 11, 20),
        activated_on=dt.date(2026, 12, 10),
    )
    region = sund().region
    with time_machine.travel(NOW, tick=False):
        seeds = regional_statistics([sund()], DECEMBER)
        region.booking_target_percent, region.booking_target_weeks, region.onboarding_target_days = 60, 4, 10
        region.save()
        own = regional_statistics([sund()], DECEMBER)
    assert seeds.table("onboarding").rows[0][-1] == "1"  # type: ignore[union-attr]
    assert own.table("onboarding").rows[0][-1] == "0"  # type: ignore[union-attr]
    covered = next(f for f in own.figures if f.table.key == "online-bookable")
    assert "60" in covered.description and "80" not in covered.description
    assert "4" in covered.table.caption and "8" not in covered.table.caption
    assert "10" in next(f for f in own.figures if f.table.key == "onboarding").description


def test_the_regional_csv_is_the_table(personas, two_units):
    with time_machine.travel(NOW, tick=True):
        client = client_of(personas.region_admin)
        page = client.get(URL, QUERY)
        download = client.get(reverse("usage_statistics:regional_csv", kwargs={"table": "administrations"}), QUERY)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment; filename=")
    assert rows_of_csv(download.content) == tables_of(page.content.decode())["administrations"]
