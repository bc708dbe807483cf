"""The queries of the CDR listing (the API's and the console's; the import and rating
write paths have their own): filters, and keyset pagination newest first.

Two ways in, so that each filter can use an index (bench/bench_pages.py): a filter on
the rating (its contract, reason, status or invoice; a customer's scope) reads
``cdr_ratings`` newest first and joins each call; every other reads ``cdrs`` newest
first. Either way the order is the call's ``(start_time, id)`` (a rating keeps its
call's ``start_time`` and id), so one cursor serves both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, and_, or_, select, tuple_
from sqlalchemy.orm import Session

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.listing.filters import RATING_STATES, CdrFilters
from telecrm.cdrs.models import Cdr, CdrRating, lifecycle_status_expression, rating_of_call
from telecrm.contracts.repository import scope_clause
from telecrm.contracts.scope import ContractScope
from telecrm.rating.types import RatingStatus

_RATING_STATE_CLAUSES = {
    CdrState.RATED.value: and_(
        CdrRating.rating_status == RatingStatus.RATED, CdrRating.invoice_id.is_(None)
    ),
    CdrState.UNRATED.value: and_(
        CdrRating.rating_status == RatingStatus.UNRATED, CdrRating.invoice_id.is_(None)
    ),
    CdrState.INVOICED.value: CdrRating.invoice_id.is_not(None),
}


def _status_clause(status: str) -> Any:
    """``lifecycle_status == status``, written so that an index can serve it."""
    if status in (CdrState.NEW.value, CdrState.INVALID.value):
        return Cdr.status == status
    if status == CdrState.VALID.value:
        return and_(Cdr.status == status, CdrRating.cdr_id.is_(None))
    if status in RATING_STATES:
        return and_(Cdr.status == CdrState.VALID.value, _RATING_STATE_CLAUSES[status])
    return lifecycle_status_expression() == status


def filtered(columns: Sequence[Any], scope: ContractScope, filters: CdrFilters) -> Select[Any]:
    """``columns`` of the calls that match, newest first (no limit); ``order_keys``
    gives the two columns a keyset continues from."""
    on_rating = filters.on_rating(scope)
    start_time, cdr_id = order_keys(on_rating)
    # Joined on id and start (each table's partition key on PostgreSQL), with the
    # window on both sides, so that a month's search reads that month's partitions.
    if on_rating:
        query = select(*columns).select_from(CdrRating).join(Cdr, rating_of_call())
    else:
        query = (
            select(*columns)
            .select_from(Cdr)
            .outerjoin(CdrRating, rating_of_call(filters.start_from, filters.start_to))
        )
    query = query.where(scope_clause(scope, CdrRating.contract_id)).order_by(
        start_time.desc(), cdr_id.desc()
    )
    conditions = {
        Cdr.accountcode: filters.accountcode,
        CdrRating.contract_id: filters.contract_id,
        CdrRating.rating_reason: filters.rating_reason,
        CdrRating.invoice_id: filters.invoice_id,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if filters.status is not None:
        query = query.where(_status_clause(filters.status))
    if filters.rating_status is RatingStatus.PENDING:
        # an invalid call is not pending: nothing rates it until it is corrected
        query = query.where(CdrRating.cdr_id.is_(None), Cdr.status != CdrState.INVALID.value)
    elif filters.rating_status is not None:
        query = query.where(CdrRating.rating_status == filters.rating_status)
    if filters.number:
        query = query.where(
            or_(
                *(
                    column.startswith(filters.number, autoescape=True)
                    # not the rating's cleaned number: a condition on the joined
                    # rating makes PostgreSQL read every rating (5.2 s, bench_pages)
                    for column in (Cdr.dst, Cdr.src)
                )
            )
        )
    if filters.start_from is not None:
        query = query.where(start_time >= filters.start_from, Cdr.start_time >= filters.start_from)
    if filters.start_to is not None:
        query = query.where(start_time < filters.start_to, Cdr.start_time < filters.start_to)
    return query


def order_keys(on_rating: bool) -> tuple[Any, Any]:
    return (CdrRating.start_time, CdrRating.cdr_id) if on_rating else (Cdr.start_time, Cdr.id)


def _before(query: Select[Any], on_rating: bool, before: tuple[dt.datetime, int] | None) -> Any:
    if before is None:
        return query
    return query.where(tuple_(*order_keys(on_rating)) < tuple_(*before))


def get(session: Session, cdr_id: int) -> Cdr | None:
    return session.get(Cdr, cdr_id)


def list_cdrs(
    session: Session,
    scope: ContractScope,
    filters: CdrFilters,
    before: tuple[dt.datetime, int] | None,
    limit: int,
) -> Sequence[Cdr]:
    """Up to ``limit`` calls, newest first; ``before``: only calls after that
    ``(start_time, id)`` in this order (the previous page's last)."""
    query = _before(filtered([Cdr], scope, filters), filters.on_rating(scope), before)
    return session.scalars(query.limit(limit)).all()


def rows_in_batches(
    session: Session,
    columns: Sequence[Any],
    scope: ContractScope,
    filters: CdrFilters,
    batch: int,
) -> Iterator[Any]:
    """``columns`` of every matching call, newest first, ``batch`` rows at a time
    (keyset): memory holds one batch. The rows must have ``start_time`` and ``id``."""
    on_rating = filters.on_rating(scope)
    after: tuple[dt.datetime, int] | None = None
    while True:
        rows = session.execute(
            _before(filtered(columns, scope, filters), on_rating, after).limit(batch)
        ).all()
        yield from rows
        if len(rows) < batch:
            return
        after = (rows[-1].start_time, rows[-1].id)
