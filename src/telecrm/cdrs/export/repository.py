"""The export's one query: the CDRs of a window with their rating, a batch at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from telecrm.cdrs.listing import repository as listing
from telecrm.cdrs.listing.filters import CdrFilters
from telecrm.cdrs.models import (
    Cdr,
    CdrRating,
    lifecycle_status_expression,
    rating_of_call,
    rating_status_expression,
)
from telecrm.cdrs.rating_run.repository import RATING_COLUMNS
from telecrm.contracts.scope import ContractScope

EXPORT_COLUMNS = (
    "id",
    "call_id",
    "accountcode",
    "src",
    "dst",
    "start_time",
    "billsec",
    "disposition",
    "cleaned_number",
    "matched_prefix",
    "rate_id",
    "billable_seconds",
    "cost",
    "rating_status",
    "rating_reason",
    "status",
    "validation_errors",
)


def export_columns() -> list[Any]:
    """``EXPORT_COLUMNS`` as SQL, over ``cdrs`` joined to ``cdr_ratings``."""
    special = {
        "rating_status": rating_status_expression(),
        "status": lifecycle_status_expression(),
    }
    return [
        special[name].label(name)
        if name in special
        else getattr(CdrRating if name in RATING_COLUMNS else Cdr, name)
        for name in EXPORT_COLUMNS
    ]


def filtered_rows(
    session: Session, scope: ContractScope, filters: CdrFilters, batch: int
) -> Iterator[Sequence[Any]]:
    """The calls the listing shows for ``filters``, newest first, a batch at a time."""
    return listing.rows_in_batches(session, export_columns(), scope, filters, batch)


def export_rows(
    session: Session, start: dt.datetime, end: dt.datetime, batch: int
) -> Iterator[Sequence[Any]]:
    """The CDRs starting in ``[start, end)``, oldest first, fetched ``batch`` at a
    time (keyset on ``(start_time, id)``): memory holds one batch."""
    after: tuple[dt.datetime, int] | None = None
    columns = export_columns()
    while True:
        query = (
            select(*columns)
            .outerjoin(CdrRating, rating_of_call(start, end))
            .where(Cdr.start_time >= start, Cdr.start_time < end)
            .order_by(Cdr.start_time, Cdr.id)
            .limit(batch)
        )
        if after is not None:
            query = query.where(
                or_(Cdr.start_time > after[0], and_(Cdr.start_time == after[0], Cdr.id > after[1]))
            )
        rows = session.execute(query).all()
        yield from rows
        if len(rows) < batch:
            return
        after = (rows[-1].start_time, rows[-1].id)
