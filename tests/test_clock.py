"""Instants in UTC, wall-clock times in the billing time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from telecrm.clock import billing_month, to_instant

JAKARTA = ZoneInfo("Asia/Jakarta")


def test_a_time_without_zone_is_read_in_the_billing_time_zone() -> None:
    naive = dt.datetime(2025, 11, 1)
    assert to_instant(naive, JAKARTA) == dt.datetime(2025, 10, 31, 17, tzinfo=dt.UTC)
    aware = dt.datetime(2025, 11, 1, 7, tzinfo=JAKARTA)
    assert to_instant(aware, JAKARTA) == dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    assert to_instant(aware, JAKARTA).tzinfo is dt.UTC
    assert to_instant(None, JAKARTA) is None


def test_month_boundaries_are_midnight_in_the_billing_time_zone() -> None:
    start, end = billing_month(2025, 11, JAKARTA)
    assert start == dt.datetime(2025, 10, 31, 17, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 11, 30, 17, tzinfo=dt.UTC)


def test_december_ends_at_the_next_new_year() -> None:
    start, end = billing_month(2025, 12, ZoneInfo("UTC"))
    assert (start.month, end.year, end.month) == (12, 2026, 1)


def test_month_boundaries_follow_daylight_saving_time() -> None:
    start, end = billing_month(2025, 3, ZoneInfo("Europe/Berlin"))
    assert start == dt.datetime(2025, 2, 28, 23, tzinfo=dt.UTC)  # CET, UTC+1
    assert end == dt.datetime(2025, 3, 31, 22, tzinfo=dt.UTC)  # CEST, UTC+2


def test_an_impossible_month_is_refused() -> None:
    with pytest.raises(ValueError, match="month 13"):
        billing_month(2025, 13, JAKARTA)
