"""Calls over a few days to rate, and the ratings as rows to compare runs by."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import CdrRating
from telecrm.config import get_settings
from telecrm.jobs.dispatch import Dispatcher
from telecrm.rates.models import RateType
from tests import factories

DAYS = [dt.date(2025, 11, 3), dt.date(2025, 11, 4), dt.date(2025, 11, 5)]
DESTINATIONS = ["08123456789", "0215551234", "1002", "+6281234", "0061299998888"]


@pytest.fixture()
def days_of_calls(committed_db: Engine) -> int:
    """Calls of two contracts and a stranger over ``DAYS`` (UTC): answered and not, to
    priced, internal and unknown numbers. Returns how many."""
    made = 0
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="5000", billing_cycle=60)
        factories.rate(
            session, group, "62", "812", RateType.PER_SECOND, billing_rate="25", billing_cycle=1
        )
        contracts = [
            factories.contract(session, group, accountcode=factories.unique("ACC"))
            for _ in range(2)
        ]
        for day in DAYS:
            for n in range(12):
                start = dt.datetime.combine(day, dt.time(n * 2, n), dt.UTC)
                contract = contracts[n % 2] if n % 7 else None
                factories.cdr(
                    session,
                    contract,
                    start,
                    dst=DESTINATIONS[n % len(DESTINATIONS)],
                    billsec=0 if n % 5 == 4 else 7 * n + 1,
                    **({} if contract else {"accountcode": "WHO"}),
                )
                made += 1
    return made


def ratings(engine: Engine) -> list[tuple[Any, ...]]:
    """Every rating, row for row, without when it was made."""
    columns = [c for c in CdrRating.__table__.columns if c.name != "rated_at"]
    with Session(engine) as session:
        return [tuple(row) for row in session.execute(select(*columns).order_by(CdrRating.cdr_id))]


@pytest.fixture()
def dispatcher(committed_db: Engine) -> Dispatcher:
    """Jobs in process (no broker), on the test database."""
    get_settings.cache_clear()
    return Dispatcher(get_settings().model_copy(update={"broker_url": None}), committed_db)
