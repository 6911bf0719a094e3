"""The unit statistics page and its CSV files: who may see them, the period, and that the CSV is the
table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers import login_as
from tests.usage_statistics.conftest import at
from vardkontakt.booking.models import BookingSettings, Channel, Slot, VisitType
from vardkontakt.booking.services import (
    booking_cancel,
    booking_create_by_staff,
    booking_create_online,
    booking_move_online,
)
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.demo.demo_data import staff_hsa_id
from vardkontakt.identity.models import Staff, User
from vardkontakt.organisation.models import CareUnit
from vardkontakt.usage_statistics.periods import Period
from vardkontakt.usage_statistics.unit_page import unit_statistics

pytestmark = pytest.mark.django_db

NOW = at(2027, 1, 15, 12)
DECEMBER = {"from": "2026-12-01", "to": "2026-12-31"}


def client_of(staff: Staff) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_staff(staff))


def page_url(unit: CareUnit) -> str:
    return reverse("usage_statistics:unit", kwargs={"unit_id": unit.id})


def csv_url(unit: CareUnit, table: str) -> str:
    return reverse("usage_statistics:unit_csv", kwargs={"unit_id": unit.id, "table": table})


class Tables(HTMLParser):
    """The cells of every table on a page, by the id of its caption."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._caption: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = []
        elif tag == "caption":
            self._caption = dict(attrs).get("id") or ""
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._table is not None:
            self.tables[(self._caption or "").removesuffix("-caption")] = self._table
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def rows_of_csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def some_cases(desk, services):
    for day in (1, 2, 3):
        case = desk.send(services[ServiceKind.ADVICE], at(2026, 12, day, 9))
        desk.answer(case, at(2026, 12, day, 9 + day))
    desk.send(services[ServiceKind.CONTACT_ME], at(2026, 12, 4, 9))


# --- who ------------------------------------------------------------------------------------------


def test_the_unit_administrator_sees_the_figures(personas, unit_x, some_cases):
    with time_machine.travel(NOW, tick=True):  # logged in then, as the session's clock expects
        response = client_of(personas.unit_admin).get(page_url(unit_x), DECEMBER)
    assert response.status_code == 200
    assert [figure.key for figure in response.context["statistics"].figures][:2] == ["case-types", "handling-times"]
    body = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body and 'role="img"' in body
    assert "<canvas" not in body


def test_a_member_who_is_not_its_administrator_is_refused(personas, unit_x):
    assert client_of(personas.staff_x).get(page_url(unit_x)).status_code == 403
    assert client_of(personas.staff_x).get(csv_url(unit_x, "case-types")).status_code == 403


def test_it_hides_the_unit_from_other_units_administrators(personas, unit_x):
    other_admin = Staff.objects.get(hsa_id=staff_hsa_id(2))  # administrator of Vårdcentralen Kärnan
    assert client_of(other_admin).get(page_url(unit_x)).status_code == 404
    assert client_of(other_admin).get(csv_url(unit_x, "case-types")).status_code == 404
    assert client_of(personas.coordinator).get(page_url(unit_x)).status_code == 404


def test_an_unknown_unit_is_not_found(personas):
    url = reverse("usage_statistics:unit", kwargs={"unit_id": uuid.uuid4()})
    assert client_of(personas.unit_admin).get(url).status_code == 404


def test_it_rejects_post(personas, unit_x):
    assert client_of(personas.unit_admin).post(page_url(unit_x)).status_code == 405


def test_residents_and_anonymous_are_refused(personas, unit_x):
    resident = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    assert resident.get(page_url(unit_x)).status_code == 403
    assert Client().get(page_url(unit_x)).status_code == 302


# --- the period -------------------------------------------------------------------------------------


def test_without_dates_it_shows_the_last_full_month(personas, unit_x, desk, services):
    desk.send(services[ServiceKind.ADVICE], at(2026, 12, 31, 23, 0))
    with time_machine.travel(at(2027, 1, 1, 0, 30), tick=True):
        response = client_of(personas.unit_admin).get(page_url(unit_x))
    assert response.context["period"] == Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_without_dates_and_nothing_last_month_it_opens_on_the_last_30_days(personas, unit_x, desk, services):
    """Issue 16 item 27: a unit that started this month (or a demo loaded this month) must not open
    on a month of zeros while its cases sit in this one."""
    desk.send(services[ServiceKind.ADVICE], at(2027, 1, 2, 9, 0))
    desk.send(services[ServiceKind.ADVICE], at(2026, 11, 20, 9, 0))  # the month before last: not enough
    with time_machine.travel(at(2027, 1, 3, 12, 0), tick=True):
        response = client_of(personas.unit_admin).get(page_url(unit_x))
    assert response.context["period"] == Period(dt.date(2026, 12, 5), dt.date(2027, 1, 3))
    assert response.context["statistics"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-12-31"}, "from"),
        ({"from": "1 december", "to": "2026-12-31"}, "from"),
        ({"from": "2026-12-31", "to": "2026-12-01"}, "to"),
        ({"from": "2026-12-01"}, "to"),
        ({"from": "", "to": "2026-12-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-12-31"}, "to"),
    ],
)
def test_wrong_dates_are_explained_with_status_400(personas, unit_x, query, field):
    response = client_of(personas.unit_admin).get(page_url(unit_x), query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "nhsuk-error-summary" in response.content.decode()
    assert client_of(personas.unit_admin).get(csv_url(unit_x, "case-types"), query).status_code == 400


def test_the_error_is_in_the_chosen_language(personas, unit_x):
    client = client_of(personas.unit_admin)
    client.cookies["vk_language"] = "en"
    response = client.get(page_url(unit_x), {"from": "2026-12-31", "to": "2026-12-01"})
    assert "The last day cannot be before the first day." in response.content.decode()


# --- CSV --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    ["case-types", "handling-times", "answered-in-time", "unanswered", "statuses", "bookings", "online-bookable"],
)
def test_the_csv_is_the_table(personas, unit_x, some_cases, table):
    with time_machine.travel(NOW, tick=True):
        client = client_of(personas.unit_admin)
        page = client.get(page_url(unit_x), DECEMBER)
        download = client.get(csv_url(unit_x, table), DECEMBER)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        f'attachment; filename="vardcentralen-lindangen-{table}-2026-12-01-2026-12-31.csv"'
    )
    shown = tables_of(page.content.decode())[table]
    assert rows_of_csv(download.content) == shown
    assert f"{csv_url(unit_x, table)}?from=2026-12-01&amp;to=2026-12-31" in page.content.decode()


