"""Money's decimal places: of the amounts that rating, the rates and the stored calls
share, and of the currencies telecrm bills in; and how an exact amount is shown. A
plain module of the kernel: the pure rating engine and the models both read it, and
it imports nothing but ``decimal`` (the ``Money`` column type that stores these is in
``db``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

RATE_SCALE = 8  # decimal places of a rate's billing_rate and connect_fee
COST_SCALE = 6  # RATING.md §4: a call's cost is rounded once, to 6 decimal places

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


def minor_unit(currency: str) -> int:
    """Decimal places of ``currency`` (ISO 4217); ``KeyError`` for one telecrm does not know."""
    return CURRENCY_EXPONENTS[currency]


def round_half_up(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str) -> str:
    """``1,234,567.89``: rounded to the currency's minor unit, thousands separated."""
    places = minor_unit(currency)
    return f"{round_half_up(amount, places):,.{places}f}"
