"""The URL table tried by first segment (core/url_index.py): every path of the site finds what
Django's own resolution of the same list finds, with far fewer patterns tried."""

from __future__ import annotations

import re
import uuid

import pytest
from django.http import HttpResponse
from django.urls import Resolver404, URLResolver, get_resolver, path, re_path
from django.urls.resolvers import RegexPattern

from tests.helpers import url_routes
from vardkontakt import urls as site_urls
from vardkontakt.core.url_index import FirstSegmentIndex

SAMPLES = {"uuid": str(uuid.UUID(int=7)), "int": "7", "str": "x", "slug": "a-b", "path": "a/b"}


def sample_path(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m[1] or "str"], route)


def plain_django() -> URLResolver:
    """Django's root resolver over the same list, without the index."""
    return URLResolver(RegexPattern(r"^/"), site_urls.site)


def answer(resolver: URLResolver, url: str) -> tuple | str:
    try:
        found = resolver.resolve(url)
    except Resolver404:
        return "404"
    return (found.func, found.url_name, found.namespaces, found.kwargs, found.route, found.args)


def test_the_site_is_one_index_over_its_list():
    assert [type(entry) for entry in get_resolver().url_patterns] == [FirstSegmentIndex]
    index = get_resolver().url_patterns[0]
    assert isinstance(index, FirstSegmentIndex) and index.url_patterns == site_urls.site


def test_every_path_of_the_site_finds_what_django_finds():
    plain, indexed = plain_django(), get_resolver()
    urls = sorted({"/" + sample_path(route) for route, _ in url_routes(site_urls.site)})
    assert len(urls) > 150
    differ = [url for url in urls if answer(indexed, url) != answer(plain, url)]
    assert differ == []
    # and the paths that are not there: an unknown first segment, a known one with a wrong rest
    for url in ("/nowhere/", "/bookings/nowhere/", "/staff/nowhere/", "/x", "/.env", "/bookings"):
        assert answer(indexed, url) == answer(plain, url) == "404"


def test_a_booking_page_tries_only_the_patterns_its_segment_leads_to():
    url = "/" + sample_path("bookings/book/<uuid:unit_id>/slot/<uuid:slot_id>/")
    indexed, plain = get_resolver().resolve(url), plain_django().resolve(url)
    assert indexed.func is plain.func and indexed.url_name == "book"
    assert indexed.tried is not None and plain.tried is not None
    assert len(indexed.tried) < 25 < 50 < len(plain.tried)


def view_a(request):
    return HttpResponse("a")


def view_b(request):
    return HttpResponse("b")


@pytest.mark.parametrize(
    ("patterns", "url", "found"),
    [
        # an earlier entry whose first segment is a converter is still tried first, as in Django
        ([path("<str:who>/", view_a), path("bookings/", view_b)], "bookings/", view_a),
        ([path("bookings/", view_b), path("<str:who>/", view_a)], "bookings/", view_b),
        ([path("bookings/", view_b), path("<str:who>/", view_a)], "other/", view_a),
        # a regular expression could begin anyhow
        ([re_path(r"^(book|see)ings/$", view_a), path("bookings/", view_b)], "bookings/", view_a),
        # an include with an empty prefix is looked into
        ([path("", ([path("x/y/", view_a)], None, None)), path("x/", view_b)], "x/y/", view_a),
        # the empty path is a segment too
        ([path("x/", view_b), path("", view_a)], "", view_a),
        ([path("x/", view_b)], "y/", None),
    ],
)
def test_which_entry_answers_is_what_django_says(patterns, url, found):
    index = FirstSegmentIndex(patterns)
    if found is None:
        with pytest.raises(Resolver404):
            index.resolve(url)
    else:
        assert index.resolve(url).func is found
    plain = URLResolver(RegexPattern(r""), patterns)
    assert answer(index, url) == answer(plain, url)
