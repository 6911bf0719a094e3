"""Configuration from the environment: production by default, refusing to start half-set; the demo
only when asked for with VK_DEMO=true."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from vardkontakt.core.env import env_bool, env_int, env_list, env_str

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "VK_DEMO_IDP": "false",
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "vardkontakt.example",
    "VK_OIDC_RESIDENT_ISSUER": "https://eid.example/op",
    "VK_OIDC_RESIDENT_CLIENT_ID": "resident",
    "VK_OIDC_RESIDENT_CLIENT_SECRET": "resident-secret",
    "VK_OIDC_STAFF_ISSUER": "https://siths.example/op",
    "VK_OIDC_STAFF_CLIENT_ID": "staff",
    "VK_OIDC_STAFF_CLIENT_SECRET": "staff-secret",
    "VK_SMS_API_USERNAME": "u123",
    "VK_SMS_API_PASSWORD": "p456",
    "VK_AUDIT_KEY": "k" * 40,
}

PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.PRODUCTION, s.DEMO_IDP_ENABLED, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS, 'vardkontakt.demo_idp' in s.INSTALLED_APPS)"
)


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VK_"))}
    clean["DJANGO_SETTINGS_MODULE"] = "vardkontakt.settings"
    return subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_with_no_environment_it_refuses_and_names_what_is_missing():
    result = run_settings({})
    assert result.returncode != 0
    assert "production mode unless VK_DEMO=true" in result.stderr
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "VK_OIDC_RESIDENT_ISSUER", "VK_OIDC_STAFF_CLIENT_SECRET"):
        assert name in result.stderr


@pytest.mark.parametrize("typo", [{"VK_DEMO_": "true"}, {"VK_DMEO": "true"}, {"DJANGO_DEBUG": "false"}])
def test_a_forgotten_or_misspelt_demo_flag_is_production_and_refuses(typo):
    result = run_settings(typo)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_is_refused_without_the_demo_flag():
    result = run_settings({**PRODUCTION_ENV, "DJANGO_DEBUG": "true"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG=true is only allowed together with VK_DEMO=true" in result.stderr


def test_the_demo_is_asked_for_explicitly_and_still_runs_without_debug():
    result = run_settings({"VK_DEMO": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True", "False", "False", "0", "True"]


def test_production_with_everything_set_starts_hardened():
    result = run_settings(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    debug, production, demo_idp, secure_session, secure_csrf, hsts, idp_app = result.stdout.split()
    assert (debug, production, demo_idp, idp_app) == ("False", "True", "False", "False")
    assert (secure_session, secure_csrf) == ("True", "True")
    assert int(hsts) >= 31536000


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "VK_OIDC_RESIDENT_ISSUER",
        "VK_OIDC_STAFF_CLIENT_SECRET",
        "VK_SMS_API_PASSWORD",
        "VK_AUDIT_KEY",
    ],
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_settings(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_a_short_audit_key():
    result = run_settings({**PRODUCTION_ENV, "VK_AUDIT_KEY": "short"})
    assert result.returncode != 0
    assert "VK_AUDIT_KEY must be at least 32 characters" in result.stderr


def test_production_refuses_wildcard_hosts():
    result = run_settings({**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert "'*' is not allowed" in result.stderr


def test_the_demo_identity_provider_refuses_to_start_in_production():
    result = run_settings({**PRODUCTION_ENV, "VK_DEMO_IDP": "true"})
    assert result.returncode != 0
    assert "demo identity provider" in result.stderr


def test_the_demo_provider_can_be_left_out_of_the_demo():
    result = run_settings({"VK_DEMO": "true", "VK_DEMO_IDP": "false"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[2] == "False"


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file-" + "y" * 40 + "\n")
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_settings({**env, "DJANGO_SECRET_KEY_FILE": str(secret)})
    assert result.returncode == 0, result.stderr


def test_a_malformed_boolean_stops_the_process():
    result = run_settings({"VK_DEMO": "true", "DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("Yes", True), ("off", False)])
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("VK_FLAG", raw)
    assert env_bool("VK_FLAG", not expected) is expected


def test_env_int_is_strict(monkeypatch):
    monkeypatch.setenv("VK_NUMBER", "12h")
    with pytest.raises(ImproperlyConfigured, match="VK_NUMBER"):
        env_int("VK_NUMBER", 1)
    monkeypatch.setenv("VK_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("VK_NUMBER", 1, minimum=1)


def test_env_list_and_str(monkeypatch):
    monkeypatch.setenv("VK_HOSTS", " a.example, b.example ,,")
    assert env_list("VK_HOSTS") == ["a.example", "b.example"]
    monkeypatch.delenv("VK_NOTHING", raising=False)
    assert env_str("VK_NOTHING", "default") == "default"


def test_every_response_carries_the_permissions_and_resource_policies(client, db):
    for url in ("/", "/static/vardkontakt/build/main.css", "/no-such-page/"):
        response = client.get(url)
        assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()", url
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", url
