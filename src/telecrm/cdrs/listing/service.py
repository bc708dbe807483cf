"""The CDR listing API's rules: who sees which calls, and the page cursor."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm.cdrs.listing import repository
from telecrm.cdrs.listing.repository import CdrFilters
from telecrm.cdrs.models import Cdr
from telecrm.clock import to_instant
from telecrm.contracts.scope import ContractScope
from telecrm.errors import CdrNotFound, ValidationFailed


def encode_cursor(cdr: Cdr) -> str:
    raw = f"{cdr.start_time.astimezone(dt.UTC).isoformat()}|{cdr.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        start_time, cdr_id = raw.split("|")
        instant = dt.datetime.fromisoformat(start_time)
        if instant.tzinfo is None:
            raise ValueError("naive")
        return instant, int(cdr_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("invalid cursor: pass next_cursor of the previous page") from exc


def list_cdrs(
    session: Session,
    scope: ContractScope,
    filters: CdrFilters,
    tz: ZoneInfo,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Cdr], str | None]:
    """A page of calls, newest first, and the cursor of the next page (``None``:
    this was the last)."""
    filters = replace(
        filters,
        start_from=to_instant(filters.start_from, tz),
        start_to=to_instant(filters.start_to, tz),
    )
    before = decode_cursor(cursor) if cursor else None
    rows = repository.list_cdrs(session, scope, filters, before, limit + 1)
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None


def get_cdr(session: Session, scope: ContractScope, cdr_id: int) -> Cdr:
    """404 for a call the caller may not see, so that ids do not leak."""
    cdr = repository.get(session, cdr_id)
    if cdr is None or not scope.allows(cdr.contract_id):
        raise CdrNotFound(f"CDR {cdr_id} not found")
    return cdr
