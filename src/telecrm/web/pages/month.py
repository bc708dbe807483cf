"""The month a figures page shows: ``?month=YYYY-MM``, this month in the billing time
zone by default."""

from __future__ import annotations

import datetime as dt

from telecrm.config import Settings
from telecrm.db import utcnow


def this_month(settings: Settings) -> tuple[int, int]:
    today = utcnow().astimezone(settings.tz)
    return today.year, today.month


def parse_month(text: str | None, settings: Settings) -> tuple[tuple[int, int], str | None]:
    """(year, month) and an error for the field (then this month)."""
    if not text:
        return this_month(settings), None
    try:
        day = dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        return this_month(settings), "a month, as YYYY-MM"
    if not 2000 <= day.year <= 2100:
        return this_month(settings), "a month between 2000 and 2100"
    return (day.year, day.month), None


def month_context(year: int, month: int, error: str | None) -> dict[str, str | None]:
    """What the month picker and the links to the month's calls need."""
    before = (year - 1, 12) if month == 1 else (year, month - 1)
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    last_day = dt.date(*after, 1) - dt.timedelta(days=1)
    return {
        "month": f"{year:04d}-{month:02d}",
        "month_error": error,
        "before": f"{before[0]:04d}-{before[1]:02d}",
        "after": f"{after[0]:04d}-{after[1]:02d}",
        "first_day": f"{year:04d}-{month:02d}-01",
        "last_day": last_day.isoformat(),
    }
