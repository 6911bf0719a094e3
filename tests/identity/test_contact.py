import pytest
from django.core.exceptions import ValidationError

from vardkontakt.identity.contact import normalise_mobile


@pytest.mark.parametrize(
    ("written", "e164"),
    [("070-123 45 67", "+46701234567"), ("+46 70 123 45 67", "+46701234567"), ("0046701234567", "+46701234567")],
)
def test_it_stores_mobile_numbers_in_e164(written, e164):
    assert normalise_mobile(written) == e164


def test_an_empty_number_stays_empty():
    assert normalise_mobile("  ") == ""


@pytest.mark.parametrize(
    ("written", "code"), [("hello", "format"), ("070-12", "invalid"), ("08-123 456 78", "not_mobile")]
)
def test_it_refuses_what_cannot_receive_text_messages(written, code):
    with pytest.raises(ValidationError) as caught:
        normalise_mobile(written)
    assert caught.value.code == code
