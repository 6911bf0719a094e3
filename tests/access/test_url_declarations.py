"""Deny by default: every URL declares who may reach it, and an undeclared view never runs."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.urls import get_resolver, path

from tests.helpers import url_routes
from vardkontakt.identity.decorators import access_of, public

KNOWN = {"public", "patient", "staff", "integration"}


def test_every_url_is_public_by_declaration_or_guarded():
    undeclared = [route for route, view in url_routes(get_resolver().url_patterns) if access_of(view) not in KNOWN]
    assert undeclared == []


def test_the_walk_sees_the_whole_url_conf():
    routes = {route for route, _ in url_routes(get_resolver().url_patterns)}
    assert {"healthz", "login/<str:side>/callback/", "staff/settings/", "demo-idp/<str:tenant>/token"} <= routes


def undeclared_view(request):
    return HttpResponse("secret")


@public
def declared_view(request):
    return HttpResponse("hello")


urlpatterns = [path("undeclared/", undeclared_view), path("declared/", declared_view)]


@pytest.mark.urls("tests.access.test_url_declarations")
def test_an_undeclared_view_answers_404_and_never_runs(client):
    assert client.get("/declared/").content == b"hello"
    response = client.get("/undeclared/")
    assert response.status_code == 404
    assert b"secret" not in response.content
