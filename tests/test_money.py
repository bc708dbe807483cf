"""How telecrm shows an exact amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telecrm.money import format_amount, minor_unit, round_half_up, trim_zeros


def test_trim_zeros_never_gives_exponent_notation() -> None:
    assert str(trim_zeros(Decimal("10.0000"))) == "10"
    assert str(trim_zeros(Decimal("11.5000"))) == "11.5"
    assert str(trim_zeros(Decimal("0E-4"))) == "0"


@pytest.mark.parametrize(
    ("currency", "places"), [("IDR", 2), ("USD", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3)]
)
def test_minor_units_are_iso_4217(currency: str, places: int) -> None:
    assert minor_unit(currency) == places


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(KeyError):
        minor_unit("XXX")


def test_rounding_is_half_up_not_bankers() -> None:
    assert round_half_up(Decimal("0.125"), 2) == Decimal("0.13")
    assert round_half_up(Decimal("0.135"), 2) == Decimal("0.14")
    assert round_half_up(Decimal("2.5"), 0) == Decimal(3)
    assert round_half_up(Decimal("0.0005"), 3) == Decimal("0.001")


def test_amounts_are_formatted_in_minor_units_with_separators() -> None:
    assert format_amount(Decimal("1234567.891"), "IDR") == "1,234,567.89"
    assert format_amount(Decimal("1234.5"), "JPY") == "1,235"
    assert format_amount(Decimal("1.2345"), "BHD") == "1.235"
