"""How telecrm shows an exact amount."""

from __future__ import annotations

from decimal import Decimal

from telecrm.money import trim_zeros


def test_trim_zeros_never_gives_exponent_notation() -> None:
    assert str(trim_zeros(Decimal("10.0000"))) == "10"
    assert str(trim_zeros(Decimal("11.5000"))) == "11.5"
    assert str(trim_zeros(Decimal("0E-4"))) == "0"
