"""The deal aggregations, computed by the database: the period of a deal is the
start of its UTC day, Monday-started week or month, as PostgreSQL's DATE_TRUNC
gives it; SQLite gets the same dates from its date functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, FunctionElement, delete, distinct, func, insert, literal, select
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from telecrm.db import Money, UTCDateTime, utcnow
from telecrm.deals.models import Deal
from telecrm.reports.models import AggregationKind, DealAggregation


class _PeriodStart(FunctionElement[dt.date]):
    """The first day of the period of an instant (a UTC timestamp column). One class
    per kind, so that each kind has its own compiled (and cached) SQL."""

    type = Date()
    inherit_cache = True


class day_start(_PeriodStart):
    inherit_cache = True


class week_start(_PeriodStart):
    inherit_cache = True


class month_start(_PeriodStart):
    inherit_cache = True


PERIOD_START: dict[AggregationKind, type[_PeriodStart]] = {
    AggregationKind.DAILY: day_start,
    AggregationKind.WEEKLY: week_start,
    AggregationKind.MONTHLY: month_start,
}


def _argument(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


# SQLite keeps an instant as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC: the date is its first
# ten characters. (Handing the whole text to date() would round 23:59:59.9999995 up.)
@compiles(day_start, "sqlite")
def _day_sqlite(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date(substr({_argument(element, compiler, **kw)}, 1, 10))"


@compiles(week_start, "sqlite")
def _week_sqlite(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    # 'weekday 0' moves forward to the Sunday ending the week (or stays on it).
    return f"date(substr({_argument(element, compiler, **kw)}, 1, 10), 'weekday 0', '-6 days')"


@compiles(month_start, "sqlite")
def _month_sqlite(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date(substr({_argument(element, compiler, **kw)}, 1, 10), 'start of month')"


@compiles(day_start, "postgresql")
def _day_postgresql(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({_argument(element, compiler, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(week_start, "postgresql")
def _week_postgresql(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    argument = _argument(element, compiler, **kw)
    return f"CAST(date_trunc('week', ({argument}) AT TIME ZONE 'UTC') AS DATE)"


@compiles(month_start, "postgresql")
def _month_postgresql(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    argument = _argument(element, compiler, **kw)
    return f"CAST(date_trunc('month', ({argument}) AT TIME ZONE 'UTC') AS DATE)"


@compiles(_PeriodStart)
def _unsupported(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(
        f"deal aggregations support SQLite and PostgreSQL, not {compiler.dialect.name}"
    )


def replace_aggregations(session: Session, kind: AggregationKind) -> None:
    """Recompute every aggregation of the kind from the deals, in SQL: the old rows
    of the kind go, the new ones come, in the caller's transaction. Deals without a
    size are not counted (as in seed 003)."""
    period = PERIOD_START[kind](Deal.created_at)
    now = utcnow()
    source = (
        select(
            Deal.account_id,
            literal(kind.value),
            period,
            func.sum(Deal.deal_size),
            func.count(Deal.id),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .where(Deal.deal_size.is_not(None))
        .group_by(Deal.account_id, period)
    )
    session.execute(delete(DealAggregation).where(DealAggregation.aggregation_type == kind))
    session.execute(
        insert(DealAggregation).from_select(
            [
                DealAggregation.account_id,
                DealAggregation.aggregation_type,
                DealAggregation.aggregation_date,
                DealAggregation.total_deal_size,
                DealAggregation.deal_count,
                DealAggregation.created_at,
                DealAggregation.updated_at,
            ],
            source,
        )
    )


def totals(session: Session, kind: AggregationKind) -> tuple[int, int, int, Decimal]:
    """Rows, accounts, deals and the sum of deal sizes of one kind."""
    query = select(
        func.count(DealAggregation.id),
        func.count(distinct(DealAggregation.account_id)),
        func.coalesce(func.sum(DealAggregation.deal_count), 0),
        func.coalesce(func.sum(DealAggregation.total_deal_size), 0, type_=Money(scale=2)),
    ).where(DealAggregation.aggregation_type == kind)
    rows, accounts, deals, total = session.execute(query).one()
    return int(rows), int(accounts), int(deals), total


def list_aggregations(
    session: Session,
    *,
    kind: AggregationKind | None,
    account_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    sort_field: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[Sequence[DealAggregation], int]:
    conditions = []
    if kind is not None:
        conditions.append(DealAggregation.aggregation_type == kind)
    if account_id is not None:
        conditions.append(DealAggregation.account_id == account_id)
    if date_from is not None:
        conditions.append(DealAggregation.aggregation_date >= date_from)
    if date_to is not None:
        conditions.append(DealAggregation.aggregation_date <= date_to)
    total = session.scalar(select(func.count(DealAggregation.id)).where(*conditions))
    column = getattr(DealAggregation, sort_field)
    query = (
        select(DealAggregation)
        .where(*conditions)
        .order_by(
            column.desc() if descending else column.asc(),
            DealAggregation.account_id,
            DealAggregation.aggregation_type,
            DealAggregation.aggregation_date,
        )
        .offset(offset)
        .limit(limit)
    )
    return session.scalars(query).all(), int(total or 0)


def period_totals(
    session: Session,
    kind: AggregationKind,
    account_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> Sequence[tuple[dt.date, Decimal, int]]:
    """Per period of the kind, over every account (or one), the sum of deal sizes and
    of deals, oldest first: what a chart of the aggregations plots."""
    conditions = [DealAggregation.aggregation_type == kind]
    if account_id is not None:
        conditions.append(DealAggregation.account_id == account_id)
    if date_from is not None:
        conditions.append(DealAggregation.aggregation_date >= date_from)
    if date_to is not None:
        conditions.append(DealAggregation.aggregation_date <= date_to)
    query = (
        select(
            DealAggregation.aggregation_date,
            func.sum(DealAggregation.total_deal_size, type_=Money(scale=2)),
            func.sum(DealAggregation.deal_count),
        )
        .where(*conditions)
        .group_by(DealAggregation.aggregation_date)
        .order_by(DealAggregation.aggregation_date)
    )
    return [(day, total, int(deals)) for day, total, deals in session.execute(query)]
