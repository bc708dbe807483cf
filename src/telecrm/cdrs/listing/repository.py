"""The queries of the CDR listing API (the import and rating write paths have their
own): filters, and keyset pagination by ``(start_time, id)``, newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.models import Cdr, CdrRating, lifecycle_status_expression, rating_of_call
from telecrm.contracts.repository import scope_clause
from telecrm.contracts.scope import ContractScope
from telecrm.rating.types import RatingStatus


@dataclass(frozen=True)
class CdrFilters:
    accountcode: str | None = None
    contract_id: int | None = None
    start_from: dt.datetime | None = None  # inclusive
    start_to: dt.datetime | None = None  # exclusive
    status: str | None = None
    rating_status: RatingStatus | None = None
    rating_reason: str | None = None
    invoice_id: int | None = None


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
    query = (
        select(Cdr)
        .outerjoin(CdrRating, rating_of_call(filters.start_from, filters.start_to))
        .where(scope_clause(scope, CdrRating.contract_id))
        .order_by(Cdr.start_time.desc(), Cdr.id.desc())
        .limit(limit)
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
        query = query.where(lifecycle_status_expression() == filters.status)
    if filters.rating_status is RatingStatus.PENDING:
        # an invalid call is not pending: nothing rates it until it is corrected
        query = query.where(CdrRating.cdr_id.is_(None), Cdr.status != CdrState.INVALID.value)
    elif filters.rating_status is not None:
        query = query.where(CdrRating.rating_status == filters.rating_status)
    if filters.start_from is not None:
        query = query.where(Cdr.start_time >= filters.start_from)
    if filters.start_to is not None:
        query = query.where(Cdr.start_time < filters.start_to)
    if before is not None:
        start_time, cdr_id = before
        query = query.where(
            or_(Cdr.start_time < start_time, and_(Cdr.start_time == start_time, Cdr.id < cdr_id))
        )
    return session.scalars(query).all()
