"""Contact details: mobile numbers in E.164 (Swedish numbers may be written nationally)."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalise_mobile(value: str) -> str:
    """E.164 for a mobile number, or '' for an empty value."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "SE")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Enter a mobile number, for example 070-123 45 67."), code="format") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This phone number does not exist."), code="invalid")
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValidationError(_("Enter a mobile number that can receive text messages."), code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(value: str) -> str:
    """E.164 for any phone number that can be called, a landline too (Swedish numbers may be written
    nationally), or '' for an empty value."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "SE")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Enter a phone number, for example 070-123 45 67."), code="format") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This phone number does not exist."), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_for_display(e164: str) -> str:
    """A stored number as people write it: Swedish numbers nationally (070-123 45 67), others with
    their country code."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "SE")
    except phonenumbers.NumberParseException:
        return e164
    national = number.country_code == 46
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
