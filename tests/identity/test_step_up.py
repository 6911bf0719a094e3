"""Step-up that really re-authenticates (issue 14 item 4): prompt=login and max_age=0 are sent, the
ID token's auth_time must be fresh, the demo provider keeps a single sign-on session and honours
both, and staff changes with large effect need it too."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.helpers import login_as
from tests.identity.test_oidc_login import choose, finish, hidden
from vardkontakt.access.models import Guardianship, RecordSeal
from vardkontakt.identity.middleware import AUTHENTICATED_AT
from vardkontakt.identity.models import User
from vardkontakt.identity.oidc import STEPUP_REQUESTED_AT, LoginRefused, Refusal, VerifiedLogin, check_fresh
from vardkontakt.organisation.models import Membership

TOLVAN_ID = "19121212-1212"


def logged_in(site: str) -> requests.Session:
    flow = choose(site, TOLVAN_ID)
    assert finish(flow).status_code == 302
    return flow.session


@pytest.mark.django_db(transaction=True)
def test_a_step_up_sends_prompt_login_and_max_age_0_and_the_provider_asks_again(site, personas):
    browser = logged_in(site)  # the demo provider now has a single sign-on session for Tolvan
    start = browser.get(f"{site}/login/resident/?next=/proxies/new/&stepup=1", allow_redirects=False, timeout=10)
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    page = browser.get(authorize, allow_redirects=False, timeout=10)
    assert page.status_code == 200, "the provider must ask again, not answer from its session"
    assert 'name="request"' in page.text


@pytest.mark.django_db(transaction=True)
def test_without_prompt_the_demo_providers_session_answers_silently(site, personas):
    """The behaviour the step-up must not meet: a provider with a session and no prompt=login."""
    browser = logged_in(site)
    start = browser.get(f"{site}/login/resident/", allow_redirects=False, timeout=10)
    authorize = start.headers["Location"]
    silent = authorize.replace("prompt=login", "prompt=")
    answer = browser.get(silent, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "code=" in answer.headers["Location"]
    # max_age shorter than the session's age asks again.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=False):
        again = browser.get(f"{silent}&max_age=60", allow_redirects=False, timeout=10)
    assert again.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_fresh_step_up_login_lets_the_change_through(site, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=True) as traveller:
        browser = logged_in(site)
        traveller.shift(dt.timedelta(minutes=20))
        assert "Bekräfta med din e-legitimation" in browser.get(f"{site}/proxies/new/", timeout=10).text
        begin = browser.get(f"{site}/login/resident/?next=%2Fproxies%2Fnew%2F&stepup=1", allow_redirects=False)
        page = browser.get(begin.headers["Location"], timeout=10)
        fields = {
            "csrfmiddlewaretoken": hidden(page.text, "csrfmiddlewaretoken"),
            "request": hidden(page.text, "request"),
            "identity_number": TOLVAN_ID,
            "acr": "http://id.elegnamnden.se/loa/1.0/loa3",
            "login": "1",
        }
        answer = browser.post(page.url, data=fields, allow_redirects=False, headers={"Referer": page.url})
        back = browser.get(answer.headers["Location"], allow_redirects=False, timeout=10)
        assert back.status_code == 302 and back.headers["Location"] == "/proxies/new/"
        assert "Utse ett ombud" in browser.get(f"{site}/proxies/new/", timeout=10).text


def request_with(session: dict[str, object]):
    request = RequestFactory().get("/login/resident/callback/")
    request.session = session  # type: ignore[assignment]
    return request


def test_a_step_up_needs_an_auth_time_from_after_it_began(settings):
    now = int(time.time())
    leeway = settings.OIDC_LEEWAY_SECONDS
    user = User()
    for auth_time in (None, now - leeway - 600, now + leeway + 60):
        request = request_with({STEPUP_REQUESTED_AT: now})
        with pytest.raises(LoginRefused) as refused:
            check_fresh(request, VerifiedLogin(user=user, acr="x", auth_time=auth_time))
        assert refused.value.reason is Refusal.NOT_FRESH
    check_fresh(request_with({STEPUP_REQUESTED_AT: now}), VerifiedLogin(user=user, acr="x", auth_time=now + 2))
    # An ordinary login is not a step-up: no auth_time is demanded.
    check_fresh(request_with({}), VerifiedLogin(user=user, acr="x", auth_time=None))


@pytest.mark.django_db
def test_a_new_session_on_an_old_authentication_is_not_recent(personas):
    """The platform session may be new while the provider's authentication (auth_time) is old:
    the step-up counts from the authentication."""
    client = login_as(Client(), User.objects.get_or_create_for_patient(personas.tolvan))
    session = client.session
    session[AUTHENTICATED_AT] = int(time.time()) - 3600
    session.save()
    assert "Bekräfta med din e-legitimation" in client.get("/proxies/new/").text
    session.pop(AUTHENTICATED_AT)
    session.save()
    assert "Bekräfta med din e-legitimation" in client.get("/proxies/new/").text


# --- staff changes with large effect ----------------------------------------------------------------


def stale_staff(person, settings) -> Client:
    client = login_as(Client(), User.objects.get_or_create_for_staff(person))
    session = client.session
    session[AUTHENTICATED_AT] = int(time.time()) - settings.STEPUP_MAX_AGE_MINUTES * 60 - 1
    session.save()
    return client


def assert_step_up(response, back: str) -> None:
    assert response.status_code == 401
    page = response.content.decode()
    assert "Bekräfta med ditt SITHS-kort" in page
    assert f"/login/staff/?next={back.replace('/', '%2F')}&amp;stepup=1" in page


@pytest.mark.django_db
def test_reopening_a_seal_needs_a_fresh_login(personas, settings):
    seal = RecordSeal.objects.get(patient=personas.sealed, reopened_at__isnull=True)
    archivist = stale_staff(personas.archivist, settings)
    response = archivist.post(
        f"/staff/seals/{seal.id}/reopen/", {"reason": "Identitet kontrollerad på plats enligt rutin."}
    )
    assert_step_up(response, "/staff/seals/")
    seal.refresh_from_db()
    assert seal.reopened_at is None


@pytest.mark.django_db
def test_blocking_a_guardian_needs_a_fresh_login(personas, settings):
    relation = Guardianship.objects.get(guardian=personas.guardian, child=personas.child_9)
    head = Membership.objects.filter(unit__listings__patient=personas.child_9, role="unit_admin").first()
    assert head is not None
    client = stale_staff(head.staff, settings)
    response = client.post(
        f"/staff/guardians/{relation.id}/block/", {f"{relation.id.hex}-reason": "Beslut av verksamhetschef."}
    )
    assert_step_up(response, "/staff/guardians/")
    relation.refresh_from_db()
    assert relation.blocked_at is None


@pytest.mark.django_db
def test_changing_memberships_needs_a_fresh_login_but_contact_details_do_not(personas, settings, unit_x):
    client = stale_staff(personas.unit_admin, settings)
    url = f"/staff/units/{unit_x.pk}/administration/"
    before = list(Membership.objects.filter(unit=unit_x).values_list("staff_id", "role"))
    response = client.post(url, {"action": "member_set", "hsa_id": personas.nurse.hsa_id, "role": "staff"})
    assert_step_up(response, url)
    response = client.post(url, {"action": "member_remove", "staff": str(personas.staff_x.pk)})
    assert_step_up(response, url)
    assert list(Membership.objects.filter(unit=unit_x).values_list("staff_id", "role")) == before
    assert client.get(url).status_code == 200  # looking is free
