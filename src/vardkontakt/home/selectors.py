"""Reads of the homes that touch a patient's data."""

from __future__ import annotations

from django.http import Http404

from vardkontakt.access import policy
from vardkontakt.access.audit import Actor, audit
from vardkontakt.home.unit_offers import UnitOffer, unit_offers
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.selectors import units_for_patient


def home_offers(*, reader: Patient, subject: Patient) -> list[UnitOffer]:
    """The resident's home as ``reader`` sees it for ``subject``: the units the subject is listed at,
    each with what it offers. Where the subject is the reader, nothing is logged. Where the
    subject is someone the reader acts for (else 404), which units they are listed at is theirs
    to know, so the page is logged as read on their behalf."""
    if subject.pk != reader.pk:
        if policy.representation(reader, subject) is None:
            raise Http404
        audit(actor=Actor.of_patient(reader), action="home.read", patient=subject, on_behalf_of=subject)
    return unit_offers(list(units_for_patient(patient=subject)))
