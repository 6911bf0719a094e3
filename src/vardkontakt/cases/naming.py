"""The naming rules for services a unit or region creates itself (SPEC §4), one message per rule."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_LENGTH = 40
# Abbreviations residents know; anything else written in capitals is refused.
RECOGNISED_ABBREVIATIONS = {"BVC", "MVC", "BUP", "KBT", "EKG", "HPV", "PEP", "ADHD", "SMS", "IVF"}


def naming_problems(name: str) -> list[ValidationError]:
    problems: list[ValidationError] = []
    cleaned = " ".join(name.split())
    words = cleaned.split(" ")
    first = words[0].lower() if words and words[0] else ""
    if first in ("mina", "dina", "min", "din", "mitt", "ditt"):
        problems.append(
            ValidationError(_("Do not start with “Mina” or “Dina”: say what the user does."), code="possessive")
        )
    if re.match(r"^e-", cleaned, re.IGNORECASE):
        problems.append(
            ValidationError(_("Do not use the “e-” prefix: the user is already in the e-services."), code="e_prefix")
        )
    if re.search(r"\bpå nätet\s*$", cleaned, re.IGNORECASE):
        problems.append(
            ValidationError(_("Do not end with “på nätet”: the user is already logged in."), code="online_suffix")
        )
    unknown = sorted(
        {word.strip(".,()") for word in words if re.fullmatch(r"[A-ZÅÄÖ]{2,}[.,()]*", word)} - RECOGNISED_ABBREVIATIONS
    )
    if unknown:
        problems.append(
            ValidationError(
                _("Write out %(words)s: only recognised abbreviations may be used.") % {"words": ", ".join(unknown)},
                code="abbreviation",
            )
        )
    if len(cleaned) > MAX_LENGTH:
        problems.append(
            ValidationError(
                _("Keep the name to %(max)d characters (it has %(count)d).")
                % {"max": MAX_LENGTH, "count": len(cleaned)},
                code="too_long",
            )
        )
    if not cleaned:
        problems.append(ValidationError(_("Give the service a name."), code="empty"))
    return problems


def validate_service_name(name: str) -> None:
    problems = naming_problems(name)
    if problems:
        raise ValidationError(problems)
