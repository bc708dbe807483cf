"""Deal aggregations computed by the database, checked by hand, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.config import Settings
from telecrm.deals.service import DealService
from telecrm.reports.models import AggregationKind, DealAggregation
from telecrm.reports.schemas import DealAggregationQuery
from telecrm.reports.service import compute_aggregates, list_aggregations
from tests import factories

UTC = dt.UTC


def at(*parts: int, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=tz)


@pytest.fixture()
def deals(db_session: Session, settings: Settings) -> DealService:
    """Account 1: deals around the week and month boundary of Sunday 31 March /
    Monday 1 April 2024; account 2: one deal; deals without a size are not counted."""
    first = factories.account(db_session, account_id=1)
    second = factories.account(db_session, account_id=2)
    for deal_id, account, created_at, size in [
        (1, first, at(2024, 3, 25, 8, 0), "1.25"),  # Monday of week 13
        (2, first, at(2024, 3, 31, 23, 59, 59, 999999), "100.00"),  # last instant of March
        (3, first, at(2024, 4, 1, 0, 0), "50.50"),  # Monday 1 April, midnight
        (4, first, at(2024, 4, 1, 15, 30), "10.00"),
        (5, first, at(2024, 4, 3, 2, 0, tz=ZoneInfo("Asia/Jakarta")), "5.00"),  # 2 Apr UTC
        (6, first, at(2024, 4, 2, 9, 0), None),  # no size: not counted
        (7, second, at(2024, 3, 31, 12, 0), "1000.00"),
    ]:
        factories.deal(
            db_session,
            account,
            deal_id=deal_id,
            created_at=created_at,
            deal_size=None if size is None else Decimal(size),
        )
    return DealService(db_session, settings)


def _rows(session: Session, kind: AggregationKind) -> list[tuple[int, str, Decimal, int]]:
    query = (
        select(DealAggregation)
        .where(DealAggregation.aggregation_type == kind)
        .order_by(DealAggregation.account_id, DealAggregation.aggregation_date)
    )
    return [
        (row.account_id, row.aggregation_date.isoformat(), row.total_deal_size, row.deal_count)
        for row in session.scalars(query)
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            AggregationKind.DAILY,
            [
                (1, "2024-03-25", Decimal("1.25"), 1),
                (1, "2024-03-31", Decimal("100.00"), 1),
                (1, "2024-04-01", Decimal("60.50"), 2),
                (1, "2024-04-02", Decimal("5.00"), 1),
                (2, "2024-03-31", Decimal("1000.00"), 1),
            ],
        ),
        (
            AggregationKind.WEEKLY,
            [
                (1, "2024-03-25", Decimal("101.25"), 2),
                (1, "2024-04-01", Decimal("65.50"), 3),
                (2, "2024-03-25", Decimal("1000.00"), 1),
            ],
        ),
        (
            AggregationKind.MONTHLY,
            [
                (1, "2024-03-01", Decimal("101.25"), 2),
                (1, "2024-04-01", Decimal("65.50"), 3),
                (2, "2024-03-01", Decimal("1000.00"), 1),
            ],
        ),
    ],
)
def test_sum_and_count_per_account_and_period_labelled_by_its_start(
    deals: DealService, db_session: Session, kind: AggregationKind, expected: list
) -> None:
    summary = compute_aggregates(db_session, kind)
    assert _rows(db_session, kind) == expected
    assert (summary.rows, summary.accounts, summary.deals) == (len(expected), 2, 6)
    assert summary.total_deal_size == Decimal("1166.75")


def test_computing_again_gives_the_same_rows_and_follows_the_deals(
    deals: DealService, db_session: Session
) -> None:
    for kind in AggregationKind:
        compute_aggregates(db_session, kind)
    monthly = _rows(db_session, AggregationKind.MONTHLY)
    compute_aggregates(db_session, AggregationKind.MONTHLY)
    assert _rows(db_session, AggregationKind.MONTHLY) == monthly
    assert db_session.query(DealAggregation).count() == 5 + 3 + 3

    deals.delete(7)  # account 2's only deal
    compute_aggregates(db_session, AggregationKind.MONTHLY)
    assert _rows(db_session, AggregationKind.MONTHLY) == monthly[:2]
    assert len(_rows(db_session, AggregationKind.DAILY)) == 5  # other kinds untouched


def test_a_page_of_aggregations_is_cached_until_they_are_computed_again(
    db_session: Session, deals: DealService, cached_settings: Settings, settings: Settings
) -> None:
    db_session.info[cache.SETTINGS_INFO] = cached_settings
    compute_aggregates(db_session, AggregationKind.MONTHLY)
    db_session.commit()
    query = DealAggregationQuery(kind=AggregationKind.MONTHLY, sort="-total_deal_size")
    page = list_aggregations(db_session, query, cached_settings)
    assert page == list_aggregations(db_session, query, settings)  # as computed, uncached
    assert page.items[0].total_deal_size == Decimal("1000.00")

    db_session.execute(delete(DealAggregation))  # behind the cache's back
    assert list_aggregations(db_session, query, cached_settings) == page
    assert list_aggregations(db_session, query, settings).total == 0

    compute_aggregates(db_session, AggregationKind.MONTHLY)
    factories.deal(db_session, deal_size=Decimal("5000.00"))
    compute_aggregates(db_session, AggregationKind.MONTHLY)
    db_session.commit()
    again = list_aggregations(db_session, query, cached_settings)
    assert again.total == page.total + 1
    assert again.items[0].total_deal_size == Decimal("5000.00")
