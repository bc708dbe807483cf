"""The windows of time a rating run, an export or a fetch covers: dates of a time
zone as UTC instants, as the commands' ``--date`` or ``--from``/``--to`` and the fetch
API's ``startDate``/``endDate`` name them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telecrm.config import Settings, get_settings
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


def parse_window(start: str, end: str, settings: Settings) -> tuple[dt.datetime, dt.datetime]:
    """``startDate``/``endDate`` as instants. A bare date is midnight in the billing
    time zone; a bare end date includes that whole day."""

    def instant(text: str, name: str, is_end: bool) -> dt.datetime:
        text = text.strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                midnight = dt.datetime.combine(day, dt.time(), settings.tz)
                return midnight + dt.timedelta(days=1) if is_end else midnight
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationFailed(
                f"{name} {text!r} is not an ISO date (2025-11-05) "
                "or time (2025-11-05T08:00:00+07:00)",
                [{"field": name, "message": "not an ISO date or time"}],
            ) from exc
        return value if value.tzinfo else value.replace(tzinfo=settings.tz)

    window_start = instant(start, "startDate", is_end=False)
    window_end = instant(end, "endDate", is_end=True)
    if window_end <= window_start:
        raise ValidationFailed(
            f"endDate ({window_end.isoformat()}) must be after "
            f"startDate ({window_start.isoformat()})",
            [{"field": "endDate", "message": "not after startDate"}],
        )
    return window_start.astimezone(dt.UTC), window_end.astimezone(dt.UTC)
