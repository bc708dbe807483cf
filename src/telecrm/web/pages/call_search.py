"""The calls search form, shared by the console's calls and the portal's: what was
typed, read into the listing's ``CdrFilters`` with an error by each field that cannot
be (the page shows it there, status 422)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields, replace
from urllib.parse import urlencode

from fastapi import Request

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.listing.filters import CdrFilters
from telecrm.rating.types import UnratedReason

STATUSES = [state.value for state in CdrState]
REASONS = [reason.value for reason in UnratedReason]
NUMBER_CHARACTERS = frozenset("0123456789+*#")


@dataclass(frozen=True)
class CallSearch:
    accountcode: str = ""
    start_from: str = ""  # a day, YYYY-MM-DD, in the billing time zone
    start_to: str = ""  # the last day, included
    number: str = ""
    status: str = ""
    rating_reason: str = ""
    cursor: str = ""

    @classmethod
    def of(cls, request: Request, by_account: bool = True) -> CallSearch:
        """The search in the query string; a customer (``by_account`` false) searches
        its own contract's calls, whatever account code is asked for."""
        params = request.query_params
        search = cls(**{f.name: params.get(f.name, "").strip()[:200] for f in fields(cls)})
        return search if by_account else replace(search, accountcode="")

    def query(self, **changes: str) -> str:
        """This search as a query string (without the empty fields)."""
        values = asdict(replace(self, **changes))
        return urlencode({name: value for name, value in values.items() if value})

    def errors(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in ("start_from", "start_to"):
            if getattr(self, name) and _day(getattr(self, name)) is None:
                found[name] = "a day, as YYYY-MM-DD"
        first, last = _day(self.start_from), _day(self.start_to)
        if first and last and last < first:
            found["start_to"] = "the last day comes before the first"
        if self.number and not set(self.number) <= NUMBER_CHARACTERS:
            found["number"] = "digits only (and + * #)"
        if len(self.accountcode) > 80:
            found["accountcode"] = "at most 80 characters"
        if self.status and self.status not in STATUSES:
            found["status"] = f"one of {', '.join(STATUSES)}"
        if self.rating_reason and self.rating_reason not in REASONS:
            found["rating_reason"] = f"one of {', '.join(REASONS)}"
        return found

    def filters(self) -> CdrFilters:
        """The listing's filters (call only when ``errors()`` is empty): days are read
        in the billing time zone by the listing service."""
        first, last = _day(self.start_from), _day(self.start_to)
        return CdrFilters(
            accountcode=self.accountcode or None,
            start_from=dt.datetime.combine(first, dt.time()) if first else None,
            start_to=dt.datetime.combine(last + dt.timedelta(days=1), dt.time()) if last else None,
            number=self.number or None,
            status=self.status or None,
            rating_reason=self.rating_reason or None,
        )


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
