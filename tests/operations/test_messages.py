"""Operational messages: who publishes them, the banner's audience and clock, and what is refused."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.operations.conftest import client_of
from vardkontakt.demo.demo_data import staff_hsa_id
from vardkontakt.identity.models import Profession, Staff
from vardkontakt.operations import selectors
from vardkontakt.operations.models import Audience, MessageKind, OperationalMessage
from vardkontakt.operations.services import message_create
from vardkontakt.organisation.models import Region, RegionRole, RegionRoleKind

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = dt.UTC
BANNER = 'class="nhsuk-notification-banner vk-operations-banner'


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM, fold=fold)


def shows(client, title: str, path: str = "/") -> bool:
    body = client.get(path).text
    return title in body and BANNER in body


def field(moment: dt.datetime) -> str:
    """A moment as the form's datetime-local field holds it (Swedish time)."""
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def tomorrow_at_ten_pm() -> dt.datetime:
    return timezone.localtime().replace(hour=22, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)


def form(**fields: str) -> dict[str, str]:
    """A valid form for a night's downtime starting tomorrow at 22:00."""
    return {
        "kind": "planned_downtime",
        "title": "Uppdatering av e-tjänsterna",
        "text": "Vi uppdaterar systemet. Ring din mottagning om det är bråttom.",
        "starts_at": field(tomorrow_at_ten_pm()),
        "ends_at": field(tomorrow_at_ten_pm() + dt.timedelta(hours=4)),
        "audience": "all",
        "idempotency_key": uuid.uuid4().hex,
        **fields,
    }


# --- the banner -----------------------------------------------------------------------------------


def test_each_audience_sees_its_own_messages_and_the_ones_for_all(personas, publish):
    now = timezone.now()
    window = {"starts_at": now - dt.timedelta(hours=1), "ends_at": now + dt.timedelta(hours=1)}
    publish(title="Till invånare", audience=Audience.RESIDENTS, **window)
    publish(title="Till personal", audience=Audience.STAFF, **window)
    publish(title="Till alla", audience=Audience.ALL, **window)

    for person in (None, personas.tolvan):  # anonymous visitors count as residents
        body = client_of(person).get("/").text
        assert "Till invånare" in body
        assert "Till alla" in body
        assert "Till personal" not in body
    staff_page = client_of(personas.nurse).get("/staff/").text
    assert "Till personal" in staff_page
    assert "Till alla" in staff_page
    assert "Till invånare" not in staff_page


def test_the_banner_is_an_accessible_region_with_a_heading_and_a_link_to_support(publish):
    now = timezone.now()
    publish(
        title="Störning i inloggningen",
        text="BankID fungerar inte.\nAnvänd Freja+.",
        kind=MessageKind.DISTURBANCE,
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=2),
    )
    body = client_of(None).get("/").text
    assert 'role="region" aria-labelledby="vk-operations-banner-title"' in body
    assert '<h2 class="nhsuk-notification-banner__title" id="vk-operations-banner-title">' in body
    assert "Disturbance: Störning i inloggningen" in body
    assert "BankID fungerar inte.<br>Använd Freja+." in body
    assert 'href="/support/"' in body


def test_the_banner_shows_from_its_start_until_its_end(publish):
    message = publish(title="Nattligt underhåll", starts_at=local(2026, 12, 1, 22), ends_at=local(2026, 12, 2, 2))
    client = client_of(None)
    with time_machine.travel(message.starts_at - dt.timedelta(seconds=1), tick=False):
        assert not shows(client, "Nattligt underhåll")
    with time_machine.travel(message.starts_at, tick=False):
        assert shows(client, "Nattligt underhåll")
    with time_machine.travel(message.ends_at - dt.timedelta(seconds=1), tick=False):
        assert shows(client, "Nattligt underhåll")
    with time_machine.travel(message.ends_at, tick=False):
        assert not shows(client, "Nattligt underhåll")


