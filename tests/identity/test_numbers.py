import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from vardkontakt.identity.numbers import (
    NumberKind,
    birth_date_of,
    normalise_hsa_id,
    normalise_personnummer,
    parse_identity_number,
)

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    "written",
    ["191212121212", "19121212-1212", " 19121212 - 1212 ".replace(" ", ""), "121212+1212"],
)
def test_it_normalises_tolvan_to_twelve_digits(written):
    assert normalise_personnummer(written, today=TODAY) == "191212121212"


def test_a_ten_digit_number_with_dash_is_under_one_hundred():
    assert normalise_personnummer("121212-1212", today=TODAY) == "201212121212"


def test_the_plus_separator_moves_the_century_back():
    # Same digits, '+': the person is 100 or older, so born 1912 rather than 2012.
    assert normalise_personnummer("121212+1212", today=TODAY) == "191212121212"


def test_it_rejects_a_wrong_check_digit():
    with pytest.raises(ValidationError) as caught:
        normalise_personnummer("191212121213", today=TODAY)
    assert caught.value.code == "checksum"


def test_it_rejects_a_date_that_does_not_exist():
    nine = "190230123"  # 30 February
    number = "19" + nine + str(luhn.calc_check_digit(nine))
    with pytest.raises(ValidationError) as caught:
        normalise_personnummer(number, today=TODAY)
    assert caught.value.code == "date"


def test_it_rejects_a_birth_date_in_the_future():
    nine = "301212123"
    number = "20" + nine + str(luhn.calc_check_digit(nine))
    with pytest.raises(ValidationError) as caught:
        normalise_personnummer(number, today=TODAY)
    assert caught.value.code == "future"


def test_a_samordningsnummer_is_recognised_and_refused_plainly():
    number = "19121272-1219"  # day 12 + 60
    twelve, kind = parse_identity_number(number, today=TODAY)
    assert (twelve, kind) == ("191212721219", NumberKind.SAMORDNINGSNUMMER)
    with pytest.raises(ValidationError) as caught:
        normalise_personnummer(number, today=TODAY)
    assert caught.value.code == "samordningsnummer"
    assert "samordningsnummer" in str(caught.value.messages[0])


@pytest.mark.parametrize("garbage", ["", "abc", "19121212121", "19121212-12121", "XX121212-1212", "19121212*1212"])
def test_it_rejects_what_is_not_shaped_like_a_number(garbage):
    with pytest.raises(ValidationError) as caught:
        normalise_personnummer(garbage, today=TODAY)
    assert caught.value.code == "format"


@time_machine.travel(dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC), tick=False)
def test_birth_date_comes_from_the_number():
    assert birth_date_of("191212121212") == dt.date(1912, 12, 12)


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY),
    serial=st.integers(min_value=0, max_value=999),
)
def test_every_valid_number_round_trips_through_both_written_forms(birth, serial):
    nine = f"{birth:%y%m%d}{serial:03d}"
    twelve = f"{birth:%Y}{nine[2:]}{luhn.calc_check_digit(nine)}"
    assert normalise_personnummer(twelve, today=TODAY) == twelve
    age_years = TODAY.year - birth.year
    separator = "+" if age_years >= 100 else "-"
    ten = f"{twelve[2:8]}{separator}{twelve[8:]}"
    # The ten-digit form is ambiguous only at exactly 100 years in the birthday year; the rule in
    # the population register switches to '+' in the year of the 100th birthday.
    assert normalise_personnummer(ten, today=TODAY) == twelve


@pytest.mark.parametrize(
    ("written", "stored"),
    [("SE2321000255-P0001", "SE2321000255-P0001"), ("se2321000255-abc9", "SE2321000255-ABC9")],
)
def test_it_accepts_hsa_ids(written, stored):
    assert normalise_hsa_id(written) == stored


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("SE2321000255P0001", "format"),
        ("DK2321000255-P0001", "format"),
        ("SE232100025-P0001", "format"),
        ("SE2321000255-", "format"),
        ("SE2321000255-P0_1", "format"),
        ("SE2321000256-P0001", "orgnr"),
        ("SE2321000255-" + "A" * 19, "length"),
    ],
)
def test_it_rejects_malformed_hsa_ids(written, code):
    with pytest.raises(ValidationError) as caught:
        normalise_hsa_id(written)
    assert caught.value.code == code


def test_an_hsa_id_of_exactly_31_characters_is_accepted():
    assert len(normalise_hsa_id("SE2321000255-" + "A" * 18)) == 31
