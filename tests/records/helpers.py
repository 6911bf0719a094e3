"""What the record tests share: a resident's logged-in client, a unit of a kind, and the record's
rows as a source system would send them."""

from __future__ import annotations

import datetime as dt
import itertools

from django.test import Client
from django.utils import timezone

from tests.helpers import login_as
from vardkontakt.identity.models import Patient, User
from vardkontakt.organisation.models import CareUnit, UnitKind
from vardkontakt.records.models import LabResult, RecordNote

_ids = itertools.count()


def next_id(prefix: str) -> str:
    """A source id no other row of the run has."""
    return f"{prefix}{next(_ids)}"


def client_for(patient: Patient, acting_for: Patient | None = None) -> Client:
    """The resident logged in, acting for ``acting_for`` when given."""
    client = login_as(Client(), User.objects.get_or_create_for_patient(patient))
    if acting_for is not None:
        assert client.post("/acting-for/", {"subject": str(acting_for.pk)}).status_code == 302
    return client


def unit_of_kind(kind: str) -> CareUnit:
    return CareUnit.objects.filter(kind=kind).first() or CareUnit.objects.create(
        administration=CareUnit.objects.first().administration,  # type: ignore[union-attr]
        hsa_id=f"SE2321000255-T{next(_ids):04d}",
        name=f"Test {kind}",
        kind=kind,
    )


def write_note(
    patient: Patient, text: str = "Patienten mår bra.", *, kind: str = UnitKind.PRIMARY_CARE, **fields
) -> RecordNote:
    """A signed visit note a doctor wrote on 1 October 2026, received 30 days ago."""
    defaults = {
        "author_name": "Doktor Exempel",
        "author_profession": "doctor",
        "written_on": dt.date(2026, 10, 1),
        "template": "Besöksanteckning",
        "signed": True,
        "received_at": timezone.now() - dt.timedelta(days=30),
    }
    return RecordNote.objects.create(
        patient=patient,
        unit=unit_of_kind(kind),
        source_system="test",
        source_id=next_id("n"),
        text=text,
        **{**defaults, **fields},
    )


def lab_result(
    patient: Patient,
    analysis: str = "P-Glukos",
    value: str | None = "5.0",
    *,
    days_ago: int = 10,
    kind: str = UnitKind.PRIMARY_CARE,
    unit_of_measure: str = "mmol/L",
    low: str | None = "4.0",
    high: str | None = "6.0",
    save: bool = True,
    **fields,
) -> LabResult:
    """A result taken and received ``days_ago`` days ago (``fields`` sets any other column)."""
    when = timezone.now() - dt.timedelta(days=days_ago)
    defaults = {"source_id": next_id("r"), "received_at": when, "taken_at": when}
    made = LabResult(
        patient=patient,
        unit=unit_of_kind(kind),
        source_system="lab",
        analysis=analysis,
        value=value,
        unit_of_measure=unit_of_measure,
        reference_low=low,
        reference_high=high,
        **{**defaults, **fields},
    )
    if save:
        made.save()
    return made
