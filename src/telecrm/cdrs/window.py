"""The days a rating run or an export covers: dates of a time zone as UTC instants,
and as the commands' ``--date`` or ``--from``/``--to`` name them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telecrm.config import get_settings
from telecrm.errors import ValidationFailed


def zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {name!r} (use an IANA name)") from exc


def day_window(first: dt.date, last: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """From midnight starting ``first`` to midnight ending ``last`` in ``zone``, as UTC
    instants (a day of a clock change is 23 or 25 hours long, as it should be)."""
    if last < first:
        raise ValidationFailed(f"the window ends ({last}) before it starts ({first})")
    tz = zone_info(zone)
    start = dt.datetime.combine(first, dt.time(), tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(f"{option} {text!r} is not a date (YYYY-MM-DD)") from exc


def command_window(
    date: str | None, first: str | None, last: str | None
) -> tuple[dt.datetime, dt.datetime, str]:
    """``--date D`` or ``--from D --to D`` (both days included), in the billing time
    zone, as UTC instants and words for the summary."""
    day, start, end = _date(date, "--date"), _date(first, "--from"), _date(last, "--to")
    if day is not None and (start or end):
        raise ValidationFailed("give --date or --from/--to, not both")
    if day is not None:
        start = end = day
    if start is None or end is None:
        raise ValidationFailed("give --date, or both --from and --to")
    zone = get_settings().timezone
    begin, finish = day_window(start, end, zone)
    words = str(start) if start == end else f"{start} to {end}"
    return begin, finish, f"{words} ({zone})"
