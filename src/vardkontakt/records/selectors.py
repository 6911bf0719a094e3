"""The record's one door: every page goes through ``open_record`` (policy, seal, audit)."""

from __future__ import annotations

import enum

from django.utils import timezone

from vardkontakt.access import policy
from vardkontakt.access.selectors import record_for_reader
from vardkontakt.identity.models import Patient


class Closed(enum.StrEnum):
    SEALED = "sealed"
    TOO_YOUNG = "too_young"
    NO_ACCESS = "no_access"


def open_record(*, reader: Patient, subject: Patient, section: str) -> Closed | None:
    """None when the reader may read the subject's record now (the read is logged either way);
    otherwise why not, so the page can say it plainly without showing anything."""
    if record_for_reader(reader=reader, subject=subject, section=section):
        return None
    return _why_closed(reader, subject)


def record_closed_to(*, reader: Patient, subject: Patient) -> Closed | None:
    """As ``open_record`` but reading and logging nothing: for a page that shows no record data
    (the export form), so that a closed record is said before the person chooses what to export."""
    if policy.can_read_record(reader, subject):
        return None
    return _why_closed(reader, subject)


def _why_closed(reader: Patient, subject: Patient) -> Closed:
    if policy.is_sealed(subject):
        return Closed.SEALED
    found = policy.representation(reader, subject)
    too_young = policy.age_on(subject.birth_date, timezone.now()) < policy.age_rules(subject).own_record_from
    if found is not None and found.relation is policy.Relation.SELF and too_young:
        return Closed.TOO_YOUNG
    return Closed.NO_ACCESS
