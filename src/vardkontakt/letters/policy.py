"""Who may read whose letters: the person, a guardian while they may act for the child, a proxy with
the bookings scope — the access core's rule for bookings, nothing more."""

from __future__ import annotations

from vardkontakt.access import policy as access_policy
from vardkontakt.identity.models import Patient


def may_read_letters(reader: Patient, subject: Patient) -> bool:
    return access_policy.can_act_for(reader, subject, access_policy.Scope.BOOKINGS)
