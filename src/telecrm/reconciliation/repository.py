"""The reconciliation's queries: SQL aggregates (GROUP BY) over the month's calls,
their ratings and invoices; never a row per call in Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import String, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.lifecycle.validation import Reason
from telecrm.cdrs.models import Cdr, CdrImport, CdrRating, rating_of_call
from telecrm.contracts.models import Contract
from telecrm.invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from telecrm.rating.types import RatingStatus


class Bucket:
    """Where a call of the month stands; each call is in exactly one. Rated calls on
    no invoice (``RATED_OPEN``) are told apart afterwards by their contract's invoice
    for the month: on its draft, arrived after it was sent (on a later invoice's draft,
    or on none yet), or not invoiced yet; invoiced calls by their invoice: the month's,
    or a later one that billed them late."""

    NEW = "new"  # stored, not validated yet
    INVALID = "invalid"  # a finding makes it unbillable
    PENDING = "pending"  # valid, not rated yet
    UNRATED = "unrated"  # rating could not price it (reason)
    INVOICED = "invoiced"  # on a sent, awaiting-approval or paid invoice (``invoice_id``)
    RATED_OPEN = "rated_open"  # rated, on no invoice


class CallGroup(NamedTuple):
    contract_id: int | None  # the rating's
    accountcode: str  # as the calls have it
    bucket: str
    invoice_id: int | None  # the invoice the calls are linked to
    reason: str | None  # the unrated reason
    zero_cost: bool
    calls: int
    money: Decimal | None
    flagged: int  # calls with a validation finding
    findings: dict[str, int]  # calls with each finding


class InvoiceFigures(NamedTuple):
    id: int
    contract_id: int
    invoice_number: str
    status: InvoiceStatus
    kind: InvoiceKind
    period_start: dt.datetime  # of the month it bills (an adjustment: the month it adjusts)
    currency: str
    subtotal: Decimal
    tax: Decimal
    amount: Decimal
    call_count: int
    exact_subtotal: Decimal  # the sum of its lines: the unrounded basis of its subtotal
    month_exact: Decimal  # the sum of its lines of the reconciled month's calls
    month_lines: int  # how many of its lines bill the reconciled month's calls


class Received(NamedTuple):
    source: str | None
    import_id: int | None
    file_name: str | None
    calls: int
    duplicates: int | None  # of the whole import (a file is not one month)
    rejected: int | None


def _bucket() -> Any:
    # A call on a sent invoice is billed whatever validation found since: the money is
    # on the invoice, so it is counted there.
    return case(
        (CdrRating.invoice_id.is_not(None), Bucket.INVOICED),
        (Cdr.status == CdrState.NEW.value, Bucket.NEW),
        (Cdr.status == CdrState.INVALID.value, Bucket.INVALID),
        (CdrRating.cdr_id.is_(None), Bucket.PENDING),
        (CdrRating.rating_status == RatingStatus.UNRATED, Bucket.UNRATED),
        else_=Bucket.RATED_OPEN,
    )


def call_groups(session: Session, start: dt.datetime, end: dt.datetime) -> list[CallGroup]:
    """The calls starting in ``[start, end)`` counted per rating contract and account
    code as written, bucket, invoice, unrated reason and zero cost, with their money
    and findings. The account codes of calls without a rating contract are matched to
    contracts afterwards, per group: joining every call to ``contracts`` on a trimmed
    code cost SQLite a scan of the contracts per call."""
    bucket = _bucket()
    reason = case((CdrRating.rating_status == RatingStatus.UNRATED, CdrRating.rating_reason))
    zero = case(
        (and_(CdrRating.rating_status == RatingStatus.RATED, CdrRating.cost == 0), 1), else_=0
    )
    findings_text = cast(Cdr.validation_errors, String)
    flagged = and_(Cdr.validation_errors.is_not(None), findings_text != "null")
    query = (
        select(
            CdrRating.contract_id,
            Cdr.accountcode,
            bucket.label("bucket"),
            CdrRating.invoice_id,
            reason.label("reason"),
            zero.label("zero"),
            func.count(),
            func.sum(CdrRating.cost),
            func.coalesce(func.sum(case((flagged, 1))), 0),
            *(
                func.coalesce(func.sum(case((findings_text.like(f'%"{r.value}"%'), 1))), 0)
                for r in Reason
            ),
        )
        .select_from(Cdr)
        # the rating's copy of the start time reads the month's ratings alone
        .outerjoin(CdrRating, rating_of_call(start, end))
        .where(Cdr.start_time >= start, Cdr.start_time < end)
        .group_by(
            CdrRating.contract_id, Cdr.accountcode, bucket, CdrRating.invoice_id, reason, zero
        )
    )
    groups = []
    for row in session.execute(query):
        found = {r.value: int(n) for r, n in zip(Reason, row[9:], strict=True) if n}
        groups.append(
            CallGroup(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                bool(row[5]),
                int(row[6]),
                row[7],
                int(row[8]),
                found,
            )
        )
    return groups


def call_count(session: Session, start: dt.datetime, end: dt.datetime) -> int:
    """The month's calls, counted on their own: what the buckets must add up to."""
    return int(
        session.scalar(select(func.count()).where(Cdr.start_time >= start, Cdr.start_time < end))
        or 0
    )


