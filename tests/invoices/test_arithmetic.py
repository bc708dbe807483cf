"""Invoice arithmetic without a database (RATING.md §5)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from telecrm.clock import billing_month
from telecrm.invoices.arithmetic import (
    DestinationSummary,
    billable_minutes,
    invoice_dates,
    invoice_lines,
    invoice_number,
    invoice_totals,
    period_label,
)

JAKARTA = ZoneInfo("Asia/Jakarta")


def test_subtotal_is_the_exact_sum_rounded_once() -> None:
    # Three calls of 0.004 each: rounded one by one they would be 0.00; summed
    # first they are 0.012 -> 0.01.
    totals = invoice_totals(Decimal("0.004") * 3, Decimal(0), "USD")
    assert totals.subtotal == Decimal("0.01")


def test_tax_is_computed_on_the_rounded_subtotal_and_rounded_once() -> None:
    totals = invoice_totals(Decimal("88002.46912"), Decimal(11), "IDR")
    assert totals.subtotal == Decimal("88002.47")
    assert totals.tax == Decimal("9680.27")  # 11 % of 88002.47 = 9680.2717
    assert totals.total == Decimal("97682.74")


@pytest.mark.parametrize(
    ("currency", "subtotal", "tax", "total"),
    [
        ("JPY", Decimal(1235), Decimal(124), Decimal(1359)),  # 123.5 -> 124
        ("BHD", Decimal("1234.568"), Decimal("123.457"), Decimal("1358.025")),
        ("IDR", Decimal("1234.57"), Decimal("123.46"), Decimal("1358.03")),
    ],
)
def test_each_currency_rounds_to_its_own_minor_unit(
    currency: str, subtotal: Decimal, tax: Decimal, total: Decimal
) -> None:
    totals = invoice_totals(Decimal("1234.5675"), Decimal(10), currency)
    assert (totals.subtotal, totals.tax, totals.total) == (subtotal, tax, total)


def test_a_fractional_tax_rate_is_exact() -> None:
    totals = invoice_totals(Decimal(1000), Decimal("12.5"), "IDR")
    assert totals.tax == Decimal("125.00")


def test_lines_keep_billed_destinations_most_expensive_first() -> None:
    def summary(description: str, amount: str, billed: int) -> DestinationSummary:
        return DestinationSummary(description, None, billed, billed, 60 * billed, Decimal(amount))

    lines = invoice_lines(
        [
            summary("Unanswered only", "0", 0),
            summary("Indonesia Mobile", "100", 2),
            summary("Indonesia Fixed", "250", 1),
            summary("Another 100", "100", 1),
        ]
    )
    assert [line.description for line in lines] == [
        "Indonesia Fixed",
        "Another 100",
        "Indonesia Mobile",
    ]


def test_calls_of_earlier_periods_follow_the_months_own_month_by_month() -> None:
    october = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    november = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)

    def summary(
        description: str, amount: str, original: dt.datetime | None = None
    ) -> DestinationSummary:
        original_id = None if original is None else original.month
        return DestinationSummary(
            description, None, 1, 1, 60, Decimal(amount), original_id, original
        )

    lines = invoice_lines(
        [
            summary("November, cheap", "1", november),
            summary("own, cheap", "5"),
            summary("November, dear", "900", november),
            summary("October", "2", october),
            summary("own, dear", "50"),
        ]
    )
    assert [line.description for line in lines] == [
        "own, dear",
        "own, cheap",
        "October",
        "November, dear",
        "November, cheap",
    ]


def test_billable_minutes_are_shown_to_two_places() -> None:
    assert billable_minutes(90) == Decimal("1.50")
    assert billable_minutes(61) == Decimal("1.02")
    assert billable_minutes(0) == Decimal("0.00")


def test_invoice_date_is_the_day_after_the_period_and_due_date_adds_the_terms() -> None:
    _, end = billing_month(2025, 11, JAKARTA)
    assert invoice_dates(end, JAKARTA, 30) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


def test_period_label_names_the_billed_month_in_any_zone() -> None:
    for zone in ("Asia/Jakarta", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"):
        assert period_label(*billing_month(2025, 11, ZoneInfo(zone))) == "2025-11"


def test_invoice_numbers_are_zero_padded_per_year() -> None:
    assert invoice_number("INV", 2025, 123) == "INV-2025-000123"