def test_the_csv_numbers_use_a_decimal_comma(personas, unit_x, some_cases):
    with time_machine.travel(NOW, tick=True):
        client = client_of(personas.unit_admin)
        download = client.get(csv_url(unit_x, "handling-times"), DECEMBER)
    rows = rows_of_csv(download.content)
    assert rows[1][1:] == ["3", "2,0", "2,8"]  # answered after 1, 2 and 3 hours


def test_an_unknown_table_is_not_found(personas, unit_x):
    assert client_of(personas.unit_admin).get(csv_url(unit_x, "patients")).status_code == 404


def test_a_cell_that_would_be_a_formula_is_defused():
    from vardkontakt.usage_statistics.tables import Table, csv_text

    text = csv_text(Table("x", "x", ["Unit", "Cases"], [["=HYPERLINK(1)", "3"], ["-1", "0"]]))
    assert text.splitlines()[1:] == ["'=HYPERLINK(1);3", "'-1;0"]


# --- constant work ----------------------------------------------------------------------------------


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, DECEMBER).status_code == 200
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_cases(personas, unit_x, desk, services):
    client = client_of(personas.unit_admin)
    client.get(page_url(unit_x), DECEMBER)  # session and language settle
    empty = queries_for(client, page_url(unit_x))
    for n in range(30):
        case = desk.send(services[ServiceKind.ADVICE], at(2026, 12, 1 + n % 28, 9))
        if n % 3:
            desk.answer(case, at(2026, 12, 1 + n % 28, 15))
    assert queries_for(client, page_url(unit_x)) == empty


# --- bookings ---------------------------------------------------------------------------------------


def test_bookings_by_channel_cancellations_and_rebookings(personas, unit_x):
    """In December: two booked online and one by staff; a booking made in November cancelled online
    in December; one booked online and moved online (one booking and one move, not two bookings);
    one cancelled by staff (not an online cancellation). A booking in January is not counted."""
    visit = VisitType.objects.create(
        unit=unit_x,
        name="Hälsosamtal",
        duration_minutes=30,
        professions=["nurse", "district_nurse"],
        bookable_online=True,
        rebookable_online=True,
    )
    slots = []
    for n in range(10):
        start = at(2027, 2, 1, 8) + dt.timedelta(minutes=30 * n)
        slots.append(
            Slot.objects.create(
                unit=unit_x,
                practitioner=personas.staff_x,
                visit_type=visit,
                place="Rum 4",
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=30),
            )
        )
    Slot.objects.filter(pk=slots[3].pk).update(channel=Channel.PHONE_ONLY)  # staff book it by phone
    # Tolvan holds several coming web bookings of the one visit type here: the unit allows it.
    BookingSettings.objects.update_or_create(unit=unit_x, defaults={"online_bookings_per_visit_type": 10})
    tolvan, admin = personas.tolvan, personas.unit_admin

    def online(slot: Slot, when: dt.datetime):
        with time_machine.travel(when, tick=False):
            return booking_create_online(slot_id=slot.pk, unit=unit_x, subject=tolvan, actor=tolvan)

    with time_machine.travel(at(2026, 11, 20), tick=False):
        early = booking_create_online(slot_id=slots[0].pk, unit=unit_x, subject=tolvan, actor=tolvan)
    with time_machine.travel(at(2026, 12, 2), tick=False):
        booking_cancel(booking_id=early.pk, by_patient=tolvan)
    online(slots[1], at(2026, 12, 3))
    online(slots[2], at(2026, 12, 4))
    with time_machine.travel(at(2026, 12, 5), tick=False):
        by_phone = booking_create_by_staff(slot_id=slots[3].pk, unit=unit_x, patient=tolvan, staff=admin).booking
    moved = online(slots[4], at(2026, 12, 6))
    with time_machine.travel(at(2026, 12, 7), tick=False):
        booking_move_online(booking_id=moved.pk, new_slot_id=slots[5].pk, actor=tolvan)
    with time_machine.travel(at(2026, 12, 8), tick=False):
        booking_cancel(booking_id=by_phone.pk, by_staff=admin)
    online(slots[6], at(2027, 1, 3))

    with time_machine.travel(NOW, tick=False):
        page = unit_statistics(unit_x, Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31)))
    table = page.table("bookings")
    assert table is not None
    assert [row[1] for row in table.rows] == ["3", "1", "1", "1"]  # online, by staff, cancelled, moved