def test_a_message_across_the_autumn_dst_change_lasts_its_real_hours(publish):
    """25 October 2026: 03:00 summer time becomes 02:00 winter time, so 02:30 happens twice."""
    message = publish(title="Över natten", starts_at=local(2026, 10, 25, 1), ends_at=local(2026, 10, 25, 4))
    message.refresh_from_db()  # as stored: UTC, where the subtraction counts real time
    assert message.ends_at - message.starts_at == dt.timedelta(hours=4)  # 01:00 CEST → 04:00 CET
    client = client_of(None)
    for moment in (local(2026, 10, 25, 2, 30, fold=0), local(2026, 10, 25, 2, 30, fold=1), local(2026, 10, 25, 3, 59)):
        with time_machine.travel(moment, tick=False):
            assert shows(client, "Över natten"), moment
    with time_machine.travel(local(2026, 10, 25, 4), tick=False):
        assert not shows(client, "Över natten")


def test_the_form_reads_swedish_time_across_the_spring_dst_change(personas):
    """29 March 2026: 02:00 becomes 03:00. 01:00–04:00 local is two real hours."""
    admin = client_of(personas.region_admin)
    region = Region.objects.get()
    with time_machine.travel(dt.datetime(2026, 3, 20, 12, tzinfo=UTC), tick=False):
        response = admin.post(
            f"/staff/regions/{region.id}/operational-messages/new/",
            form(title="Vårnatt", starts_at="2026-03-29T01:00", ends_at="2026-03-29T04:00"),
        )
        assert response.status_code == 302
    message = OperationalMessage.objects.get(title="Vårnatt")
    assert message.starts_at == dt.datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert message.ends_at == dt.datetime(2026, 3, 29, 2, tzinfo=UTC)
    client = client_of(None)
    with time_machine.travel(dt.datetime(2026, 3, 29, 1, 59, tzinfo=UTC), tick=False):  # 03:59 summer time
        assert shows(client, "Vårnatt")
    with time_machine.travel(dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC), tick=False):  # 04:00 summer time
        assert not shows(client, "Vårnatt")


def test_a_time_that_does_not_exist_in_sweden_is_refused(personas):
    admin = client_of(personas.region_admin)
    region = Region.objects.get()
    with time_machine.travel(dt.datetime(2026, 3, 20, 12, tzinfo=UTC), tick=False):
        response = admin.post(
            f"/staff/regions/{region.id}/operational-messages/new/",
            form(starts_at="2026-03-29T02:30", ends_at="2026-03-29T05:00"),
        )
    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert not OperationalMessage.objects.exists()


def test_the_banner_is_read_once_for_many_pages_and_a_change_shows_at_once(publish, monkeypatch):
    now = timezone.now()
    publish(title="Pågår", starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))
    client = client_of(None)

    def banner_queries(path: str, expected: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert expected in client.get(path).text
        # Reads of the banner only: not the support page's own "coming" list (starts_at > now).
        return sum(
            1
            for q in queries.captured_queries
            if "operations_operationalmessage" in q["sql"] and '"starts_at" >' not in q["sql"]
        )

    assert banner_queries("/", "Pågår") == 1
    assert banner_queries("/support/", "Pågår") == 0  # the same process, seconds later
    publish(title="Störning i SMS", starts_at=now - dt.timedelta(minutes=1), ends_at=now + dt.timedelta(hours=1))
    assert banner_queries("/", "Störning i SMS") == 1  # published in this process: seen at once
    monkeypatch.setattr(selectors.time, "monotonic", lambda: 1e12)  # the seconds have passed
    assert banner_queries("/", "Störning i SMS") == 1


def test_a_kept_message_shows_only_inside_its_window_and_to_its_audience(publish):
    now = timezone.now()
    publish(
        title="Snart",
        starts_at=now + dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=1),
        audience=Audience.STAFF,
    )
    assert selectors.current_messages(audience=Audience.STAFF, now=now) == []  # read, and kept
    later = now + dt.timedelta(minutes=6)
    assert [m.title for m in selectors.current_messages(audience=Audience.STAFF, now=later)] == ["Snart"]
    assert selectors.current_messages(audience=Audience.RESIDENTS, now=later) == []
    assert selectors.current_messages(audience=Audience.STAFF, now=now + dt.timedelta(hours=1)) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plan is SQLite's; PostgreSQL plans by table size")
