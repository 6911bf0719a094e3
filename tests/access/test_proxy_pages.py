"""Adult proxies through the pages: invite, answer, revoke, and what each side sees."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.access.models import AuditEntry, Proxy, ProxyStatus
from vardkontakt.identity.models import Patient, User
from vardkontakt.notifications.models import Notification

pytestmark = pytest.mark.django_db


def client_for(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def invite(client: Client, number: str, **extra: str) -> Any:
    data = {"personnummer": number, "scope_cases": "on", "idempotency_key": extra.pop("key", uuid.uuid4().hex)}
    return client.post("/proxies/new/", {**data, **extra})


def test_a_resident_invites_an_adult_who_accepts(personas):
    tolvan, other = client_for(personas.tolvan), client_for(personas.other_patient)
    response = invite(tolvan, personas.other_patient.personnummer_display, scope_record="on")
    assert response.status_code == 302
    proxy = Proxy.objects.get(principal=personas.tolvan, agent=personas.other_patient)
    assert (proxy.status, proxy.scopes) == (ProxyStatus.INVITED, ["record", "cases"])
    assert Notification.objects.filter(recipient=personas.other_patient, kind="proxy_invited").exists()
    invited = AuditEntry.objects.get(action="proxy.invite", object_id=str(proxy.pk))
    assert (invited.actor_id, invited.patient_id) == (str(personas.tolvan.pk), str(personas.tolvan.pk))
    page = other.get("/proxies/").text
    assert "Tolvan Tolvansson" in page
    assert other.post(f"/proxies/{proxy.id}/accept/").status_code == 302
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.ACTIVE
    assert Notification.objects.filter(recipient=personas.tolvan, kind="proxy_accepted").exists()
    accepted = AuditEntry.objects.get(action="proxy.accept", object_id=str(proxy.pk))
    assert (accepted.actor_id, accepted.patient_id) == (str(personas.other_patient.pk), str(personas.tolvan.pk))
    assert other.post("/acting-for/", {"subject": str(personas.tolvan.pk)}).status_code == 302
    assert "Tolvan Tolvansson" in other.get("/patient/").text


def test_sending_the_same_form_twice_invites_once(personas):
    tolvan = client_for(personas.tolvan)
    for _ in range(2):
        assert invite(tolvan, personas.other_patient.personnummer, key="same-key").status_code == 302
    assert Proxy.objects.filter(principal=personas.tolvan).count() == 1


def test_a_second_open_invitation_to_the_same_person_is_refused(personas):
    tolvan = client_for(personas.tolvan)
    invite(tolvan, personas.other_patient.personnummer)
    response = invite(tolvan, personas.other_patient.personnummer)
    assert response.status_code == 200
    assert "redan" in response.text
    assert Proxy.objects.filter(principal=personas.tolvan).count() == 1


@pytest.mark.parametrize(
    ("number_of", "message"),
    [("child_14", "18 år eller äldre"), ("tolvan", "dig själv"), (None, "sista siffran")],
)
def test_an_invitation_that_breaks_a_rule_is_explained_and_saves_nothing(personas, number_of, message):
    tolvan = client_for(personas.tolvan)
    number = getattr(personas, number_of).personnummer if number_of else "191212121213"
    response = invite(tolvan, number)
    assert response.status_code == 200
    assert message in response.text
    assert not Proxy.objects.exists() or not Proxy.objects.filter(principal=personas.tolvan).exists()


def test_the_invitation_tells_nothing_of_the_invitee_until_they_accept(personas):
    """Issue 14 §8: the principal sees the number they typed, not the name the platform holds."""
    tolvan, other = client_for(personas.tolvan), client_for(personas.other_patient)
    name = personas.other_patient.full_name
    assert invite(tolvan, personas.other_patient.personnummer).status_code == 302
    waiting = tolvan.get("/proxies/").text
    assert name not in waiting and personas.other_patient.personnummer_display in waiting
    proxy = Proxy.objects.get(principal=personas.tolvan)
    assert other.post(f"/proxies/{proxy.id}/accept/").status_code == 302
    assert name in tolvan.get("/proxies/").text


def test_a_person_with_protected_identity_is_refused_without_saying_why(personas):
    protected = personas.protected_guardian
    protected.protected_identity = True
    protected.save(update_fields=["protected_identity"])
    response = invite(client_for(personas.tolvan), protected.personnummer)
    assert response.status_code == 200
    assert "kan inte skickas till den här personen" in response.text
    for telling in ("skydd", "Skydd", "protected", protected.given_name, protected.family_name):
        assert telling not in response.text
    assert not Proxy.objects.filter(principal=personas.tolvan).exists()
    assert not Notification.objects.filter(recipient=protected).exists()


def test_an_invitation_needs_a_scope_and_a_future_end_date(personas):
    tolvan = client_for(personas.tolvan)
    response = tolvan.post(
        "/proxies/new/",
        {"personnummer": personas.other_patient.personnummer, "idempotency_key": "k1"},
    )
    assert "Välj minst en sak" in response.text
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = invite(tolvan, personas.other_patient.personnummer, expires_on=yesterday.isoformat())
    assert "framtiden" in response.text
    assert not Proxy.objects.filter(principal=personas.tolvan).exists()


def test_a_child_cannot_appoint_a_proxy(personas):
    child = client_for(personas.child_14)
    assert child.get("/proxies/new/").status_code == 404
    assert invite(child, personas.tolvan.personnummer).status_code == 404


def test_only_the_invitee_answers(personas):
    tolvan = client_for(personas.tolvan)
    invite(tolvan, personas.other_patient.personnummer)
    proxy = Proxy.objects.get(principal=personas.tolvan)
    # The principal cannot accept on the invitee's behalf; a stranger cannot even see it.
    assert tolvan.post(f"/proxies/{proxy.id}/accept/").status_code == 404
    stranger = client_for(personas.guardian)
    assert stranger.post(f"/proxies/{proxy.id}/accept/").status_code == 404
    assert stranger.post(f"/proxies/{proxy.id}/revoke/").status_code == 404
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.INVITED


def test_a_declined_invitation_gives_no_access(personas):
    tolvan, other = client_for(personas.tolvan), client_for(personas.other_patient)
    invite(tolvan, personas.other_patient.personnummer)
    proxy = Proxy.objects.get(principal=personas.tolvan)
    other.post(f"/proxies/{proxy.id}/decline/")
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.DECLINED
    assert other.post("/acting-for/", {"subject": str(personas.tolvan.pk)}).status_code == 404
    # Answering twice is refused and changes nothing.
    other.post(f"/proxies/{proxy.id}/accept/")
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.DECLINED


def test_a_proxy_revoked_in_the_middle_of_a_session_stops_at_the_next_request(personas):
    agent = client_for(personas.adult_proxy)
    agent.post("/acting-for/", {"subject": str(personas.principal.pk)})
    assert "Du agerar för Gunnel Omsorgsdotter" in agent.get("/patient/").text
    principal = client_for(personas.principal)
    proxy = Proxy.objects.get(principal=personas.principal, agent=personas.adult_proxy, status=ProxyStatus.ACTIVE)
    assert principal.post(f"/proxies/{proxy.id}/revoke/").status_code == 302
    page = agent.get("/patient/").text
    assert "Du agerar för Gunnel" not in page
    assert "Du kan inte längre agera för den personen" in page
    assert "Välkommen, Maria" in page
    for recipient in (personas.principal, personas.adult_proxy):
        assert Notification.objects.filter(
            recipient=recipient, kind="proxy_revoked", cause=f"proxy:{proxy.id}"
        ).exists()


def test_the_agent_can_end_it_too(personas):
    agent = client_for(personas.adult_proxy)
    proxy = Proxy.objects.get(principal=personas.principal, agent=personas.adult_proxy, status=ProxyStatus.ACTIVE)
    agent.post(f"/proxies/{proxy.id}/revoke/")
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.REVOKED
    assert proxy.revoked_by == personas.adult_proxy


def test_switching_to_someone_you_may_not_act_for_is_404(personas):
    tolvan = client_for(personas.tolvan)
    for subject in (personas.other_patient.pk, "not-a-uuid", uuid.uuid4()):
        assert tolvan.post("/acting-for/", {"subject": str(subject)}).status_code == 404


def test_a_guardian_switches_to_the_young_child_but_not_the_teenager(personas):
    guardian = client_for(personas.guardian)
    page = guardian.get("/patient/").text
    assert "Liam Föräldersson" in page
    # Saga (14) is not offered, and the page says why instead of dropping her silently (issue 16 §13).
    assert f'<option value="{personas.child_14.pk}"' not in page
    assert "Saga Föräldersson finns inte i listan" in page
    assert guardian.post("/acting-for/", {"subject": str(personas.child_14.pk)}).status_code == 404
    assert (
        guardian.post("/acting-for/", {"subject": str(personas.child_9.pk), "next": "/patient/"})["Location"]
        == "/patient/"
    )
    assert "Du agerar för Liam Föräldersson" in guardian.get("/patient/").text


def test_a_switch_does_not_follow_an_outside_next_url(personas):
    guardian = client_for(personas.guardian)
    response = guardian.post("/acting-for/", {"subject": str(personas.child_9.pk), "next": "https://evil.example/"})
    assert response["Location"] == "/patient/"


def test_the_proxy_list_shows_no_one_elses_arrangements(personas, django_assert_max_num_queries):
    principal = client_for(personas.principal)
    with django_assert_max_num_queries(15):
        page = principal.get("/proxies/").text
    assert "Maria Omsorgsdotter" in page
    assert "Kent" not in page  # revoked: no longer listed
    assert "Tolvan" not in page
