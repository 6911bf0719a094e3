"""The public support page: the contact, the hours, and the messages for the visitor's audience."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.operations.conftest import client_of
from vardkontakt.operations.models import Audience
from vardkontakt.organisation.models import Region

pytestmark = pytest.mark.django_db


def test_anyone_reads_the_support_contact_and_hours(personas):
    response = client_of(None).get("/support/")
    assert response.status_code == 200
    body = response.text
    assert "<h1>Support for the e-services</h1>" in body
    assert 'href="tel:0771000000">0771-00 00 00</a>' in body
    assert 'href="mailto:support@vardkontakt.example"' in body
    assert "Weekdays 06–22" in body
    assert "no disturbances are known right now" in body


def test_the_footer_of_every_page_links_to_support(personas):
    for person, path in ((None, "/"), (personas.tolvan, "/patient/"), (personas.nurse, "/staff/")):
        body = client_of(person).get(path).text
        assert (
            '<a class="nhsuk-footer__list-item-link" href="/support/">Support for the e-services: weekdays 06–22</a>'
            in body
        )


def test_the_footer_shows_the_regions_own_hours_and_never_one_regions_among_several(personas):
    region = Region.objects.get()
    region.support_opens, region.support_closes = dt.time(7, 30), dt.time(20, 0)
    region.save()  # as the rules page saves it: the footer follows at once
    footer = "Support for the e-services: weekdays 07:30–20</a>"
    swedish = Client().get("/").text  # the first page after the save fills the cache, in Swedish
    assert "Support för e-tjänsterna: vardagar 07:30–20</a>" in swedish
    for person, path in ((None, "/"), (personas.tolvan, "/patient/")):
        assert footer in client_of(person).get(path).text  # the words in the reader's language
    other = Region.objects.create(
        name="Region Annan", support_phone="010-100 00 00", support_opens=dt.time(8, 0), support_closes=dt.time(16, 0)
    )
    body = client_of(None).get("/").text
    assert "Support for the e-services: contact and opening hours</a>" in body and "07:30" not in body
    support = client_of(None).get("/support/").text  # the support page gives each region's
    assert "Weekdays 08–16" in support and "Weekdays 07:30–20" in support
    other.delete()
    assert footer in client_of(None).get("/").text


def test_the_support_contact_follows_the_region(personas):
    Region.objects.update(support_phone="046-12 34 56", support_email="hjalp@region.example")
    body = client_of(None).get("/support/").text
    assert "046-12 34 56" in body
    assert "hjalp@region.example" in body
    assert "0771-00 00 00" not in body


def test_it_lists_current_and_coming_messages_for_the_visitors_audience_without_a_second_banner(personas, publish):
    now = timezone.now()
    publish(
        title="Störning nu",
        audience=Audience.RESIDENTS,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
    )
    publish(
        title="Bara för personal",
        audience=Audience.STAFF,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
    )
    publish(
        title="Underhåll i helgen", starts_at=now + dt.timedelta(days=3), ends_at=now + dt.timedelta(days=3, hours=4)
    )
    publish(title="Redan slut", starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=2))

    resident = client_of(None).get("/support/").text
    assert "Störning nu" in resident
    assert "Underhåll i helgen" in resident
    assert "Bara för personal" not in resident
    assert "Redan slut" not in resident
    assert "vk-operations-banner" not in resident  # the page itself lists them
    assert resident.count("Störning nu") == 1

    staff = client_of(personas.nurse).get("/support/").text
    assert "Bara för personal" in staff
    assert "Störning nu" not in staff
    assert "Underhåll i helgen" in staff


def test_it_only_answers_get(personas):
    assert client_of(None).post("/support/").status_code == 405