def test_the_current_messages_query_uses_its_index():
    plan = OperationalMessage.objects.filter(ends_at__gt=timezone.now()).order_by("starts_at", "id").explain()
    assert "message_current" in plan


# --- publishing, changing, ending -----------------------------------------------------------------


def test_the_region_administrator_publishes_changes_and_ends_a_message(personas):
    admin = client_of(personas.region_admin)
    region = Region.objects.get()
    start = timezone.localtime() - dt.timedelta(minutes=10)
    data = form(
        starts_at=start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        audience="residents",
    )
    assert admin.get(f"/staff/regions/{region.id}/operational-messages/new/").status_code == 200
    response = admin.post(f"/staff/regions/{region.id}/operational-messages/new/", data)
    assert response.status_code == 302
    # The same form sent again (a double click) publishes nothing new.
    assert admin.post(f"/staff/regions/{region.id}/operational-messages/new/", data).status_code == 302
    message = OperationalMessage.objects.get()
    assert (message.region, message.created_by, message.audience) == (region, personas.region_admin, "residents")

    listing = admin.get(f"/staff/regions/{region.id}/operational-messages/").text
    assert "Uppdatering av e-tjänsterna" in listing
    assert f"/staff/operational-messages/{message.id}/end/" in listing

    edit = admin.get(f"/staff/operational-messages/{message.id}/")
    assert f'value="{timezone.localtime(message.starts_at):%Y-%m-%dT%H:%M}"' in edit.text  # Swedish time, not UTC
    changed = {**data, "title": "Uppdatering, förlängd", "audience": "all"}
    assert admin.post(f"/staff/operational-messages/{message.id}/", changed).status_code == 302
    message.refresh_from_db()
    assert (message.title, message.audience) == ("Uppdatering, förlängd", "all")
    assert "Uppdatering, förlängd" in client_of(personas.nurse).get("/staff/").text

    assert admin.post(f"/staff/operational-messages/{message.id}/end/").status_code == 302
    message.refresh_from_db()
    assert message.ends_at <= timezone.now()
    assert "Uppdatering, förlängd" not in client_of(None).get("/").text


def key_in(page: str) -> str:
    """The hidden submission key the page's form carries."""
    found = re.search(r'name="idempotency_key" value="([^"]*)"', page)
    assert found is not None, "the form carries no idempotency_key field"
    return found.group(1)


def test_every_new_form_publishes_its_own_message_and_a_resend_publishes_nothing(personas):
    """Issue 16 §2: each "Publish" from a freshly opened form is a new message; only the same form
    sent again (a double click) is the same one."""
    admin = client_of(personas.region_admin)
    new = f"/staff/regions/{Region.objects.get().id}/operational-messages/new/"
    first_key = key_in(admin.get(new).text)
    second_key = key_in(admin.get(new).text)
    assert first_key and second_key and first_key != second_key
    assert admin.post(new, form(title="Första", idempotency_key=first_key)).status_code == 302
    assert admin.post(new, form(title="Andra", idempotency_key=second_key)).status_code == 302
    assert admin.post(new, form(title="Andra", idempotency_key=second_key)).status_code == 302  # double click
    assert sorted(OperationalMessage.objects.values_list("title", flat=True)) == ["Andra", "Första"]


def test_a_form_without_its_key_publishes_nothing_and_says_so(personas, publish):
    publish(
        title="Redan publicerat", starts_at=tomorrow_at_ten_pm(), ends_at=tomorrow_at_ten_pm() + dt.timedelta(hours=1)
    )
    admin = client_of(personas.region_admin)
    response = admin.post(
        f"/staff/regions/{Region.objects.get().id}/operational-messages/new/", form(title="Ny", idempotency_key="")
    )
    assert response.status_code == 200
    assert "The form has expired. Please fill it in again." in response.text
    assert list(OperationalMessage.objects.values_list("title", flat=True)) == ["Redan publicerat"]


