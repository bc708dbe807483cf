"""Money as telecrm bills it: the currencies it knows and their minor units, and
how an exact amount is shown."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 minor units (decimal places) of the currencies telecrm bills in. The
# exponent is ISO's, not what a country prints: IDR has 2 in ISO 4217 even though
# rupiah prices are usually written without decimals.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2,
    "AUD": 2,
    "BHD": 3,
    "BND": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "IDR": 2,
    "INR": 2,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "MYR": 2,
    "NZD": 2,
    "OMR": 3,
    "PHP": 2,
    "PYG": 0,
    "SAR": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TWD": 2,
    "UGX": 0,
    "USD": 2,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}


def trim_zeros(value: Decimal) -> Decimal:
    """``11.0000`` -> ``11``, ``2.5000`` -> ``2.5``; never exponent notation (``1E+1``)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
