"""Writes of identity: registering residents."""

from __future__ import annotations

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
