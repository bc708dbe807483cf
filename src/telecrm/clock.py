"""Instants: every time is stored in UTC; a time without a zone is a wall-clock time
in the billing time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def to_instant(value: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    """The UTC instant of ``value``; a time without a zone is a wall-clock time in
    the billing time zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC)


def billing_month(year: int, month: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The month's first instant and the next month's first instant, both midnight in
    the billing time zone, as UTC instants: ``[start, end)``."""
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not between 1 and 12")
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
