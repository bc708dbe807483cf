from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.deals.models import DealStage
from tests import factories

Headers = Callable[..., dict[str, str]]


def test_create_defaults_to_now_and_update_moves_between_accounts(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    factories.account(db_session, account_id=41)
    factories.account(db_session, account_id=42)
    headers = auth_headers(Role.SALES)
    before = dt.datetime.now(dt.UTC)
    created = client.post(
        "/api/deals",
        json={
            "deal_id": 203,
            "deal_name": "Contact centre",
            "deal_size": "24456",
            "probability_of_closure": "60%",
            "deal_stage": "Negotiation",
            "account_id": 41,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["deal_size"] == "24456.00"
    assert dt.datetime.fromisoformat(created.json()["created_at"]) >= before
    moved = client.patch("/api/deals/203", json={"account_id": 42}, headers=headers)
    assert moved.json()["account_id"] == 42
    unknown = client.patch("/api/deals/203", json={"account_id": 43}, headers=headers)
    assert unknown.status_code == 422
    cleared = client.patch("/api/deals/203", json={"deal_size": None}, headers=headers)
    assert cleared.json()["deal_size"] is None


def test_a_deal_needs_an_account_and_a_known_stage(
    client: TestClient, auth_headers: Headers
) -> None:
    response = client.post(
        "/api/deals",
        json={
            "deal_id": 1,
            "deal_name": "x",
            "probability_of_closure": "1%",
            "deal_stage": "Won",
            "created_at": "2024-01-01T00:00:00",
        },
        headers=auth_headers(Role.SALES),
    )
    assert response.status_code == 422
    fields = {problem["field"] for problem in response.json()["detail"]}
    assert fields == {"deal_stage", "account_id", "created_at"}


def test_list_filters_by_stage_and_account_and_sorts_by_date(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    account = factories.account(db_session, account_id=51)
    other = factories.account(db_session, account_id=52)
    for deal_id, owner, stage, day in [
        (1, account, DealStage.CLOSED_WON, 3),
        (2, account, DealStage.CLOSED_WON, 1),
        (3, other, DealStage.CLOSED_WON, 2),
        (4, account, DealStage.PROSPECTING, 4),
    ]:
        factories.deal(
            db_session,
            owner,
            deal_id=deal_id,
            deal_stage=stage,
            created_at=dt.datetime(2024, 5, day, tzinfo=dt.UTC),
            deal_size=Decimal(deal_id),
        )
    page = client.get(
        "/api/deals",
        params={"deal_stage": "Closed-Won", "account_id": 51, "sort": "created_at"},
        headers=auth_headers(Role.BILLING),
    ).json()
    assert [item["deal_id"] for item in page["items"]] == [2, 1]
    assert page["total"] == 2
