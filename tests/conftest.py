"""Shared fixtures: the demo region, named personas, and a live server wired to the demo provider."""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
from django.utils import timezone, translation

from tests import db_template, demo_snapshot, emptying
from vardkontakt.cases.defaults import ServiceKind
from vardkontakt.cases.models import Case, Service
from vardkontakt.cases.questions import answers_for_storage
from vardkontakt.cases.services import case_create, service_activate
from vardkontakt.demo import demo_data
from vardkontakt.demo.demo_data import staff_hsa_id
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import CareUnit

# `--clock-shift`: the suite run as if it were another day (tests/clock_shift.py).
pytest_plugins = ["tests.clock_shift"]

# Property tests judge behaviour, never speed: on a machine busy with other work, Hypothesis's
# per-example deadline and its "too slow" health check fail tests that are right (seen in a run
# under load: tests/identity/test_numbers.py). Each test still sets its own example count.
hypothesis.settings.register_profile(
    "vardkontakt", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("vardkontakt")

# VK_CROWD_LOCK: checkouts sharing one PostgreSQL server share one lock file, so their crowds of
# connections never overlap either.
CROWD_LOCK = Path(
    os.environ.get("VK_CROWD_LOCK") or Path(__file__).resolve().parents[1] / "var" / "many-connections.lock"
)


@pytest.fixture(autouse=True)
def _one_crowd_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """The 50-person races open a connection per person: two of them at once in the two test
    processes would pass PostgreSQL's max_connections (100) and fail for that alone. A test marked
    many_connections waits for the others' to end (a file lock, shared by the test processes)."""
    if request.node.get_closest_marker("many_connections") is None:
        yield
        return
    CROWD_LOCK.parent.mkdir(exist_ok=True)
    with CROWD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# After a test in committed transactions, only the tables holding rows are emptied (tests/emptying.py).
emptying.install()
# Each process's SQLite test database is a copy of one migrated with the same migrations (tests/db_template.py).
db_template.install()

# Sync Playwright runs an event loop in the test thread; the ORM calls beside it are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
TOLVAN = "191212121212"


@dataclass
class Personas:
    """The people tests talk about (STYLE.md §9), all from the demo region (load_demo)."""

    tolvan: Patient  # patient A, listed at Vårdcentralen Lindängen
    other_patient: Patient  # patient B
    guardian: Patient  # Anna, guardian of the 9- and the 14-year-old
    child_9: Patient
    child_14: Patient
    blocked_guardian: Patient  # Jonas, blocked for Elsa (7)
    blocked_child: Patient
    protected_child: Patient  # Noah (6), protected identity; guardian Lina
    protected_guardian: Patient
    adult_proxy: Patient  # Maria, active proxy for Gunnel (all scopes)
    principal: Patient  # Gunnel, 86
    revoked_proxy: Patient  # Kent, his proxy for Gunnel was revoked
    sealed: Patient  # Sofia, record sealed
    nurse: Staff  # staff of Vårdcentralen Kärnan
    nurse_elsewhere: Staff  # staff of Barnavårdscentralen Söder
    staff_x: Staff  # staff of Vårdcentralen Lindängen (Tolvan's unit)
    unit_admin: Staff  # unit administrator of Vårdcentralen Lindängen
    coordinator: Staff
    region_admin: Staff
    archivist: Staff
    support: Staff


@pytest.fixture(autouse=True)
def _banner_read_afresh() -> Iterator[None]:
    """The banner's messages are kept per process for a few seconds; a test's rolled-back rows
    must not show in the next test."""
    from vardkontakt.operations.selectors import forget_messages

    forget_messages()
    yield
    forget_messages()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts and ends in the default language (Swedish): a request through the test
    client leaves the language it chose active in the thread, and the next test in that worker
    would otherwise render English figures (seen: a decimal point instead of a comma)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the (per-process) cache: each test starts without any."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _audit_checkpoints_per_test(settings, tmp_path) -> None:
    """Audit checkpoints live outside the database; each test's rolled-back log gets its own."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture
def demo_region(db: None) -> None:
    """What `load_demo --no-activity` builds (tests/demo_snapshot.py: copied back from this
    process's last build where that is the same)."""
    demo_snapshot.load_demo_region()


@pytest.fixture
def personas(demo_region: None) -> Personas:
    def patient(given: str, family: str) -> Patient:
        return Patient.objects.get(given_name=given, family_name=family)

    def staff(number: int) -> Staff:
        return Staff.objects.get(hsa_id=staff_hsa_id(number))

    other = demo_data.other_people(timezone.localdate(), 2)[1]
    return Personas(
        tolvan=Patient.objects.get(personnummer=TOLVAN),
        other_patient=Patient.objects.get(personnummer=other.personnummer),
        guardian=patient("Anna", "Föräldersson"),
        child_9=patient("Liam", "Föräldersson"),
        child_14=patient("Saga", "Föräldersson"),
        blocked_guardian=patient("Jonas", "Blockesson"),
        blocked_child=patient("Elsa", "Blockesson"),
        protected_child=patient("Noah", "Skyddad"),
        protected_guardian=patient("Lina", "Skyddad"),
        adult_proxy=patient("Maria", "Omsorgsdotter"),
        principal=patient("Gunnel", "Omsorgsdotter"),
        revoked_proxy=patient("Kent", "Återkallad"),
        sealed=patient("Sofia", "Förseglad"),
        # Staff 1..12 administer one unit each (in demo_data.UNITS order); 13.. are members.
        nurse=staff(14),
        nurse_elsewhere=staff(15),
        staff_x=staff(13),
        unit_admin=staff(1),
        coordinator=staff(26),
        region_admin=staff(25),
        archivist=staff(24),
        support=staff(23),
    )


def wire_to_own_provider(settings, url: str) -> None:
    """A server at ``url`` whose relying parties talk to its own demo provider (pytest-django's
    ``settings`` fixture, changed for the test only)."""
    settings.SITE_URL = url
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    providers = {side: dict(conf) for side, conf in settings.OIDC_PROVIDERS.items()}
    providers["resident"]["issuer"] = f"{url}/demo-idp/eid"
    providers["staff"]["issuer"] = f"{url}/demo-idp/siths"
    settings.OIDC_PROVIDERS = providers


@pytest.fixture
def site(live_server, settings) -> Iterator[str]:
    """A live server whose relying parties talk to its own demo provider over real HTTP."""
    url = live_server.url
    wire_to_own_provider(settings, url)
    yield url


@pytest.fixture
def unit_x(personas) -> CareUnit:
    """Vårdcentralen Lindängen: Tolvan is listed there; staff_x is a member, unit_admin its head."""
    return personas.unit_admin.memberships.get().unit


@pytest.fixture
def advice(unit_x, personas) -> Service:
    return service_activate(unit=unit_x, kind=ServiceKind.ADVICE, by=personas.unit_admin)


@pytest.fixture
def tolvans_case(advice, personas) -> Case:
    answers = answers_for_storage(advice.questions, {"what": "Jag har haft ont i halsen i en vecka."})
    return case_create(
        actor=personas.tolvan,
        subject=personas.tolvan,
        service=advice,
        answers=answers,
        idempotency_key=uuid.uuid4().hex,
    )
