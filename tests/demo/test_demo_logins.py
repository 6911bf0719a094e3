"""Issue 16 §16: the demo says whom to pick for every role, in the pages' language, and the README
and the demo provider agree with the data."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from vardkontakt.demo.logins import login_lines
from vardkontakt.demo_idp.roles import resident_roles, staff_roles
from vardkontakt.identity.models import Patient, Staff
from vardkontakt.organisation.models import RegionRole, RegionRoleKind

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
EVERY_ROLE = [
    "verksamhetsadministratör",
    "samordnare",
    "regionadministratör",
    "arkivarie",
    "support",
    "vårdnadshavare för",
    "ombud för",
    "förseglad journal",
]


def test_the_banner_names_a_person_for_every_role_in_swedish(demo_region):
    text = "\n".join(login_lines())
    for role in EVERY_ROLE:
        assert role in text, role
    assert "Logga in med e-legitimation" in text and "Logga in med ditt SITHS-kort" in text
    archivist = RegionRole.objects.get(role=RegionRoleKind.ARCHIVIST).staff
    assert re.search(rf"{archivist.full_name}\s+{archivist.hsa_id}\s+arkivarie", text)
    assert "19121212-1212" in text
    # No English role words on a Swedish banner.
    assert not re.search(r"\b(coordinator|unit administrator|guardian|archivist)\b", text)


def test_serve_demo_prints_the_logins(monkeypatch, demo_region):
    class Finished:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def poll(self) -> int:
            return 0

        def wait(self, timeout: float) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", Finished)
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("serve_demo", stdout=out)
    assert "arkivarie (öppnar förseglade journaler)" in out.getvalue()
    assert "samordnare, " in out.getvalue()


def test_the_readme_names_the_people_the_demo_gives_each_role(demo_region):
    readme = README.read_text()
    staff = staff_roles()
    for kind in (RegionRoleKind.REGION_ADMIN, RegionRoleKind.ARCHIVIST, RegionRoleKind.SUPPORT):
        person = RegionRole.objects.get(role=kind).staff
        assert f"| {person.full_name} | {person.hsa_id} |" in readme, kind
    coordinator = Staff.objects.filter(coordinated_administrations__isnull=False).order_by("hsa_id").first()
    assert coordinator is not None and f"| {coordinator.full_name} | {coordinator.hsa_id} |" in readme
    for person in Staff.objects.filter(pk__in=list(staff)).order_by("hsa_id")[:2]:
        assert f"| {person.full_name} | {person.hsa_id} |" in readme  # the first unit administrators
    residents = resident_roles()
    for patient in Patient.objects.filter(pk__in=list(residents)).exclude(
        given_name__in=["Erik", "Liam", "Noah", "Elsa"]
    ):
        assert patient.full_name in readme, patient.full_name


def test_the_demo_provider_labels_each_persons_role(demo_region):
    from vardkontakt.demo_idp.forms import ChooserForm

    staff_choices = dict(ChooserForm(tenant="siths", required_acr="x").fields["person"].choices)  # type: ignore[attr-defined]
    archivist = RegionRole.objects.get(role=RegionRoleKind.ARCHIVIST).staff
    assert staff_choices[archivist.hsa_id].endswith("– arkivarie (öppnar förseglade journaler)")
    labels = list(staff_choices.values())[1:]
    # People with a role come first.
    assert "–" in labels[0] and "–" not in labels[-1]
    residents = dict(ChooserForm(tenant="eid", required_acr="x").fields["person"].choices)  # type: ignore[attr-defined]
    maria = Patient.objects.get(given_name="Maria", family_name="Omsorgsdotter")
    assert residents[maria.personnummer].endswith("– ombud för Gunnel")
