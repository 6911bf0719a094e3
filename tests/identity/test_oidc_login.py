"""The whole OpenID Connect round trip against the demo provider, over real HTTP, and its refusals."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import LOA2, LOA3, TOLVAN
from vardkontakt.identity.models import Patient, User

pytestmark = pytest.mark.django_db(transaction=True)


def hidden(html: str, name: str) -> str:
    """The value of a hidden form field on a page the test fetched."""
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} on the page"
    return match[1]


@dataclass
class Flow:
    session: requests.Session
    callback: str  # the provider's redirect back to us, not yet followed


def start(site: str, side: str = "resident", session: requests.Session | None = None) -> tuple[requests.Session, str]:
    browser = session or requests.Session()
    response = browser.get(f"{site}/login/{side}/", allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return browser, response.headers["Location"]


def choose(site: str, identity: str, *, side: str = "resident", acr: str = LOA3, **extra: str) -> Flow:
    browser, authorize_url = start(site, side)
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200
    fields = {
        "csrfmiddlewaretoken": hidden(page.text, "csrfmiddlewaretoken"),
        "request": hidden(page.text, "request"),
        "identity_number": identity,
        "acr": acr,
        "login": "1",
        **extra,
    }
    answer = browser.post(page.url, data=fields, allow_redirects=False, headers={"Referer": page.url}, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    return Flow(browser, answer.headers["Location"])


def finish(flow: Flow) -> requests.Response:
    return flow.session.get(flow.callback, allow_redirects=False, timeout=10)


def refusal_reason(response: requests.Response) -> str:
    assert response.status_code == 403, response.text[:300]
    match = re.search(r'data-refusal="([^"]+)"', response.text)
    assert match, response.text[:300]
    return match[1]


def test_a_resident_logs_in_and_reaches_their_home(site, personas):
    response = finish(choose(site, "19121212-1212"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/home/"
    home = requests.get(f"{site}/patient/", cookies=response.cookies, timeout=10)
    assert "Tolvan" in home.text
    assert User.objects.get(patient__personnummer=TOLVAN).kind == "patient"


def test_a_resident_unknown_to_us_is_registered_with_the_e_id_name(site, db):
    flow = choose(site, "19121212-1212", given_name="Tolvan", family_name="Tolvansson")
    assert finish(flow).status_code == 302
    patient = Patient.objects.get(personnummer=TOLVAN)
    assert (patient.given_name, patient.family_name) == ("Tolvan", "Tolvansson")


def test_a_staff_member_logs_in_and_is_sent_to_personal_settings_the_first_time(site, personas):
    response = finish(choose(site, personas.nurse.hsa_id, side="staff"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/settings/"


def test_it_refuses_a_callback_with_a_state_it_did_not_issue(site, personas):
    flow = choose(site, "19121212-1212")
    forged = re.sub(r"state=[^&]+", "state=forged", flow.callback)
    assert refusal_reason(flow.session.get(forged, allow_redirects=False, timeout=10)) == "state"
    assert not User.objects.filter(patient__personnummer=TOLVAN).exists()


def test_it_refuses_a_callback_from_another_browser(site, personas):
    flow = choose(site, "19121212-1212")
    stranger = requests.Session()
    assert refusal_reason(stranger.get(flow.callback, allow_redirects=False, timeout=10)) == "state"


def test_a_replayed_callback_is_refused(site, personas):
    flow = choose(site, "19121212-1212")
    assert finish(flow).status_code == 302
    # The same browser sends the same code again: the state was spent, nothing logs in twice.
    assert refusal_reason(finish(flow)) == "state"


def test_the_provider_refuses_a_replayed_code_even_with_the_right_verifier(site, settings):
    """Straight at the token endpoint, as an attacker holding a leaked code and verifier would."""
    browser, authorize_url = start(site)
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query["code_challenge"] = challenge
    chooser = browser.get(f"{site}/demo-idp/eid/authorize", params=query, timeout=10)
    fields = {
        "csrfmiddlewaretoken": hidden(chooser.text, "csrfmiddlewaretoken"),
        "request": hidden(chooser.text, "request"),
        "identity_number": "19121212-1212",
        "acr": LOA3,
        "login": "1",
    }
    answer = browser.post(chooser.url, data=fields, allow_redirects=False, headers={"Referer": chooser.url}, timeout=10)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    conf = settings.OIDC_PROVIDERS["resident"]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": query["redirect_uri"],
        "code_verifier": verifier,
    }
    auth = (conf["client_id"], conf["client_secret"])
    first = requests.post(f"{site}/demo-idp/eid/token", data=exchange, auth=auth, timeout=10)
    assert first.status_code == 200 and "id_token" in first.json()
    second = requests.post(f"{site}/demo-idp/eid/token", data=exchange, auth=auth, timeout=10)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_it_refuses_an_assurance_level_below_three(site, personas):
    assert refusal_reason(finish(choose(site, "19121212-1212", acr=LOA2))) == "acr"
    assert not User.objects.exists()


def test_it_refuses_a_staff_member_it_does_not_know(site, personas):
    assert refusal_reason(finish(choose(site, "SE2321000255-NOBODY", side="staff"))) == "unknown_staff"


def test_it_refuses_a_samordningsnummer_and_says_so(site, personas):
    response = finish(choose(site, "19121272-1219"))
    assert refusal_reason(response) == "samordningsnummer"
    assert "samordningsnummer" in response.text
    assert not Patient.objects.filter(personnummer="191212721219").exists()


def test_it_refuses_a_reserve_number(site, personas):
    assert refusal_reason(finish(choose(site, "19121212-12AB"))) == "invalid_number"


def test_the_refusal_is_translated(site, personas):
    flow = choose(site, "19121212-1212", acr=LOA2)
    swedish = finish(flow)
    assert "säkerhetsnivå" in swedish.text
    flow = choose(site, "19121212-1212", acr=LOA2)
    flow.session.cookies.set("vk_language", "en")
    english = finish(flow)
    assert "high enough level of assurance" in english.text


def test_a_cancelled_login_is_a_clean_refusal(site, personas):
    browser, authorize_url = start(site)
    page = browser.get(authorize_url, timeout=10)
    fields = {
        "csrfmiddlewaretoken": hidden(page.text, "csrfmiddlewaretoken"),
        "request": hidden(page.text, "request"),
        "acr": LOA3,
        "cancel": "1",
    }
    answer = browser.post(page.url, data=fields, allow_redirects=False, headers={"Referer": page.url}, timeout=10)
    assert refusal_reason(browser.get(answer.headers["Location"], allow_redirects=False, timeout=10)) == "provider"


def test_the_provider_rejects_an_unregistered_redirect_uri(site):
    browser, authorize_url = start(site)
    evil = re.sub(r"redirect_uri=[^&]+", "redirect_uri=https%3A%2F%2Fevil.example%2Fcb", authorize_url)
    response = browser.get(evil, allow_redirects=False, timeout=10)
    assert response.status_code == 400
    assert "evil.example" not in response.headers.get("Location", "")


def test_the_provider_requires_pkce(site):
    browser, authorize_url = start(site)
    without = re.sub(r"&code_challenge=[^&]+", "", authorize_url)
    assert browser.get(without, allow_redirects=False, timeout=10).status_code == 400


def test_the_login_gives_a_new_session_id(site, personas):
    flow = choose(site, "19121212-1212")
    before = flow.session.cookies.get("vk_session")
    assert before  # the state was stored in a pre-login session
    response = finish(flow)
    after = response.cookies.get("vk_session")
    assert after and after != before


def test_logout_ends_the_session_on_the_server(site, personas):
    flow = choose(site, "19121212-1212")
    finish(flow)
    browser = flow.session
    assert browser.get(f"{site}/patient/", allow_redirects=False, timeout=10).status_code == 200
    stolen = browser.cookies.get("vk_session")
    page = browser.get(f"{site}/patient/", timeout=10)
    token = hidden(page.text, "csrfmiddlewaretoken")
    out = browser.post(
        f"{site}/logout/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": f"{site}/patient/"},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302
    assert stolen
    replay = requests.get(f"{site}/patient/", cookies={"vk_session": stolen}, allow_redirects=False, timeout=10)
    assert replay.status_code == 302
    assert "/login/resident/" in replay.headers["Location"]


def test_an_unreachable_provider_is_a_clean_translated_503(client, settings):
    providers = {side: dict(conf) for side, conf in settings.OIDC_PROVIDERS.items()}
    providers["resident"]["issuer"] = "http://127.0.0.1:9/demo-idp/eid"
    settings.OIDC_PROVIDERS = providers
    response = client.get("/login/resident/")
    assert response.status_code == 503
    assert "E-legitimationstjänsten går inte att nå just nu" in response.content.decode()
