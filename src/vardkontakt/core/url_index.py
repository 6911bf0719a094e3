"""The site's URL table, tried only where a path's first segment can lead.

Most apps are included at the root with an empty prefix (``path("", include(...))``), so Django
tried every app's patterns in turn: a booking page went through some 60 patterns of ten apps
before its own, and each app that did not match raised and collected its list of tried patterns
for the debug 404 page. In a booking rush that was 9.5 % of the web server's CPU (py-spy, 16
clients; docs/benchmarks.md "Cost per booking, seventh pass").

:class:`FirstSegmentIndex` holds the same list in the same order. For each first segment of a
path ("bookings", "staff", "") it keeps the entries whose routes can begin with it: every route
joined from its prefixes whose first segment is that literal, and every entry with a route whose
first segment is not a literal (a converter, a regular expression), which is tried for any path.
An entry none of whose routes can begin with the path's first segment cannot match it, so
skipping it changes which view is found in no case; only the debug 404 page lists fewer tried
patterns. Reversing URLs uses the whole list, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.urls import URLPattern, URLResolver
from django.urls.resolvers import RoutePattern

_ANY = object()  # an entry with a route whose first segment is not a literal


def _first_segments(entry: URLPattern | URLResolver, prefix: str = "") -> Iterator[str | object]:
    pattern = entry.pattern
    if not isinstance(pattern, RoutePattern):  # re_path, a locale prefix: could begin anyhow
        yield _ANY
        return
    route = prefix + str(pattern)
    if "/" in route or isinstance(entry, URLPattern):
        first = route.split("/", 1)[0]
        yield _ANY if "<" in first else first
        return
    for child in entry.url_patterns:  # an include whose prefix has no full segment yet ("")
        yield from _first_segments(child, route)


class FirstSegmentIndex(URLResolver):
    """A transparent include (no prefix, no namespace) of ``patterns`` that resolves a path through
    the entries its first segment can lead to (see the module's text)."""

    def __init__(self, patterns: Sequence[URLPattern | URLResolver]) -> None:
        super().__init__(RoutePattern("", is_endpoint=False), list(patterns))
        self._index: tuple[dict[str, URLResolver], URLResolver] | None = None

    def _built(self) -> tuple[dict[str, URLResolver], URLResolver]:
        """Per literal first segment, a resolver of the entries it can lead to (in their order);
        and one of the entries any path can lead to, for every other segment. Built once per
        process, on the first request."""
        if self._index is None:
            firsts = [set(_first_segments(entry)) for entry in self.url_patterns]
            literals = {first for found in firsts for first in found if isinstance(first, str)}

            def of(entries: list[URLPattern | URLResolver]) -> URLResolver:
                return URLResolver(RoutePattern("", is_endpoint=False), entries)

            self._index = (
                {
                    segment: of(
                        [e for e, f in zip(self.url_patterns, firsts, strict=True) if segment in f or _ANY in f]
                    )
                    for segment in literals
                },
                of([e for e, f in zip(self.url_patterns, firsts, strict=True) if _ANY in f]),
            )
        return self._index

    def resolve(self, path: Any) -> Any:
        path = str(path)
        by_segment, elsewhere = self._built()
        return by_segment.get(path.split("/", 1)[0], elsewhere).resolve(path)
