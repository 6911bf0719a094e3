from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver

from vardkontakt.identity.middleware import AUTH_AT, AUTHENTICATED_AT, SEEN_AT
from vardkontakt.identity.models import User

BACKEND = "vardkontakt.identity.backends.OidcSubjectBackend"


def login_as(client: Client, user: User) -> Client:
    """What a completed OIDC login leaves in the session (the round trip itself is tested apart)."""
    client.force_login(user, backend=BACKEND)
    session = client.session
    now = int(time.time())
    session[AUTH_AT] = now
    session[SEEN_AT] = now
    session[AUTHENTICATED_AT] = now
    session.save()
    return client


def minimal_pdf() -> bytes:
    """A small, well-formed one-page PDF (what a scanner or a word processor sends)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def picture(fmt: str = "PNG", size: tuple[int, int] = (40, 30), **save: object) -> bytes:
    """A small picture in ``fmt`` (PNG or JPEG); ``save`` goes to Pillow (exif=..., comment=...)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt, **save)
    return out.getvalue()


def at_once(calls: Sequence[Callable[..., object]]) -> list[BaseException]:
    """Run the calls in threads released together by a barrier (each with its own database
    connection, closed after), and return what they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def url_routes(
    patterns: Sequence[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every view of a URL table with its whole route (the includes' prefixes joined)."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from url_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback
