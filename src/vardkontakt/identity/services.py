"""Writes of identity: registering residents, and the population register's extract of persons."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from vardkontakt.identity.models import Patient


def patient_get_or_register(*, personnummer: str, given_name: str = "", family_name: str = "") -> tuple[Patient, bool]:
    """The resident with this personnummer (already normalised to twelve digits), registered now if
    the platform does not hold them yet; True when registered now.

    Everyone with a personnummer may use the e-services, so a person is registered wherever they
    first appear: at their first e-ID login, when invited as a proxy, in the population register's
    guardianship extract, or in a record a source system sends. A name is filled in only where
    none is held: a person known so far by number alone takes the name their e-ID carries.
    Two first logins at once register one person: the unique personnummer makes the second find
    the first's row (get_or_create). Two fill-ins of a missing name write the same e-ID name.
    """
    patient, created = Patient.objects.get_or_create(
        personnummer=personnummer, defaults={"given_name": given_name[:100], "family_name": family_name[:100]}
    )
    if not created and not (patient.given_name or patient.family_name) and (given_name or family_name):
        patient.given_name, patient.family_name = given_name[:100], family_name[:100]
        patient.save(update_fields=["given_name", "family_name"])
    return patient, created


@dataclass(frozen=True)
class RegisteredPerson:
    """One row of the population register's extract: the person and their registered address."""

    personnummer: str  # normalised, twelve digits
    given_name: str
    family_name: str
    street_address: str
    postal_code: str
    city: str
    protected_identity: bool


@dataclass(frozen=True)
class PersonsImported:
    created: int
    updated: int


@transaction.atomic
def persons_import(*, rows: list[RegisteredPerson]) -> PersonsImported:
    """Apply an extract of the population register: each person's name, registered address (where
    paper letters go) and protected identity, registering people the platform does not hold yet.
    All or nothing. A person with protected identity keeps no address here: the register gives
    none out, so their paper letters stand as "no registered address" and are named in the worker's
    log (letters/services.py)."""
    created = updated = 0
    for row in rows:
        hidden = row.protected_identity
        values = {
            "given_name": row.given_name[:100],
            "family_name": row.family_name[:100],
            "street_address": "" if hidden else row.street_address[:120],
            "postal_code": "" if hidden else row.postal_code[:10],
            "city": "" if hidden else row.city[:60],
            "protected_identity": hidden,
        }
        _patient, made = Patient.objects.update_or_create(personnummer=row.personnummer, defaults=values)
        created += made
        updated += not made
    return PersonsImported(created, updated)