def test_the_service_refuses_an_empty_key(personas):
    with pytest.raises(ValidationError):
        message_create(
            region=Region.objects.get(),
            by=personas.region_admin,
            kind=MessageKind.DISTURBANCE,
            title="Utan nyckel",
            text="Text.",
            starts_at=timezone.now(),
            ends_at=timezone.now() + dt.timedelta(hours=1),
            audience=Audience.ALL,
            idempotency_key="",
        )
    assert not OperationalMessage.objects.exists()


def test_editing_a_message_needs_no_key_and_publishes_nothing_new(personas, publish):
    start = timezone.now() + dt.timedelta(days=1)
    message = publish(title="Orörd", starts_at=start, ends_at=start + dt.timedelta(hours=2))
    admin = client_of(personas.region_admin)
    edit = admin.get(f"/staff/operational-messages/{message.id}/").text
    assert 'name="idempotency_key" value=' not in edit  # a change is not a new publication
    changed = form(
        title="Ändrad", starts_at=field(start), ends_at=field(start + dt.timedelta(hours=2)), idempotency_key=""
    )
    assert admin.post(f"/staff/operational-messages/{message.id}/", changed).status_code == 302
    assert list(OperationalMessage.objects.values_list("title", flat=True)) == ["Ändrad"]


def test_a_coming_message_cannot_be_ended_only_changed(personas, publish):
    start = timezone.now() + dt.timedelta(days=1)
    message = publish(starts_at=start, ends_at=start + dt.timedelta(hours=1))
    response = client_of(personas.region_admin).post(f"/staff/operational-messages/{message.id}/end/", follow=True)
    assert "Only a message that is shown now can be ended." in response.text
    message.refresh_from_db()
    assert message.ends_at == start + dt.timedelta(hours=1)


def test_an_end_before_the_start_changes_nothing(personas, publish):
    admin = client_of(personas.region_admin)
    region = Region.objects.get()
    response = admin.post(
        f"/staff/regions/{region.id}/operational-messages/new/",
        form(starts_at=field(tomorrow_at_ten_pm() + dt.timedelta(hours=4)), ends_at=field(tomorrow_at_ten_pm())),
    )
    assert response.status_code == 200
    assert "The end must be after the start." in response.text
    assert not OperationalMessage.objects.exists()

    start = timezone.now() + dt.timedelta(days=1)
    message = publish(title="Orörd", starts_at=start, ends_at=start + dt.timedelta(hours=2))
    response = admin.post(
        f"/staff/operational-messages/{message.id}/",
        form(
            title="Ändrad", starts_at=field(start + dt.timedelta(hours=2)), ends_at=field(start + dt.timedelta(hours=1))
        ),
    )
    assert response.status_code == 200
    assert "The end must be after the start." in response.text
    message.refresh_from_db()
    assert (message.title, message.starts_at, message.ends_at) == ("Orörd", start, start + dt.timedelta(hours=2))


def test_a_message_that_has_already_ended_is_refused(personas):
    region = Region.objects.get()
    response = client_of(personas.region_admin).post(
        f"/staff/regions/{region.id}/operational-messages/new/",
        form(
            starts_at=field(timezone.now() - dt.timedelta(hours=3)),
            ends_at=field(timezone.now() - dt.timedelta(hours=1)),
        ),
    )
    assert response.status_code == 200
    assert "The end has already passed" in response.text
    assert not OperationalMessage.objects.exists()


