from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import and_, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.models import Cdr, CdrRating, rating_of_call, unbilled
from telecrm.contracts.repository import scope_clause
from telecrm.contracts.scope import ContractScope
from telecrm.invoices.models import (
    SENT_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
)
from telecrm.rates.models import Rate
from telecrm.rating.types import RatingStatus


class DestinationSum(NamedTuple):
    contract_id: int
    destination: str | None
    first_prefix: str | None
    last_prefix: str | None
    call_count: int
    billed_calls: int
    billable_seconds: int
    amount: Decimal


def lock_sequence(session: Session, year: int) -> int:
    """The last invoice number of ``year``, with the year's row locked until the
    transaction ends: one invoice generation at a time, so that no number is given
    twice. (SQLite has no row locks; there the INSERT takes the database's write
    lock, which serialises writers just the same.)"""
    dialect = session.get_bind().dialect.name
    make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        make_insert(InvoiceSequence)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    last = session.scalar(
        select(InvoiceSequence.last_number).where(InvoiceSequence.year == year).with_for_update()
    )
    return last or 0


def set_sequence(session: Session, year: int, last_number: int) -> None:
    session.execute(
        update(InvoiceSequence).where(InvoiceSequence.year == year).values(last_number=last_number)
    )


class LateSum(NamedTuple):
    """Calls of one contract to one destination that arrived after the invoice of
    their month (``original_invoice_id``) was sent."""

    contract_id: int
    original_invoice_id: int
    original_period_start: dt.datetime
    destination: str | None
    first_prefix: str | None
    last_prefix: str | None
    call_count: int
    billed_calls: int
    billable_seconds: int
    amount: Decimal


def period_invoices(session: Session, period_start: dt.datetime) -> Sequence[Invoice]:
    """The month's monthly invoices (not its adjustments)."""
    return session.scalars(
        select(Invoice).where(
            Invoice.period_start == period_start, Invoice.kind == InvoiceKind.MONTHLY
        )
    ).all()


def draft_adjustments(session: Session, months_before: dt.datetime) -> Sequence[Invoice]:
    """The adjustments still in draft of months that start before ``months_before``."""
    return session.scalars(
        select(Invoice).where(
            Invoice.kind == InvoiceKind.ADJUSTMENT,
            Invoice.status == InvoiceStatus.DRAFT,
            Invoice.period_start < months_before,
        )
    ).all()


def _billable_calls(period_start: dt.datetime, period_end: dt.datetime) -> list[Any]:
    """The month's rated calls that are on no invoice: what a draft sums, and what
    sending it links (only a sent invoice holds calls). Only a valid call has a
    rating (validation takes it off a call it finds invalid)."""
    return [
        CdrRating.rating_status == RatingStatus.RATED,
        CdrRating.start_time >= period_start,
        CdrRating.start_time < period_end,
        CdrRating.contract_id.is_not(None),
        CdrRating.invoice_id.is_(None),
    ]


def _late_calls(original: Any) -> list[Any]:
    """Rated calls on no invoice in the month of ``original`` (an invoices table),
    a monthly invoice that was sent: they arrived after it was sent."""
    return [
        original.kind == InvoiceKind.MONTHLY,
        original.status.in_(SENT_STATUSES),
        CdrRating.contract_id == original.contract_id,
        CdrRating.start_time >= original.period_start,
        CdrRating.start_time < original.period_end,
        unbilled(),
    ]


def _billed() -> Any:
    """1 for a billed call (answered or cost something), else 0."""
    return case((or_(CdrRating.billable_seconds > 0, CdrRating.cost > 0), 1), else_=0)


def _destination_sum_columns(destination: Any) -> tuple[Any, ...]:
    """What a destination line sums: its prefixes, calls, billed calls, seconds, cost."""
    return (
        destination,
        func.min(CdrRating.matched_prefix),
        func.max(CdrRating.matched_prefix),
        func.count(),
        func.sum(_billed()),
        func.coalesce(func.sum(CdrRating.billable_seconds), 0),
        func.sum(CdrRating.cost),
    )


