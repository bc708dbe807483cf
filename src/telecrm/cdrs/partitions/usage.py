"""The question retention asks of the invoices above: which invoices that are not
paid hold calls of a month (see ``telecrm.usage``); ``invoices/usage.py`` answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from telecrm.usage import UsageCheck

# (session, start, end) -> the numbers and statuses of the invoices not paid whose
# calls, or whose period, fall in [start, end)
unpaid_invoices_of_window: UsageCheck[
    Callable[[Session, dt.datetime, dt.datetime], list[tuple[str, str]]]
] = UsageCheck("which invoices not paid hold calls of this window?")