def test_the_administrator_of_another_region_gets_404_and_changes_nothing(personas, publish):
    north = Region.objects.create(name="Region Norr")
    stranger = Staff.objects.create(
        hsa_id=staff_hsa_id(90), given_name="Nils", family_name="Norrman", profession=Profession.ADMINISTRATOR
    )
    RegionRole.objects.create(region=north, staff=stranger, role=RegionRoleKind.REGION_ADMIN)
    start = timezone.now() + dt.timedelta(days=1)
    message = publish(title="Skånes", starts_at=start, ends_at=start + dt.timedelta(hours=2))
    client = client_of(stranger)
    skane = message.region_id
    assert client.get(f"/staff/regions/{skane}/operational-messages/").status_code == 404
    assert client.get(f"/staff/regions/{skane}/operational-messages/new/").status_code == 404
    assert client.post(f"/staff/regions/{skane}/operational-messages/new/", form()).status_code == 404
    assert client.get(f"/staff/operational-messages/{message.id}/").status_code == 404
    assert client.post(f"/staff/operational-messages/{message.id}/", form(title="Kapad")).status_code == 404
    assert client.post(f"/staff/operational-messages/{message.id}/end/").status_code == 404
    message.refresh_from_db()
    assert message.title == "Skånes"
    assert OperationalMessage.objects.count() == 1
    # Their own region is theirs, and Skåne's messages are not listed there.
    own = client.get(f"/staff/regions/{north.id}/operational-messages/")
    assert own.status_code == 200
    assert "Skånes" not in own.text


def test_other_staff_and_residents_cannot_publish(personas):
    region = Region.objects.get()
    url = f"/staff/regions/{region.id}/operational-messages/new/"
    assert client_of(personas.nurse).post(url, form()).status_code == 404
    assert client_of(personas.support).post(url, form()).status_code == 404
    assert client_of(personas.tolvan).post(url, form()).status_code == 403
    assert client_of(None).get(url).status_code == 302
    assert not OperationalMessage.objects.exists()


def test_the_list_sorts_current_coming_and_ended(personas, publish):
    now = timezone.now()
    publish(title="Nu", starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))
    publish(title="Sedan", starts_at=now + dt.timedelta(days=2), ends_at=now + dt.timedelta(days=2, hours=1))
    publish(title="Förut", starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=2))
    region = Region.objects.get()
    page = client_of(personas.region_admin).get(f"/staff/regions/{region.id}/operational-messages/").text
    body = page.split('id="maincontent"')[1]  # after the banner, which shows "Nu" too
    assert body.index("Shown now") < body.index("Nu") < body.index("Coming") < body.index("Sedan")
    assert body.index("Sedan") < body.index("Ended") < body.index("Förut")


def test_the_staff_home_links_the_region_administrator_to_the_messages(personas):
    region = Region.objects.get()
    body = client_of(personas.region_admin).get("/staff/").text
    assert f"/staff/regions/{region.id}/operational-messages/" in body
    assert "/operational-messages/" not in client_of(personas.nurse).get("/staff/").text


def test_a_failing_read_of_the_messages_never_takes_the_page_down(personas, monkeypatch):
    def broken(**kwargs: object) -> list[OperationalMessage]:
        raise DatabaseError("the database went away")

    monkeypatch.setattr(selectors, "current_messages", broken)
    response = client_of(None).get("/")
    assert response.status_code == 200
    assert BANNER not in response.text


def test_a_read_overtaken_by_a_change_is_not_kept(publish, monkeypatch):
    """Another thread ends or edits a message while this one reads: what this one read is shown
    once, but not kept, so the change shows on the next page."""
    now = timezone.now()
    publish(title="Pågår", starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))
    real_filter = OperationalMessage.objects.filter

    def read_while_a_change_lands(*args, **kwargs):
        rows = real_filter(*args, **kwargs)
        selectors.forget_messages()  # the other thread's change, committed during this read
        return rows

    monkeypatch.setattr(OperationalMessage.objects, "filter", read_while_a_change_lands)
    assert [m.title for m in selectors.current_messages(audience=Audience.RESIDENTS)] == ["Pågår"]
    monkeypatch.undo()
    with CaptureQueriesContext(connection) as queries:
        selectors.current_messages(audience=Audience.RESIDENTS)
    assert len(queries.captured_queries) == 1  # read again, not served from the overtaken read
