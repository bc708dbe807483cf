"""A month's traffic figures, for the dashboard (everything) and a customer's portal
(its own contract): one function, ``month_figures``, cached in Redis when
``TELECRM_REDIS_URL`` is set (``telecrm.cache``) until an import, validation, rating
or contract change."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.cdrs.traffic import repository
from telecrm.cdrs.traffic.schemas import Attention, DayFigures, MonthFigures, TopRow
from telecrm.clock import billing_month
from telecrm.config import Settings
from telecrm.contracts import repository as contracts
from telecrm.contracts.scope import ContractScope
from telecrm.rating.types import RatingStatus

TOP = 10


def month_figures(
    session: Session, scope: ContractScope, year: int, month: int, settings: Settings
) -> MonthFigures:
    """The month's figures for ``scope`` (see ``_month_figures``), from the cache when
    nothing they read changed since they were computed."""
    return cache.get_or_compute(
        settings,
        "traffic",
        {
            "year": year,
            "month": month,
            "timezone": settings.timezone,
            "restricted": scope.restricted,
            "contract_id": scope.contract_id,
            "answered": ",".join(sorted(settings.answered_dispositions)),
        },
        lambda: _month_figures(session, scope, year, month, settings),
        MonthFigures,
        depends_on=(cache.CDRS, cache.RATINGS, cache.CONTRACTS),
    )


def _month_figures(
    session: Session, scope: ContractScope, year: int, month: int, settings: Settings
) -> MonthFigures:
    """Calls, minutes, revenue, ASR and ACD per day of the month (every day, zeros
    included) and the top destinations by revenue; for staff also the top accounts
    and the calls that need attention. Three aggregate queries, whatever the month's
    size: the calls per day, the ratings per day and contract, the destinations."""
    tz = settings.tz
    start, end = billing_month(year, month, tz)
    first = start.astimezone(tz).date()
    last = (end.astimezone(tz) - dt.timedelta(seconds=1)).date()
    days = {
        first + dt.timedelta(days=n): DayFigures(day=first + dt.timedelta(days=n))
        for n in range((last - first).days + 1)
    }
    answered = [d.strip().upper() for d in settings.answered_dispositions]
    invalid = 0
    for calls in repository.calls_by_day(session, scope, start, end, tz, answered):
        day = days[calls.day]
        day.calls += calls.calls
        day.answered += calls.answered
        day.answered_seconds += calls.answered_seconds
        invalid += calls.invalid

    ratings = repository.ratings_by_day(session, scope, start, end, tz)
    owners = contracts.by_ids(session, {r.contract_id for r in ratings if r.contract_id})
    unrated: dict[str, int] = defaultdict(int)
    per_contract: dict[int, list[int | Decimal]] = {}
    for rating in ratings:
        if rating.rating_status is not RatingStatus.RATED:
            unrated[rating.rating_reason or "unknown"] += rating.calls
            continue
        if rating.contract_id is None:  # a rated call always has its contract
            continue
        currency = owners[rating.contract_id].currency
        day = days[rating.day]
        day.billable_seconds += rating.billable_seconds
        day.revenue[currency] = day.revenue.get(currency, Decimal(0)) + rating.cost
        sums = per_contract.setdefault(rating.contract_id, [0, 0, Decimal(0)])
        sums[0] += rating.calls
        sums[1] += rating.billable_seconds
        sums[2] += rating.cost

    staff = not scope.restricted
    top_accounts = sorted(
        (
            TopRow(
                key=owners[cid].accountcode,
                name=owners[cid].company_name,
                currency=owners[cid].currency,
                calls=int(calls),
                billable_seconds=int(seconds),
                revenue=Decimal(revenue),
            )
            for cid, (calls, seconds, revenue) in per_contract.items()
        ),
        key=lambda row: (-row.revenue, row.key),
    )[:TOP]
    top_destinations = repository.top_destinations(session, scope, start, end, TOP)
    return MonthFigures(
        year=year,
        month=month,
        days=list(days.values()),
        top_destinations=[TopRow(**row._asdict()) for row in top_destinations],
        top_accounts=top_accounts if staff else [],
        attention=Attention(invalid=invalid, unrated=dict(unrated)) if staff else None,
    )
