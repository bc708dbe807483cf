from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from tests import factories

Headers = Callable[..., dict[str, str]]


def test_compute_then_list_aggregations_by_kind_account_and_dates(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    first = factories.account(db_session, account_id=61)
    second = factories.account(db_session, account_id=62)
    for owner, month, size in [
        (first, 1, "10"),
        (first, 1, "5"),
        (first, 2, "7"),
        (second, 2, "1"),
    ]:
        factories.deal(
            db_session,
            owner,
            created_at=dt.datetime(2024, month, 10, tzinfo=dt.UTC),
            deal_size=Decimal(size),
        )
    computed = client.post(
        "/api/reports/deal-aggregations/compute",
        json={"kinds": ["monthly", "daily"]},
        headers=auth_headers(Role.SALES),
    )
    assert computed.status_code == 200, computed.text
    assert [(s["kind"], s["rows"], s["deals"]) for s in computed.json()] == [
        ("monthly", 3, 4),
        ("daily", 3, 4),
    ]
    viewer = auth_headers(Role.VIEWER)
    page = client.get(
        "/api/reports/deal-aggregations",
        params={"kind": "monthly", "account_id": 61},
        headers=viewer,
    ).json()
    assert [
        (item["aggregation_date"], item["total_deal_size"], item["deal_count"])
        for item in page["items"]
    ] == [("2024-01-01", "15.00", 2), ("2024-02-01", "7.00", 1)]
    february = client.get(
        "/api/reports/deal-aggregations",
        params={"kind": "daily", "date_from": "2024-02-01", "sort": "-total_deal_size"},
        headers=viewer,
    ).json()
    assert [item["account_id"] for item in february["items"]] == [61, 62]
    unknown = client.get(
        "/api/reports/deal-aggregations", params={"sort": "colour"}, headers=viewer
    )
    assert unknown.status_code == 422


def test_compute_without_a_body_computes_every_kind(
    client: TestClient, auth_headers: Headers
) -> None:
    response = client.post(
        "/api/reports/deal-aggregations/compute", headers=auth_headers(Role.ADMIN)
    )
    assert [summary["kind"] for summary in response.json()] == ["daily", "weekly", "monthly"]


def test_periods_sum_every_account_of_a_kind_per_period(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    first = factories.account(db_session, account_id=71)
    second = factories.account(db_session, account_id=72)
    for owner, day, size in [(first, 10, "10"), (second, 11, "5.50"), (first, 20, "1")]:
        factories.deal(
            db_session,
            owner,
            created_at=dt.datetime(2023, 3, day, tzinfo=dt.UTC),
            deal_size=Decimal(size),
        )
    factories.deal(db_session, first, created_at=dt.datetime(2023, 4, 1, tzinfo=dt.UTC))
    client.post("/api/reports/deal-aggregations/compute", headers=auth_headers(Role.SALES))
    viewer = auth_headers(Role.VIEWER)
    monthly = client.get(
        "/api/reports/deal-aggregations/periods",
        params={"date_from": "2023-03-01", "date_to": "2023-04-30"},
        headers=viewer,
    )
    assert monthly.status_code == 200, monthly.text
    assert monthly.json() == [
        {"period": "2023-03-01", "total_deal_size": "16.50", "deals": 3},
        {"period": "2023-04-01", "total_deal_size": "1000.00", "deals": 1},
    ]
    weekly = client.get(
        "/api/reports/deal-aggregations/periods",
        params={"kind": "weekly", "account_id": 71, "date_to": "2023-03-26"},
        headers=viewer,
    ).json()
    assert [(p["period"], p["total_deal_size"]) for p in weekly] == [
        ("2023-03-06", "10.00"),
        ("2023-03-20", "1.00"),
    ]
