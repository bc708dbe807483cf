from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from tests import factories


def test_the_reconciliation_of_a_month(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    contract = factories.contract(db_session, accountcode="ACME01")
    start = dt.datetime(2025, 11, 3, tzinfo=dt.UTC)
    factories.cdr(
        db_session, contract, start, factories.rate(db_session), cost="10", status="valid"
    )
    response = client.get(
        "/api/billing/reconciliation",
        params={"year": 2025, "month": 11},
        headers=auth_headers(Role.BILLING),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ties_out"] is True
    [acme] = body["contracts"]
    assert acme["buckets"] == [
        {"bucket": "not_invoiced", "reason": None, "calls": 1, "money": "10.000000"}
    ]


def test_a_month_that_is_no_month_is_refused(
    client: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    response = client.get(
        "/api/billing/reconciliation",
        params={"year": 2025, "month": 13},
        headers=auth_headers(Role.ADMIN),
    )
    assert response.status_code == 422
    assert "month" in response.text
