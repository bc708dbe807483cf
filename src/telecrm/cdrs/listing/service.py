"""The CDR listing API's rules: who sees which calls, and the page cursor."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm.cdrs.lifecycle.validation import REASON_TEXT, UNBILLABLE, Reason
from telecrm.cdrs.listing import repository
from telecrm.cdrs.listing.filters import CdrFilters
from telecrm.cdrs.models import Cdr
from telecrm.clock import to_instant
from telecrm.contracts import repository as contracts_repository
from telecrm.contracts import service as contracts
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import EVERYTHING, ContractScope
from telecrm.errors import CdrNotFound, ValidationFailed
from telecrm.rates import service as rates
from telecrm.rates.models import Rate


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


def in_instants(filters: CdrFilters, tz: ZoneInfo) -> CdrFilters:
    """``filters`` with a time without a zone read in ``tz``."""
    return replace(
        filters,
        start_from=to_instant(filters.start_from, tz),
        start_to=to_instant(filters.start_to, tz),
    )


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
    filters = in_instants(filters, tz)
    before = decode_cursor(cursor) if cursor else None
    rows = repository.list_cdrs(session, scope, filters, before, limit + 1)
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None


@dataclass(frozen=True)
class Finding:
    reason: str
    text: str
    unbillable: bool  # it keeps the call from the bill


@dataclass(frozen=True)
class CallDetail:
    """A call with what explains it: its validation findings, and its rating's
    contract and rate."""

    cdr: Cdr
    findings: list[Finding]
    contract: Contract | None
    rate: Rate | None


def _finding(reason: str) -> Finding:
    try:
        known = Reason(reason)
    except ValueError:
        return Finding(reason, reason, False)
    return Finding(reason, REASON_TEXT[known], known in UNBILLABLE)


def call_detail(session: Session, scope: ContractScope, cdr_id: int) -> CallDetail:
    """``get_cdr``, with its findings explained, its contract and its rate."""
    cdr = get_cdr(session, scope, cdr_id)
    contract_id, rate_id = cdr.contract_id, cdr.rate_id
    return CallDetail(
        cdr=cdr,
        findings=[_finding(reason) for reason in cdr.validation_errors or []],
        contract=contracts.get_contract(session, EVERYTHING, contract_id)
        if contract_id is not None
        else None,
        rate=rates.require_rate(session, rate_id) if rate_id is not None else None,
    )


def currencies(session: Session, cdrs: Sequence[Cdr]) -> dict[int, str]:
    """The currency of each rated call's contract, by contract id."""
    ids = {cdr.contract_id for cdr in cdrs if cdr.contract_id is not None}
    return {
        cid: contract.currency
        for cid, contract in contracts_repository.by_ids(session, ids).items()
    }


def get_cdr(session: Session, scope: ContractScope, cdr_id: int) -> Cdr:
    """404 for a call the caller may not see, so that ids do not leak."""
    cdr = repository.get(session, cdr_id)
    if cdr is None or not scope.allows(cdr.contract_id):
        raise CdrNotFound(f"CDR {cdr_id} not found")
    return cdr
