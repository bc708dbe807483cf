"""The traffic figures, as plain models (a cache can keep them as JSON)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel


class DayFigures(BaseModel):
    """One day in the billing time zone."""

    day: dt.date
    calls: int = 0
    answered: int = 0
    answered_seconds: int = 0
    billable_seconds: int = 0
    revenue: dict[str, Decimal] = {}  # currency -> the rated calls' cost

    @property
    def minutes(self) -> Decimal:
        return (Decimal(self.answered_seconds) / 60).quantize(Decimal("0.1"))

    @property
    def asr(self) -> Decimal | None:
        """Answered / attempted, in per cent."""
        if not self.calls:
            return None
        return (Decimal(100 * self.answered) / self.calls).quantize(Decimal("0.1"))

    @property
    def acd(self) -> Decimal | None:
        """The answered calls' average billsec, in seconds."""
        if not self.answered:
            return None
        return (Decimal(self.answered_seconds) / self.answered).quantize(Decimal("0.1"))


class TopRow(BaseModel):
    key: str  # a matched prefix, or an account code
    name: str | None
    currency: str
    calls: int
    billable_seconds: int
    revenue: Decimal


class Attention(BaseModel):
    """The month's calls that will not be billed as they stand."""

    invalid: int
    unrated: dict[str, int]  # rating reason -> calls


class MonthFigures(BaseModel):
    year: int
    month: int
    days: list[DayFigures]
    top_destinations: list[TopRow]
    top_accounts: list[TopRow]  # empty for a customer
    attention: Attention | None  # None for a customer

    @property
    def currencies(self) -> list[str]:
        return sorted({currency for day in self.days for currency in day.revenue})

    def total(self, name: str) -> int:
        return sum(getattr(day, name) for day in self.days)

    def revenue(self, currency: str) -> Decimal:
        return sum((day.revenue.get(currency, Decimal(0)) for day in self.days), Decimal(0))
