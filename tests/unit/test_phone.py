import pytest

from chalicelib import phone
from chalicelib.errors import ValidationError


@pytest.mark.parametrize(
    "raw",
    ["(415) 555-0100", "415-555-0100", "+1 415 555 0100", "4155550100", " +14155550100 "],
)
def test_common_us_forms_normalise_to_e164(raw):
    assert phone.normalize(raw) == "+14155550100"


def test_international_number_keeps_its_country():
    assert phone.normalize("+44 7911 123456") == "+447911123456"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "555-1234567", "+1 555 123 4567", "1" * 41])
def test_invalid_numbers_are_a_400_naming_the_field(raw):
    with pytest.raises(ValidationError) as info:
        phone.normalize(raw, field="phone")
    assert info.value.details == {"field": "phone"}


def test_single_zone_number_has_a_timezone():
    assert phone.primary_timezone("+12125550100") == "America/New_York"
    assert phone.timezones("+14155550100") == ["America/Los_Angeles"]


def test_multi_zone_number_has_no_single_timezone_but_lists_all():
    assert phone.primary_timezone("+18005550100") is None
    zones = phone.timezones("+18005550100")
    assert "America/New_York" in zones and "Pacific/Honolulu" in zones


def test_mask_keeps_only_country_code_and_last_two_digits():
    assert phone.mask("+14155550123") == "+1********23"
    assert phone.mask(None) == ""
