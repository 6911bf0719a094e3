"""Swedish identity numbers and HSA-ids.

Personnummer are kept as 12 digits (YYYYMMDDNNNC). A samordningsnummer (day + 60) is a valid
number but cannot be used to log in here; anything else that is not a personnummer is treated as
a reservnummer or a typing error, and can't log in either.
"""

from __future__ import annotations

import datetime as dt
import enum
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import orgnr, personnummer

_SHAPE = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{4})$")
HSA_ID = re.compile(r"^SE(?P<orgnr>\d{10})-(?P<local>[A-Za-z0-9]+)$")
HSA_ID_MAX_LENGTH = 31


class NumberKind(enum.StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"


def _today() -> dt.date:
    return timezone.localdate()


def _century_for(yymmdd: str, sep: str, today: dt.date) -> int:
    """The century of a 10-digit number: the latest one not in the future, one earlier after '+'."""
    century = today.year // 100
    if int(yymmdd[:2]) > today.year % 100:
        century -= 1
    if sep == "+":
        century -= 1
    return century


def parse_identity_number(value: str, *, today: dt.date | None = None) -> tuple[str, NumberKind]:
    """Return (12 digits, kind) or raise ValidationError with a translated message."""
    today = today or _today()
    cleaned = re.sub(r"\s", "", value or "")
    match = _SHAPE.match(cleaned)
    if not match:
        raise ValidationError(_("Enter a personal identity number as YYYYMMDD-NNNN (12 digits)."), code="format")
    yymmdd, sep, serial = match["yymmdd"], match["sep"], match["serial"]
    century = int(match["century"]) if match["century"] else _century_for(yymmdd, sep, today)
    ten_digits = yymmdd + serial
    if not luhn.is_valid(ten_digits):
        raise ValidationError(_("This personal identity number is not valid: check the last digit."), code="checksum")
    day = int(yymmdd[4:6])
    kind = NumberKind.PERSONNUMMER
    if 61 <= day <= 91:
        kind = NumberKind.SAMORDNINGSNUMMER
        day -= 60
    try:
        birth = dt.date(century * 100 + int(yymmdd[:2]), int(yymmdd[2:4]), day)
    except ValueError:
        raise ValidationError(_("This personal identity number does not contain a real date."), code="date") from None
    if birth > today:
        raise ValidationError(_("This personal identity number lies in the future."), code="future")
    twelve = f"{century:02d}{ten_digits}"
    if kind is NumberKind.PERSONNUMMER:
        # Cross-check with python-stdnum, the reference implementation of the rules.
        try:
            personnummer.validate(twelve)
        except StdnumError:
            raise ValidationError(_("This personal identity number is not valid."), code="invalid") from None
    return twelve, kind


def normalise_personnummer(value: str, *, today: dt.date | None = None) -> str:
    """12 digits for a personnummer; a samordningsnummer or reservnummer is refused plainly."""
    twelve, kind = parse_identity_number(value, today=today)
    if kind is NumberKind.SAMORDNINGSNUMMER:
        raise ValidationError(
            _(
                "This is a coordination number (samordningsnummer). Logging in to the e-services "
                "needs a Swedish personal identity number."
            ),
            code="samordningsnummer",
        )
    return twelve


def birth_date_of(twelve: str) -> dt.date:
    return personnummer.get_birth_date(twelve)


def format_personnummer(twelve: str) -> str:
    """YYYYMMDD-NNNN, the form residents recognise."""
    return f"{twelve[:8]}-{twelve[8:]}"


def validate_personnummer(value: str) -> None:
    """Model-field validator: the stored value must be a normalised personnummer."""
    if not re.fullmatch(r"\d{12}", value or ""):
        raise ValidationError(_("Store personal identity numbers as 12 digits."), code="format")
    normalise_personnummer(value)


def normalise_hsa_id(value: str) -> str:
    cleaned = (value or "").strip().upper()
    if len(cleaned) > HSA_ID_MAX_LENGTH:
        raise ValidationError(
            _("An HSA-id has at most %(max)d characters.") % {"max": HSA_ID_MAX_LENGTH}, code="length"
        )
    match = HSA_ID.match(cleaned)
    if not match:
        raise ValidationError(
            _("Enter an HSA-id as SE, a 10-digit organisation number, a dash and letters or digits."),
            code="format",
        )
    if not orgnr.is_valid(match["orgnr"]):
        raise ValidationError(_("The organisation number in this HSA-id is not valid."), code="orgnr")
    return cleaned


def validate_hsa_id(value: str) -> None:
    if normalise_hsa_id(value) != value:
        raise ValidationError(_("Store HSA-ids in upper case."), code="case")
