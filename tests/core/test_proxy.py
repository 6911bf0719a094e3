"""The client's address behind the reverse proxy (core/proxy.py)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from vardkontakt.core.proxy import ForwardedForMiddleware


def seen_address(settings, *, trusted: list[str], peer: str, forwarded: str | None) -> str:
    settings.TRUSTED_PROXIES = trusted
    seen: list[str] = []

    def view(request):
        seen.append(request.META["REMOTE_ADDR"])
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR=peer)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    ForwardedForMiddleware(view)(request)
    return seen[0]


def test_a_trusted_proxy_names_the_client(settings):
    assert seen_address(settings, trusted=["127.0.0.1"], peer="127.0.0.1", forwarded="203.0.113.7") == "203.0.113.7"


def test_the_entry_the_proxy_added_counts_not_what_the_client_wrote(settings):
    # A client may send its own X-Forwarded-For; a proxy that appends puts the real peer last.
    address = seen_address(settings, trusted=["::1"], peer="::1", forwarded="10.0.0.1, 2001:db8::5")
    assert address == "2001:db8::5"


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded"),
    [
        ([], "127.0.0.1", "203.0.113.7"),  # nothing trusted (the default)
        (["127.0.0.1"], "198.51.100.9", "203.0.113.7"),  # the header from someone else
        (["127.0.0.1"], "127.0.0.1", "not-an-address"),  # garbage is ignored
        (["127.0.0.1"], "127.0.0.1", None),  # no header
    ],
)
def test_otherwise_the_peer_stays(settings, trusted, peer, forwarded):
    assert seen_address(settings, trusted=trusted, peer=peer, forwarded=forwarded) == peer
