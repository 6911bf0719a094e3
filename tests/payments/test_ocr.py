"""OCR references as Bankgirot checks them: length digit and modulus-10 check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vardkontakt.payments import ocr

bases = st.text(alphabet="0123456789", min_size=1, max_size=23)


def test_a_known_reference():
    # 1234567 → length 9 → "12345679", check digit over that by modulus 10.
    assert ocr.make("1234567") == "123456790"
    assert ocr.is_valid("123456790")


@given(bases)
def test_every_made_reference_validates(base):
    reference = ocr.make(base)
    assert ocr.is_valid(reference)
    assert reference.startswith(base) and len(reference) == len(base) + 2
    assert int(reference[-2]) == len(reference) % 10


@given(bases, st.data())
def test_any_one_digit_changed_fails(base, data):
    reference = ocr.make(base)
    position = data.draw(st.integers(min_value=0, max_value=len(reference) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != reference[position]]))
    changed = reference[:position] + digit + reference[position + 1 :]
    assert not ocr.is_valid(changed)


@pytest.mark.parametrize("bad", ["", "1", "12a45", "１２３４５６７９０", "1" * 26, "123456780"])
def test_what_is_not_a_reference(bad):
    assert not ocr.is_valid(bad)


def test_a_base_too_long_or_not_digits_is_refused():
    with pytest.raises(ValueError):
        ocr.make("1" * 24)
    with pytest.raises(ValueError):
        ocr.make("12-3")
