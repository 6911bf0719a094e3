"""OCR references for Bankgirot: digits, a length digit and a modulus-10 (Luhn) check digit.

Bankgirot's rules for "OCR-nummer" with the hardest control: the last digit is the check digit
computed by the modulus-10 method over every digit before it, and the digit before it is the length
of the whole reference (check digit included) modulo 10. A payer's bank refuses a reference that
does not validate, so a one-digit typo never reaches the region's account as someone else's payment.
"""

from __future__ import annotations

MAX_LENGTH = 25  # Bankgirot's longest OCR reference
MIN_LENGTH = 2


def check_digit(digits: str) -> int:
    """Modulus 10: from the right, every other digit doubled (digits of the product added)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def is_luhn(digits: str) -> bool:
    """The last digit is the modulus-10 check digit of the others (bankgiro numbers are written so)."""
    return len(digits) >= 2 and check_digit(digits[:-1]) == int(digits[-1])


def make(base: str) -> str:
    """The reference for ``base`` (digits): base, length digit, check digit."""
    if not base.isdigit() or len(base) + 2 > MAX_LENGTH:
        raise ValueError("an OCR base is 1 to 23 digits")
    body = base + str((len(base) + 2) % 10)
    return body + str(check_digit(body))


def is_valid(reference: str) -> bool:
    if not (reference.isascii() and reference.isdigit()) or not MIN_LENGTH <= len(reference) <= MAX_LENGTH:
        return False
    if int(reference[-2]) != len(reference) % 10:
        return False
    return check_digit(reference[:-1]) == int(reference[-1])
