"""The digital frikort's code: a signed statement, verifiable on any unit's page without a call.

The payload names the card, the person's identity number and the last valid day; nothing about
care. It is signed with HMAC-SHA256 under a key derived from the installation's secret
(django.core.signing, its own salt), so a changed digit, another person's number or a later date
fails the signature. (Verification in another installation would need a public-key signature;
see docs/fees.md, "Scale path".)
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from django.core import signing

SALT = "vardkontakt.fees.frikort.v1"
SEPARATOR = "~"


class Verdict(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET = "not_yet"
    FORGED = "forged"


@dataclass(frozen=True)
class Reading:
    verdict: Verdict
    frikort_id: uuid.UUID | None = None
    personnummer: str = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=SEPARATOR)


def code_for(*, frikort_id: uuid.UUID, personnummer: str, valid_from: dt.date, valid_until: dt.date) -> str:
    payload = f"FK1.{frikort_id.hex}.{personnummer}.{valid_from:%Y%m%d}.{valid_until:%Y%m%d}"
    return _signer().sign(payload)


def read(code: str, *, today: dt.date) -> Reading:
    """What a code says, judged on ``today`` (a Swedish local date)."""
    cleaned = "".join(code.split())  # a code copied across lines keeps working
    try:
        payload = _signer().unsign(cleaned)
        version, card, personnummer, start, end = payload.split(".")
        if version != "FK1":
            raise ValueError(version)
        frikort_id = uuid.UUID(hex=card)
        valid_from = dt.datetime.strptime(start, "%Y%m%d").date()  # noqa: DTZ007 (a date, no time)
        valid_until = dt.datetime.strptime(end, "%Y%m%d").date()  # noqa: DTZ007
    except (signing.BadSignature, ValueError):
        return Reading(Verdict.FORGED)
    if today > valid_until:
        verdict = Verdict.EXPIRED
    elif today < valid_from:
        verdict = Verdict.NOT_YET
    else:
        verdict = Verdict.VALID
    return Reading(verdict, frikort_id, personnummer, valid_from, valid_until)
