from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.accounts.models import Account, Region
from telecrm.audit.models import AuditEntry
from telecrm.auth.models import Role
from tests import factories

Headers = Callable[..., dict[str, str]]

NEW = {
    "account_id": 501,
    "account_name": " PT Samudra Telekom ",
    "industry": "Telecommunications",
    "account_value": "1250000.50",
    "region": "Asia",
}


def test_list_filters_by_any_field_sorts_and_pages(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    for account_id, region, value in [
        (1, Region.ASIA, "30"),
        (2, Region.EUROPE, "10"),
        (3, Region.ASIA, "20"),
        (4, Region.ASIA, "40"),
    ]:
        factories.account(
            db_session, account_id=account_id, region=region, account_value=Decimal(value)
        )
    headers = auth_headers(Role.VIEWER)
    page = client.get(
        "/api/accounts",
        params={"region": "Asia", "sort": "-account_value", "limit": 2, "offset": 1},
        headers=headers,
    ).json()
    assert [item["account_id"] for item in page["items"]] == [1, 3]
    assert (page["total"], page["offset"], page["limit"]) == (3, 1, 2)
    assert page["items"][0]["account_value"] == "30.00"
    by_value = client.get("/api/accounts", params={"account_value": "10"}, headers=headers)
    assert [item["account_id"] for item in by_value.json()["items"]] == [2]


def test_list_refuses_unknown_filters_and_sort_fields(
    client: TestClient, auth_headers: Headers
) -> None:
    headers = auth_headers(Role.BILLING)
    unknown = client.get("/api/accounts", params={"colour": "red"}, headers=headers)
    assert unknown.status_code == 422
    bad_sort = client.get("/api/accounts", params={"sort": "-colour"}, headers=headers)
    assert bad_sort.status_code == 422
    assert "cannot sort accounts by 'colour'" in bad_sort.json()["error"]
    bad_enum = client.get("/api/accounts", params={"region": "Mars"}, headers=headers)
    assert bad_enum.status_code == 422


def test_create_get_update_delete(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    headers = auth_headers(Role.SALES)
    created = client.post("/api/accounts", json=NEW, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["account_name"] == "PT Samudra Telekom"
    assert body["account_value"] == "1250000.50"
    assert body["crm_id"] is None
    assert client.get("/api/accounts/501", headers=headers).json()["region"] == "Asia"

    updated = client.patch("/api/accounts/501", json={"region": "Europe"}, headers=headers)
    assert updated.status_code == 200
    assert updated.json()["region"] == "Europe"
    assert updated.json()["industry"] == "Telecommunications"

    assert client.delete("/api/accounts/501", headers=headers).status_code == 204
    assert client.get("/api/accounts/501", headers=headers).status_code == 404
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "accounts")
    ).all()
    assert actions == ["create", "update", "delete"]


def test_create_refuses_a_taken_id_and_invalid_values(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    factories.account(db_session, account_id=501)
    headers = auth_headers(Role.ADMIN)
    taken = client.post("/api/accounts", json=NEW, headers=headers)
    assert taken.status_code == 409
    assert taken.json()["code"] == "crm_record_exists"
    assert taken.json()["error"] == "account_id 501 already exists"
    invalid = client.post(
        "/api/accounts",
        json={**NEW, "account_id": 502, "account_value": "1.001", "region": "Mars"},
        headers=headers,
    )
    assert invalid.status_code == 422
    fields = {problem["field"] for problem in invalid.json()["detail"]}
    assert fields == {"account_value", "region"}


def test_update_cannot_empty_a_required_field_or_change_the_key(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    factories.account(db_session, account_id=9, industry="Retail")
    headers = auth_headers(Role.SALES)
    emptied = client.patch("/api/accounts/9", json={"industry": " "}, headers=headers)
    assert emptied.status_code == 422
    assert "industry" in emptied.json()["error"]
    rekeyed = client.patch("/api/accounts/9", json={"account_id": 10}, headers=headers)
    assert rekeyed.status_code == 422
    assert db_session.scalars(select(Account.industry).where(Account.account_id == 9)).one() == (
        "Retail"
    )


def test_an_account_with_deals_cannot_be_deleted(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    account = factories.account(db_session, account_id=11)
    deal = factories.deal(db_session, account)
    contact = factories.contact(db_session, account)
    headers = auth_headers(Role.SALES)
    refused = client.delete("/api/accounts/11", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "account_in_use"
    assert "has 1 deal(s)" in refused.json()["error"]
    assert client.delete(f"/api/deals/{deal.deal_id}", headers=headers).status_code == 204
    assert client.delete("/api/accounts/11", headers=headers).status_code == 204
    db_session.refresh(contact)
    assert contact.account_id is None  # its contacts stay, unlinked
