"""The relying party's checks on the ID token, each broken on purpose at the provider.

The live server runs in this process, so the provider's token response can be altered here: the
relying party then receives, over real HTTP, exactly the forged token a hostile or broken
provider would send.
"""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.identity.test_oidc_login import choose, finish, refusal_reason
from vardkontakt.demo_idp import protocol
from vardkontakt.demo_idp.keys import signing_key
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def forge(monkeypatch):
    """Replace claims (or the signing key) of the next ID tokens the demo provider issues."""

    def install(*, key: RSAKey | None = None, drop: tuple[str, ...] = (), **changes: object) -> None:
        original = protocol.exchange_code

        def altered(tenant, *, basic, form):
            body = original(tenant, basic=basic, form=form)
            real_key = signing_key()
            token = jwt.decode(body["id_token"], real_key)
            claims = {k: v for k, v in {**token.claims, **changes}.items() if k not in drop}
            signer = key or real_key
            body["id_token"] = jwt.encode({"alg": "RS256", "kid": real_key.kid}, claims, signer)
            return body

        monkeypatch.setattr(protocol, "exchange_code", altered)

    return install


def assert_refused_as_token(site):
    assert refusal_reason(finish(choose(site, "19121212-1212"))) == "token"
    assert not User.objects.exists()


def test_it_refuses_a_token_signed_with_another_key(site, personas, forge):
    forge(key=RSAKey.generate_key(2048))
    assert_refused_as_token(site)


def test_it_refuses_a_token_from_another_issuer(site, personas, forge):
    forge(iss="https://evil.example/op")
    assert_refused_as_token(site)


def test_it_refuses_a_token_for_another_client(site, personas, forge):
    forge(aud="someone-else")
    assert_refused_as_token(site)


def test_it_refuses_an_expired_token(site, personas, forge):
    forge(exp=1_000_000_000, iat=999_999_000)
    assert_refused_as_token(site)


def test_it_refuses_a_token_with_another_nonce(site, personas, forge):
    forge(nonce="replayed-from-another-login")
    assert_refused_as_token(site)


def test_it_refuses_a_token_without_nonce(site, personas, forge):
    forge(drop=("nonce",))
    assert_refused_as_token(site)


def test_it_refuses_a_token_without_the_personal_identity_number(site, personas, forge, settings):
    forge(drop=(settings.OIDC_PROVIDERS["resident"]["subject_claim"],))
    assert refusal_reason(finish(choose(site, "19121212-1212"))) == "no_subject"


def test_it_refuses_a_token_without_acr(site, personas, forge):
    forge(drop=("acr",))
    assert refusal_reason(finish(choose(site, "19121212-1212"))) == "acr"