def destination_sums(
    session: Session, period_start: dt.datetime, period_end: dt.datetime
) -> list[DestinationSum]:
    """The month's rated calls that are on no invoice, summed per contract and
    destination (the rate's description, else the matched prefix)."""
    destination = func.coalesce(Rate.description, CdrRating.matched_prefix)
    query = (
        select(
            CdrRating.contract_id,
            *_destination_sum_columns(destination),
        )
        .outerjoin(Rate, Rate.id == CdrRating.rate_id)
        .where(*_billable_calls(period_start, period_end))
        .group_by(CdrRating.contract_id, destination)
    )
    return [DestinationSum(*row) for row in session.execute(query)]


def late_destination_sums(session: Session, months_before: dt.datetime) -> list[LateSum]:
    """The calls that arrived after the invoice of their month was sent, of months
    that start before ``months_before``, summed per contract, month and destination.
    Read through the index of the calls on no invoice, so the invoiced past costs
    nothing."""
    destination = func.coalesce(Rate.description, CdrRating.matched_prefix)
    query = (
        select(
            Invoice.contract_id,
            Invoice.id,
            Invoice.period_start,
            *_destination_sum_columns(destination),
        )
        .select_from(Invoice)
        .join(CdrRating, and_(*_late_calls(Invoice)))
        .outerjoin(Rate, Rate.id == CdrRating.rate_id)
        .where(Invoice.period_start < months_before)
        .group_by(Invoice.contract_id, Invoice.id, Invoice.period_start, destination)
    )
    return [LateSum(*row) for row in session.execute(query)]


def rating_status_counts(
    session: Session, period_start: dt.datetime, period_end: dt.datetime
) -> dict[RatingStatus | CdrState, int]:
    """How many of the month's calls are rated, unrated, pending (no rating yet), and
    ``invalid`` (found unbillable: nothing will rate them until they are corrected)."""
    in_month = (Cdr.start_time >= period_start, Cdr.start_time < period_end)
    calls, invalid = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(
                    case((and_(Cdr.status == CdrState.INVALID, CdrRating.cdr_id.is_(None)), 1))
                ),
                0,
            ),
        )
        .select_from(Cdr)
        .outerjoin(CdrRating, rating_of_call(period_start, period_end))
        .where(*in_month)
    ).one()
    rows = session.execute(
        select(CdrRating.rating_status, func.count())
        .where(CdrRating.start_time >= period_start, CdrRating.start_time < period_end)
        .group_by(CdrRating.rating_status)
    )
    counts: dict[RatingStatus | CdrState, int] = {status: count for status, count in rows}
    counts[RatingStatus.PENDING] = (calls or 0) - int(invalid) - sum(counts.values())
    counts[CdrState.INVALID] = int(invalid)
    return {status: count for status, count in counts.items() if count}


def add_all(session: Session, invoices: Collection[Invoice]) -> None:
    session.add_all(invoices)
    session.flush()


def delete_invoices(session: Session, invoices: Collection[Invoice]) -> None:
    """Their calls, if any, are taken off first."""
    ids = [invoice.id for invoice in invoices]
    if ids:
        session.execute(
            update(CdrRating)
            .where(CdrRating.invoice_id.in_(ids))
            .values(invoice_id=None)
            .execution_options(synchronize_session=False)
        )
    for invoice in invoices:
        session.delete(invoice)
    session.flush()


def replace_lines(
    session: Session, invoice_ids: Collection[int], lines: Sequence[dict[str, Any]]
) -> None:
    if invoice_ids:
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(invoice_ids)))
    if lines:
        session.execute(insert(InvoiceLine), list(lines))