def invoices(
    session: Session, period_start: dt.datetime, holding: Collection[int]
) -> list[InvoiceFigures]:
    """The invoices that bill calls of the month starting at ``period_start``, with the
    exact sum of all their lines and of the lines of the month's calls: the month's
    own (monthly and adjustments), the invoices ``holding`` its calls (linked), and
    the later drafts with a section of its calls (arrived after its invoice was sent).

    A line bills the calls of its invoice's month, or, in a section of earlier
    periods, those of the month of the invoice it names (``original_invoice_id``).
    Read from the month's invoices, the given ones and the drafts alone: never the
    lines of the whole past."""
    original = aliased(Invoice)
    of_month = or_(
        and_(InvoiceLine.original_invoice_id.is_(None), Invoice.period_start == period_start),
        original.period_start == period_start,
    )
    month_line = case((of_month, InvoiceLine.id))
    query = (
        select(
            Invoice.id,
            Invoice.contract_id,
            Invoice.invoice_number,
            Invoice.status,
            Invoice.kind,
            Invoice.period_start,
            Invoice.currency,
            Invoice.subtotal,
            Invoice.tax,
            Invoice.amount,
            Invoice.call_count,
            func.sum(InvoiceLine.amount),
            func.sum(case((of_month, InvoiceLine.amount))),
            func.count(month_line),
        )
        .select_from(Invoice)
        .outerjoin(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .outerjoin(original, original.id == InvoiceLine.original_invoice_id)
        .where(
            or_(
                Invoice.period_start == period_start,
                Invoice.id.in_(list(holding)),
                and_(Invoice.status == InvoiceStatus.DRAFT, Invoice.period_start > period_start),
            )
        )
        .group_by(Invoice.id)
        .having(
            or_(
                Invoice.period_start == period_start,
                Invoice.id.in_(list(holding)),
                func.count(month_line) > 0,
            )
        )
        .order_by(Invoice.invoice_number)
    )
    return [
        InvoiceFigures._make(
            (*row[:11], row[11] or Decimal(0), row[12] or Decimal(0), int(row[13]))
        )
        for row in session.execute(query)
    ]


def contracts(session: Session) -> list[tuple[int, str, str]]:
    """Every contract's id, account code and currency (a few thousand at most)."""
    rows = session.execute(select(Contract.id, Contract.accountcode, Contract.currency))
    return [(contract_id, code, currency) for contract_id, code, currency in rows]


def received(session: Session, start: dt.datetime, end: dt.datetime) -> list[Received]:
    """The month's calls per source and import, with each import's duplicates and
    rejected rows."""
    per_import = (
        select(Cdr.source, Cdr.import_id, func.count().label("calls"))
        .where(Cdr.start_time >= start, Cdr.start_time < end)
        .group_by(Cdr.source, Cdr.import_id)
        .subquery("per_import")
    )
    query = (
        select(
            per_import.c.source,
            per_import.c.import_id,
            CdrImport.file_name,
            per_import.c.calls,
            CdrImport.duplicates,
            CdrImport.rejected,
        )
        .outerjoin(CdrImport, CdrImport.id == per_import.c.import_id)
        .order_by(
            func.coalesce(per_import.c.source, literal("")),
            func.coalesce(per_import.c.import_id, 0),
        )
    )
    return [
        Received(source, import_id, file_name, int(calls), duplicates, rejected)
        for source, import_id, file_name, calls, duplicates, rejected in session.execute(query)
    ]
