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
