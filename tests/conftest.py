"""Shared fixtures: the demo region, named personas, and a live server wired to the demo provider."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.management import call_command

from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.demo_data import staff_hsa_id

# Sync Playwright runs an event loop in the test thread; the ORM calls beside it are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
TOLVAN = "191212121212"


@dataclass
class Personas:
    """The people tests talk about (STYLE.md §9), all from the demo region."""

    tolvan: Patient
    other_patient: Patient
    guardian: Patient
    child_9: Patient
    child_14: Patient
    nurse: Staff
    nurse_elsewhere: Staff
    unit_admin: Staff


@pytest.fixture
def demo_region(db: None) -> None:
    call_command("load_demo", verbosity=0)


@pytest.fixture
def personas(demo_region: None) -> Personas:
    def patient(given: str, family: str) -> Patient:
        return Patient.objects.get(given_name=given, family_name=family)

    return Personas(
        tolvan=Patient.objects.get(personnummer=TOLVAN),
        other_patient=patient("Maria", "Omsorgsdotter"),
        guardian=patient("Anna", "Föräldersson"),
        child_9=patient("Liam", "Föräldersson"),
        child_14=patient("Saga", "Föräldersson"),
        # Staff 13 and 14 are ordinary members; 1..12 administer one unit each.
        nurse=Staff.objects.get(hsa_id=staff_hsa_id(14)),
        nurse_elsewhere=Staff.objects.get(hsa_id=staff_hsa_id(15)),
        unit_admin=Staff.objects.get(hsa_id=staff_hsa_id(1)),
    )


@pytest.fixture
def site(live_server, settings) -> Iterator[str]:
    """A live server whose relying parties talk to its own demo provider over real HTTP."""
    url = live_server.url
    settings.SITE_URL = url
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    providers = {side: dict(conf) for side, conf in settings.OIDC_PROVIDERS.items()}
    providers["resident"]["issuer"] = f"{url}/demo-idp/eid"
    providers["staff"]["issuer"] = f"{url}/demo-idp/siths"
    settings.OIDC_PROVIDERS = providers
    yield url
