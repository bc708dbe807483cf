"""The aggregate queries of the traffic figures. Days are in the billing time zone:
the queries group instants into 15-minute steps of the epoch (every time zone's
offset is a whole number of them), which the service folds into local days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.contracts.models import Contract
from telecrm.contracts.repository import scope_clause
from telecrm.contracts.scope import ContractScope
from telecrm.rates.models import Rate
from telecrm.rating.types import RatingStatus

STEP_SECONDS = 900


class local_day(FunctionElement[Any]):
    """The day an instant falls on in a time zone. PostgreSQL says it (``AT TIME ZONE``);
    SQLite, which has no time zones, gives the 15-minute step of the epoch, which
    ``_day`` turns into the day (every zone's offset is a whole number of steps)."""

    inherit_cache = True


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(timezone({zone}, {column}) AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses.clauses[0], **kw)
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / {STEP_SECONDS})"


def _day(value: dt.date | int, tz: ZoneInfo) -> dt.date:
    if isinstance(value, dt.date):
        return value
    instant = dt.datetime.fromtimestamp(int(value) * STEP_SECONDS, dt.UTC)
    return instant.astimezone(tz).date()


class DayCalls(NamedTuple):
    day: dt.date
    calls: int
    answered: int
    answered_seconds: int
    invalid: int


class DayRatings(NamedTuple):
    """The ratings of one day, one contract, one status and reason."""

    day: dt.date
    contract_id: int | None
    rating_status: RatingStatus
    rating_reason: str | None
    calls: int
    billable_seconds: int
    cost: Any  # Decimal or None


class Top(NamedTuple):
    key: str
    name: str | None
    currency: str
    calls: int
    billable_seconds: int
    revenue: Any  # Decimal


def _fold(rows: list[Any], tz: ZoneInfo, width: int) -> list[tuple[Any, ...]]:
    """Rows keyed by (local day, other keys...) with sums after: on SQLite several steps
    fall on one day, so sum them per day."""
    folded: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = (_day(row[0], tz), *row[1:width])
        sums = folded.setdefault(key, [0] * (len(row) - width))
        for index, value in enumerate(row[width:]):
            if value is not None:
                sums[index] = sums[index] + value
    return [(*key, *sums) for key, sums in folded.items()]


def calls_by_day(
    session: Session,
    scope: ContractScope,
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
    answered_dispositions: Collection[str],
) -> list[DayCalls]:
    """Every call of ``[start, end)`` (a customer: those rated to its contract), per
    local day: attempted, answered, the answered calls' billsec, and invalid."""
    answered = case((Cdr.disposition.in_(answered_dispositions) & (Cdr.billsec > 0), 1), else_=0)
    invalid = case((Cdr.status == CdrState.INVALID.value, 1), else_=0)
    day = local_day(Cdr.start_time, tz.key)
    query = select(
        day, func.count(), func.sum(answered), func.sum(answered * Cdr.billsec), func.sum(invalid)
    ).where(Cdr.start_time >= start, Cdr.start_time < end)
    if scope.restricted:
        query = query.join(CdrRating, CdrRating.cdr_id == Cdr.id).where(
            scope_clause(scope, CdrRating.contract_id),
            CdrRating.start_time >= start,
            CdrRating.start_time < end,
        )
    rows = _fold(list(session.execute(query.group_by(day)).all()), tz, 1)
    return [DayCalls(*(row[0], *(int(v or 0) for v in row[1:]))) for row in rows]


def ratings_by_day(
    session: Session, scope: ContractScope, start: dt.datetime, end: dt.datetime, tz: ZoneInfo
) -> list[DayRatings]:
    """The month's ratings per local day, contract, status and reason: calls, billable
    seconds and cost (one read of ``cdr_ratings`` for the revenue, the top accounts
    and the unrated calls)."""
    day = local_day(CdrRating.start_time, tz.key)
    keys = (day, CdrRating.contract_id, CdrRating.rating_status, CdrRating.rating_reason)
    query = (
        select(
            *keys,
            func.count(),
            func.sum(CdrRating.billable_seconds),
            func.sum(CdrRating.cost),
        )
        .where(
            CdrRating.start_time >= start,
            CdrRating.start_time < end,
            scope_clause(scope, CdrRating.contract_id),
        )
        .group_by(*keys)
    )
    rows = _fold(list(session.execute(query).all()), tz, 4)
    return [
        DayRatings(d, contract, status, reason, int(calls), int(seconds or 0), cost)
        for d, contract, status, reason, calls, seconds, cost in rows
    ]


def _rated(scope: ContractScope, start: dt.datetime, end: dt.datetime) -> Any:
    return (
        CdrRating.rating_status == RatingStatus.RATED,
        CdrRating.start_time >= start,
        CdrRating.start_time < end,
        scope_clause(scope, CdrRating.contract_id),
    )


def top_destinations(
    session: Session, scope: ContractScope, start: dt.datetime, end: dt.datetime, limit: int
) -> list[Top]:
    """The matched prefixes that brought the most revenue, per currency; named by one of
    their rates' descriptions."""
    revenue = func.sum(CdrRating.cost)
    query = (
        select(
            CdrRating.matched_prefix,
            func.min(CdrRating.rate_id),
            Contract.currency,
            func.count(),
            func.sum(CdrRating.billable_seconds),
            revenue,
        )
        .join(Contract, Contract.id == CdrRating.contract_id)
        .where(*_rated(scope, start, end), CdrRating.matched_prefix.is_not(None))
        .group_by(CdrRating.matched_prefix, Contract.currency)
        .order_by(revenue.desc(), CdrRating.matched_prefix)
        .limit(limit)
    )
    rows = session.execute(query).all()
    names = dict(
        session.execute(
            select(Rate.id, Rate.description).where(Rate.id.in_([row[1] for row in rows]))
        ).all()
    )
    return [
        Top(str(prefix), names.get(rate_id or 0), currency, int(calls), int(seconds or 0), cost)
        for prefix, rate_id, currency, calls, seconds, cost in rows
    ]
