"""Instants in UTC, wall-clock times in the billing time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from telecrm.clock import to_instant

JAKARTA = ZoneInfo("Asia/Jakarta")


def test_a_time_without_zone_is_read_in_the_billing_time_zone() -> None:
    naive = dt.datetime(2025, 11, 1)
    assert to_instant(naive, JAKARTA) == dt.datetime(2025, 10, 31, 17, tzinfo=dt.UTC)
    aware = dt.datetime(2025, 11, 1, 7, tzinfo=JAKARTA)
    assert to_instant(aware, JAKARTA) == dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    assert to_instant(aware, JAKARTA).tzinfo is dt.UTC
    assert to_instant(None, JAKARTA) is None
