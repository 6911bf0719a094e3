"""Issue 16 §13-15: pages about one's own account while acting for someone, the paged and
filtered "Vem har läst min journal", and the way to the region archive after sealing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access.audit import Actor, audit
from vardkontakt.access.models import AuditEntry, RecordSeal
from vardkontakt.identity.models import Patient, User
from vardkontakt.organisation.models import Region

pytestmark = pytest.mark.django_db

NOT_FOR_SOMEONE_ELSE = "Den här sidan gäller ditt eget konto"


def client_for(patient: Patient, acting_for: Patient | None = None) -> Client:
    client = login_as(Client(), User.objects.get_or_create_for_patient(patient))
    if acting_for is not None:
        assert client.post("/acting-for/", {"subject": str(acting_for.pk)}).status_code == 302
    return client


def test_acting_for_a_child_the_seal_settings_and_proxies_are_not_the_guardians(personas):
    anna, liam = personas.guardian, personas.child_9
    client = client_for(anna, acting_for=liam)
    for url in ("/record/seal/", "/settings/", "/proxies/new/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert NOT_FOR_SOMEONE_ELSE in page.text and liam.full_name in page.text, url
        assert "Agera för dig själv i stället" in page.text
    assert client.post("/record/seal/", {"confirm": "on"}).status_code == 403
    mobile_before = anna.mobile
    assert client.post("/settings/", {"mobile": "0701234567", "email": "x@example.org"}).status_code == 403
    anna.refresh_from_db()
    assert anna.mobile == mobile_before
    assert not RecordSeal.objects.filter(patient__in=[anna, liam]).exists()
    # Back to herself, the seal page is hers again.
    assert client.post("/acting-for/", {"subject": str(anna.pk), "next": "/record/seal/"}).status_code == 302
    page = client.get("/record/seal/")
    assert NOT_FOR_SOMEONE_ELSE not in page.text and 'name="confirm"' in page.text


def _staff_reads(patient: Patient, staff, n: int) -> None:
    for _ in range(n):
        audit(actor=Actor.of_staff(staff), action="record.read", patient=patient, detail="notes")


def test_the_access_log_shows_others_reads_first_paged_and_filtered(personas):
    tolvan = personas.tolvan
    client = client_for(tolvan)
    for _ in range(3):
        client.get("/record/")  # her own reads
    _staff_reads(tolvan, personas.staff_x, 55)
    page = client.get("/record/access-log/").text
    assert personas.staff_x.full_name in page
    assert "Lästa av vårdpersonal, system och de som agerar för dig" in page
    assert page.count(personas.staff_x.full_name) == 50
    assert (
        f'<td class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Vem </span>{tolvan.full_name}</td>'
        not in page
    )
    assert "Sida 1 av 2" in page
    second = client.get("/record/access-log/?page=2").text
    assert second.count(personas.staff_x.full_name) == 5
    own = client.get("/record/access-log/?readers=own").text
    assert personas.staff_x.full_name not in own and tolvan.full_name in own
    # A period with nothing in it, and a period the wrong way round.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    empty = client.get(f"/record/access-log/?start={tomorrow.isoformat()}").text
    assert "Ingen annan har läst den här under perioden." in empty
    wrong = client.get(f"/record/access-log/?start={tomorrow.isoformat()}&end={timezone.localdate().isoformat()}")
    assert wrong.status_code == 200 and "Slutdatumet måste vara samma som eller efter startdatumet." in wrong.text


def test_a_guardian_sees_who_has_read_the_young_childs_record_and_the_look_is_logged_for_the_child(personas):
    anna, liam = personas.guardian, personas.child_9
    _staff_reads(liam, personas.staff_x, 1)
    _staff_reads(anna, personas.nurse, 1)
    page = client_for(anna, acting_for=liam).get("/record/access-log/").text
    assert f"Vem har läst journalen för {liam.full_name}" in page
    assert personas.staff_x.full_name in page and personas.nurse.full_name not in page
    entry = AuditEntry.objects.filter(action="access_log.read").latest("sequence")
    assert (entry.actor_id, entry.patient_id, entry.on_behalf_of_id) == (str(anna.pk), str(liam.pk), str(liam.pk))


def test_a_guardian_of_a_teenager_is_told_why_the_child_is_not_in_the_list(personas):
    erik = Patient.objects.get(given_name="Erik", family_name="Föräldersson")
    saga = personas.child_14
    page = client_for(erik).get("/patient/").text
    assert f"Du kan inte längre agera för {saga.full_name}" in page and "tills barnet fyller 13" in page
    # Anna has Liam in the list as well: the switcher says why Saga is not there.
    annas = client_for(personas.guardian).get("/patient/").text
    assert (
        f"{saga.full_name} finns inte i listan: en vårdnadshavare kan agera för ett barn tills barnet fyller 13."
        in annas
    )


def test_a_child_turning_13_leaves_the_list_with_the_reason(personas):
    liam = personas.child_9
    thirteenth = liam.birth_date.replace(year=liam.birth_date.year + 13)
    with time_machine.travel(dt.datetime.combine(thirteenth, dt.time(9), tzinfo=timezone.get_current_timezone())):
        page = client_for(personas.guardian).get("/patient/").text
    assert f"Du kan inte längre agera för {liam.full_name}" in page


def test_the_seal_page_says_how_to_reach_the_region_archive(personas):
    Region.objects.update(
        archive_phone="040-00 00 01",
        archive_address="Regionarkivet, Box 100, 211 00 Malmö",
        archive_hours="Vardagar 9–12",
    )
    client = client_for(personas.tolvan)
    before = client.get("/record/seal/").text
    assert "040-00 00 01" in before and "Vardagar 9–12" in before
    assert client.post("/record/seal/", {"confirm": "on"}).status_code == 302
    after = client.get("/record/seal/").text
    assert "Din journal är förseglad sedan" in after
    assert "040-00 00 01" in after and "Regionarkivet, Box 100, 211 00 Malmö" in after


def test_without_an_archive_contact_the_seal_page_points_to_the_care_unit(personas):
    Region.objects.update(archive_phone="", archive_address="", archive_hours="")
    page = client_for(personas.tolvan).get("/record/seal/").text
    assert "Din vårdenhet kan berätta hur du når regionarkivet." in page
