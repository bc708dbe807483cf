"""Invoice arithmetic (RATING.md §5), pure: no database, exact decimals only.

The subtotal is the exact sum of the calls' stored costs, rounded ONCE, half-up, to
the currency's minor unit; the tax is computed on that rounded subtotal and rounded
once; the total is their sum. Line amounts stay exact (6 places, as the costs are)
so that no total is ever built from rounded pieces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from telecrm.money import minor_unit, round_half_up

_HUNDRED = Decimal(100)
_SIXTY = Decimal(60)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def invoice_totals(cost_sum: Decimal, tax_rate_percent: Decimal, currency: str) -> Totals:
    """``cost_sum`` is the exact sum of the calls' costs; ``tax_rate_percent`` 11 means 11 %."""
    places = minor_unit(currency)
    subtotal = round_half_up(cost_sum, places)
    tax = round_half_up(subtotal * tax_rate_percent / _HUNDRED, places)
    return Totals(subtotal=subtotal, tax=tax, total=subtotal + tax)


@dataclass(frozen=True)
class DestinationSummary:
    """Calls of one contract to one destination, as the database sums them. Calls of
    an earlier period name the sent invoice of their month and when it began."""

    description: str
    prefix: str | None
    call_count: int
    billed_calls: int
    billable_seconds: int
    amount: Decimal
    original_invoice_id: int | None = None
    original_period_start: dt.datetime | None = None


def invoice_lines(summaries: Iterable[DestinationSummary]) -> list[DestinationSummary]:
    """The lines of an invoice: destinations with at least one billed call; the
    invoice's own month first, then the calls of earlier periods month by month;
    within each, most expensive first (ties by description, so the order is stable)."""
    billed = [summary for summary in summaries if summary.billed_calls > 0]
    return sorted(
        billed,
        key=lambda summary: (
            summary.original_period_start is not None,
            summary.original_period_start or dt.datetime.min.replace(tzinfo=dt.UTC),
            summary.original_invoice_id or 0,
            -summary.amount,
            summary.description,
        ),
    )


def billable_minutes(seconds: int) -> Decimal:
    """Billable seconds as minutes to two places (display only; amounts come from costs)."""
    return round_half_up(Decimal(seconds) / _SIXTY, 2)


def invoice_dates(
    period_end: dt.datetime, tz: ZoneInfo, payment_terms_days: int
) -> tuple[dt.date, dt.date]:
    """Invoice date: the first day after the period, in the billing time zone (so
    re-running the generation gives the same dates); due date: that plus the terms."""
    invoice_date = period_end.astimezone(tz).date()
    return invoice_date, invoice_date + dt.timedelta(days=payment_terms_days)


def invoice_number(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def period_label(period_start: dt.datetime, period_end: dt.datetime) -> str:
    """``2025-11`` for November's boundaries in any time zone: the period's middle
    is in the billed month however far the zone is from UTC."""
    middle = period_start + (period_end - period_start) / 2
    return f"{middle.year:04d}-{middle.month:02d}"
