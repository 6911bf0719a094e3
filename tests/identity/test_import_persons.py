"""The population register's extract of persons: names, registered addresses (for paper letters),
protected identity; all or nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from vardkontakt.identity.models import Patient

pytestmark = pytest.mark.django_db
HEADER = "personnummer,given_name,family_name,street_address,postal_code,city,protected_identity\n"


def extract(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "persons.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_new_and_known_persons_get_their_registered_address(tmp_path):
    Patient.objects.create(personnummer="191212121212", given_name="Tolvan", family_name="Tolvansson")
    path = extract(
        tmp_path,
        "19121212-1212,Tolvan,Tolvansson,Storgatan 1,211 45,Malmö,0\n"
        "201212121212,Sara,Skyddad,Hemliga vägen 2,11120,Stockholm,1\n",
    )
    out = io.StringIO()
    call_command("import_persons", str(path), stdout=out)
    assert "1 new, 1 updated" in out.getvalue()
    tolvan = Patient.objects.get(personnummer="191212121212")
    assert (tolvan.street_address, tolvan.postal_code, tolvan.city) == ("Storgatan 1", "21145", "Malmö")
    assert tolvan.has_address
    hidden = Patient.objects.get(personnummer="201212121212")
    assert hidden.protected_identity and not hidden.has_address  # the register gives no address out


def test_one_bad_line_imports_nothing_and_names_the_line(tmp_path):
    path = extract(
        tmp_path,
        "19121212-1212,Tolvan,Tolvansson,Storgatan 1,21145,Malmö,0\n191212121213,Fel,Nummer,Väg 1,21145,Malmö,0\n"
        "201212121212,Sara,Exempel,Väg 2,2114,Malmö,0\n",
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_persons", str(path))
    assert "line 3" in str(refused.value) and "line 4" in str(refused.value)
    assert not Patient.objects.exists()