def link_calls(session: Session, invoice: Invoice) -> None:
    """Put on ``invoice`` its contract's calls of its month that are on no invoice:
    one set-based UPDATE, the same calls its draft summed. (An adjustment's month is
    that of the sent invoice it adjusts: its calls on no invoice are the late ones.)
    A monthly invoice that bills earlier periods also takes the calls that arrived
    after the invoice of their month was sent."""
    session.execute(
        update(CdrRating)
        .where(
            CdrRating.contract_id == invoice.contract_id,
            *_billable_calls(invoice.period_start, invoice.period_end),
        )
        .values(invoice_id=invoice.id)
        .execution_options(synchronize_session=False)
    )
    if invoice.bills_earlier_periods:
        original = aliased(Invoice)
        session.execute(
            update(CdrRating)
            .where(
                CdrRating.contract_id == invoice.contract_id,
                CdrRating.start_time < invoice.period_start,
                unbilled(),  # by the index of unbilled calls, not the contract's past
                exists().where(*_late_calls(original)),
            )
            .values(invoice_id=invoice.id)
            .execution_options(synchronize_session=False)
        )


def linked_calls_match(session: Session, invoice: Invoice) -> bool:
    """Whether the calls on ``invoice`` are those its figures were computed from: as
    many billed calls as its ``call_count``, and costs summing exactly to its lines'
    amounts (the unrounded basis of its subtotal). Compared in SQL, exactly."""
    billed_calls = (
        select(func.coalesce(func.sum(_billed()), 0))
        .where(CdrRating.invoice_id == invoice.id)
        .scalar_subquery()
    )
    cost_sum = (
        select(func.coalesce(func.sum(CdrRating.cost), 0))
        .where(CdrRating.invoice_id == invoice.id)
        .scalar_subquery()
    )
    lines_sum = (
        select(func.coalesce(func.sum(InvoiceLine.amount), 0))
        .where(InvoiceLine.invoice_id == invoice.id)
        .scalar_subquery()
    )
    return bool(
        session.scalar(
            select(and_(billed_calls == Invoice.call_count, cost_sum == lines_sum)).where(
                Invoice.id == invoice.id
            )
        )
    )


def move(
    session: Session,
    invoice_id: int,
    source: InvoiceStatus,
    target: InvoiceStatus,
    stamp: str,
    at: dt.datetime,
) -> bool:
    """Put the invoice in ``target``, its ``stamp`` column at ``at``, if it is still in
    ``source``; whether it was. One conditional UPDATE: of two at once only one
    moves it (on PostgreSQL the second waits for the first's row lock, then finds
    the status changed)."""
    result = session.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id, Invoice.status == source)
        .values({Invoice.status: target, getattr(Invoice, stamp): at})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def status_of(session: Session, invoice_id: int) -> InvoiceStatus | None:
    """The status as stored now (not as this session last read it)."""
    return session.scalar(select(Invoice.status).where(Invoice.id == invoice_id))


def get(session: Session, invoice_id: int) -> Invoice | None:
    return session.get(Invoice, invoice_id)


def by_ids(session: Session, invoice_ids: Collection[int]) -> dict[int, Invoice]:
    if not invoice_ids:
        return {}
    invoices = session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids)))
    return {invoice.id: invoice for invoice in invoices}


def get_by_number(session: Session, invoice_number: str) -> Invoice | None:
    return session.scalars(
        select(Invoice).where(Invoice.invoice_number == invoice_number)
    ).one_or_none()


def lines_of(session: Session, invoice_id: int) -> Sequence[InvoiceLine]:
    return session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    ).all()


def list_invoices(
    session: Session,
    scope: ContractScope,
    *,
    period_start: dt.datetime | None = None,
    status: InvoiceStatus | None = None,
    contract_id: int | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> Sequence[Invoice]:
    """Keyset-paginated by id (numbers are given in id order within a year)."""
    query = select(Invoice).where(scope_clause(scope, Invoice.contract_id)).order_by(Invoice.id)
    if period_start is not None:
        query = query.where(Invoice.period_start == period_start)
    if status is not None:
        query = query.where(Invoice.status == status)
    if contract_id is not None:
        query = query.where(Invoice.contract_id == contract_id)
    if after_id is not None:
        query = query.where(Invoice.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()
