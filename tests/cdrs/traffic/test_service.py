"""A month's traffic figures: every day of the month in the billing time zone, ASR and
ACD, revenue per currency, the top destinations and accounts, the calls that need
attention; a customer's only from its own contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from telecrm.cdrs.traffic.service import month_figures
from telecrm.config import Settings
from telecrm.contracts.scope import EVERYTHING, ContractScope
from telecrm.rating.types import RatingStatus
from tests import factories

WIB = dt.timezone(dt.timedelta(hours=7))


def _jakarta(settings: Settings) -> Settings:
    return settings.model_copy(update={"timezone": "Asia/Jakarta"})


def test_the_month_per_day_in_the_billing_time_zone(
    db_session: Session, settings: Settings
) -> None:
    settings = _jakarta(settings)
    group = factories.rate_group(db_session)
    mobile = factories.rate(db_session, group, "62812", description="Telkomsel")
    idr = factories.contract(db_session, group, currency="IDR")
    usd = factories.contract(db_session, group, currency="USD")
    day = dt.datetime(2025, 11, 5, 9, tzinfo=WIB)
    factories.cdr(db_session, idr, day, mobile, cost="1000.5", billsec=60, status="valid")
    factories.cdr(db_session, idr, day, mobile, cost="500", billsec=120, status="valid")
    factories.cdr(db_session, idr, day, billsec=0, status="valid")  # attempted, not answered
    factories.cdr(db_session, usd, day, mobile, cost="0.25", billsec=30, status="valid")
    # 23:30 UTC on 4 November is 06:30 on 5 November in Jakarta
    factories.cdr(db_session, idr, dt.datetime(2025, 11, 4, 23, 30, tzinfo=dt.UTC), cost="1")
    # 1 November 00:10 in Jakarta is still October in UTC: in the month
    factories.cdr(db_session, idr, dt.datetime(2025, 10, 31, 17, 10, tzinfo=dt.UTC), cost="7")
    # 1 December 00:10 in Jakarta: not in November
    factories.cdr(db_session, idr, dt.datetime(2025, 11, 30, 17, 10, tzinfo=dt.UTC), cost="9")
    factories.cdr(db_session, idr, day, status="invalid", validation_errors=["unknown_disposition"])
    factories.cdr(
        db_session,
        None,
        day,
        accountcode="NOBODY",
        status="valid",
        rating_status=RatingStatus.UNRATED,
        rating_reason="no_contract",
    )

    figures = month_figures(db_session, EVERYTHING, 2025, 11, settings)

    assert [d.day for d in figures.days][0::29] == [dt.date(2025, 11, 1), dt.date(2025, 11, 30)]
    assert len(figures.days) == 30
    fifth = figures.days[4]
    # every call the PBX wrote, the invalid and the unrated ones too
    assert (fifth.calls, fifth.answered) == (7, 6)
    assert fifth.asr == Decimal("85.7")
    assert fifth.answered_seconds == 60 + 120 + 30 + 60 + 60 + 60
    assert fifth.acd == Decimal("65.0")
    assert fifth.revenue == {"IDR": Decimal("1501.5"), "USD": Decimal("0.25")}
    assert figures.days[0].revenue == {"IDR": Decimal(7)}
    assert figures.revenue("IDR") == Decimal("1508.5")
    assert figures.total("calls") == 8
    assert figures.days[1].asr is None and figures.days[1].acd is None
    assert figures.currencies == ["IDR", "USD"]
    assert [(row.key, row.revenue) for row in figures.top_accounts] == [
        (idr.accountcode, Decimal("1508.5")),
        (usd.accountcode, Decimal("0.25")),
    ]
    top = figures.top_destinations[0]
    assert (top.key, top.name, top.currency, top.calls, top.revenue) == (
        "62812",
        "Telkomsel",
        "IDR",
        2,
        Decimal("1500.5"),
    )
    assert figures.attention is not None
    assert figures.attention.invalid == 1
    assert figures.attention.unrated == {"no_contract": 1}


def test_a_customer_sees_only_its_own_contract(db_session: Session, settings: Settings) -> None:
    mine, theirs = factories.contract(db_session), factories.contract(db_session)
    day = dt.datetime(2025, 11, 5, 9, tzinfo=dt.UTC)
    factories.cdr(db_session, mine, day, cost="10", billsec=60)
    factories.cdr(db_session, theirs, day, cost="99", billsec=60)
    factories.cdr(db_session, theirs, day, cost="99", billsec=60)

    figures = month_figures(db_session, ContractScope(True, mine.id), 2025, 11, settings)

    assert figures.total("calls") == 1
    assert figures.revenue("IDR") == Decimal(10)
    assert figures.top_accounts == [] and figures.attention is None
    nobody = month_figures(db_session, ContractScope(True, None), 2025, 11, settings)
    assert nobody.total("calls") == 0
