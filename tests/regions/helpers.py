"""Requests as a member of staff on the region's pages."""

from __future__ import annotations

from django.test import Client

from tests.helpers import login_as
from vardkontakt.identity.models import Staff, User


def client_of(staff: Staff, *, language: str = "") -> Client:
    """Logged in as ``staff``; with ``language``, asking for the pages in it (the cookie)."""
    client = login_as(Client(), User.objects.get_or_create_for_staff(staff))
    if language:
        client.cookies["vk_language"] = language
    return client
