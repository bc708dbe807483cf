from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.config import Settings
from telecrm.crm.schemas import Page
from telecrm.errors import ValidationFailed
from telecrm.reports import repository
from telecrm.reports.models import AggregationKind
from telecrm.reports.schemas import (
    AggregationSummary,
    DealAggregationQuery,
    DealAggregationRead,
    PeriodTotal,
)


def list_aggregations(
    session: Session, query: DealAggregationQuery, settings: Settings
) -> Page[DealAggregationRead]:
    """A page of the stored aggregations; cached (``telecrm.cache``) until they are
    computed again."""
    sort_field = query.sort.removeprefix("-")
    if sort_field not in query.sortable:
        raise ValidationFailed(
            f"cannot sort deal aggregations by {sort_field!r} "
            f"(fields: {', '.join(query.sortable)})",
            detail=[{"field": "sort", "message": f"unknown field {sort_field!r}"}],
        )

    def page() -> Page[DealAggregationRead]:
        items, total = repository.list_aggregations(
            session,
            kind=query.kind,
            account_id=query.account_id,
            date_from=query.date_from,
            date_to=query.date_to,
            sort_field=sort_field,
            descending=query.sort.startswith("-"),
            offset=query.offset,
            limit=query.limit,
        )
        return Page[DealAggregationRead](
            items=[DealAggregationRead.model_validate(item) for item in items],
            total=total,
            offset=query.offset,
            limit=query.limit,
        )

    return cache.get_or_compute(
        settings,
        "deal_aggregations",
        query.model_dump(mode="json"),
        page,
        Page[DealAggregationRead],
        depends_on=(cache.DEAL_AGGREGATIONS,),
    )


def period_totals(session: Session, query: DealAggregationQuery) -> list[PeriodTotal]:
    """The query's aggregations summed per period (the kind's, monthly by default),
    by the database: a chart gets one point a period, never the rows."""
    rows = repository.period_totals(
        session,
        query.kind or AggregationKind.MONTHLY,
        query.account_id,
        query.date_from,
        query.date_to,
    )
    return [PeriodTotal(period=day, total_deal_size=total, deals=n) for day, total, n in rows]


def compute_aggregates(session: Session, kind: AggregationKind) -> AggregationSummary:
    """Per account and period of the kind, the sum of deal sizes and the number of
    deals, computed by the database and stored in place of the previous ones:
    computing twice gives the same rows."""
    repository.replace_aggregations(session, kind)
    cache.invalidate_on_commit(session, cache.DEAL_AGGREGATIONS)
    rows, accounts, deals, total = repository.totals(session, kind)
    return AggregationSummary(
        kind=kind, rows=rows, accounts=accounts, deals=deals, total_deal_size=total
    )


def compute(session: Session, kinds: Sequence[AggregationKind]) -> list[AggregationSummary]:
    return [compute_aggregates(session, kind) for kind in dict.fromkeys(kinds)]
