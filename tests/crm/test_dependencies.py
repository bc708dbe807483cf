"""The API writes through to the configured CRM (here the fake HubSpot)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.accounts.models import Account
from telecrm.auth.models import Role
from tests import factories
from tests.crm.fake_hubspot import FakeHubSpot

Headers = Callable[..., dict[str, str]]

ACCOUNT = {
    "account_id": 71,
    "account_name": "PT Cahaya Media",
    "industry": "Media",
    "account_value": "5000",
    "region": "Asia",
}


@pytest.fixture()
def crm_client(crm_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(crm_app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_created_account_is_in_hubspot_with_its_id_here(
    crm_client: TestClient, hubspot: FakeHubSpot, auth_headers: Headers
) -> None:
    response = crm_client.post("/api/accounts", json=ACCOUNT, headers=auth_headers(Role.SALES))
    assert response.status_code == 201, response.text
    stored = hubspot.find("companies", "account_id", "71")
    assert stored is not None
    assert stored["properties"]["name"] == "PT Cahaya Media"
    assert stored["properties"]["annualrevenue"] == "5000.00"
    assert response.json()["crm_id"] == stored["id"]
    assert response.json()["crm_updated_at"] is not None


def test_when_hubspot_fails_the_api_answers_502_and_keeps_nothing(
    crm_client: TestClient, hubspot: FakeHubSpot, db_session: Session, auth_headers: Headers
) -> None:
    hubspot.fail(500, times=3)
    response = crm_client.post("/api/accounts", json=ACCOUNT, headers=auth_headers(Role.SALES))
    assert response.status_code == 502
    assert "nothing was saved here either" in response.json()["error"]
    assert db_session.scalars(select(Account).where(Account.account_id == 71)).all() == []


def test_a_contact_update_moves_its_company_association(
    crm_client: TestClient, hubspot: FakeHubSpot, db_session: Session, auth_headers: Headers
) -> None:
    old = factories.account(db_session, account_id=81, crm_id=hubspot.add("companies", {}))
    new = factories.account(db_session, account_id=82, crm_id=hubspot.add("companies", {}))
    headers = auth_headers(Role.SALES)
    created = crm_client.post(
        "/api/contacts",
        json={
            "contact_id": "C-81",
            "first_name": "Rizky",
            "last_name": "Pratama",
            "email": "rizky@example.com",
            "lead_source": "Referral",
            "account_id": 81,
        },
        headers=headers,
    )
    crm_id = created.json()["crm_id"]
    assert hubspot.companies_of("contacts", crm_id) == {old.crm_id}
    moved = crm_client.patch("/api/contacts/C-81", json={"account_id": 82}, headers=headers)
    assert moved.status_code == 200, moved.text
    assert hubspot.companies_of("contacts", crm_id) == {new.crm_id}


def test_a_deleted_deal_is_archived_in_hubspot(
    crm_client: TestClient, hubspot: FakeHubSpot, db_session: Session, auth_headers: Headers
) -> None:
    crm_id = hubspot.add("deals", {"deal_id": 91})
    factories.deal(db_session, deal_id=91, crm_id=crm_id)
    response = crm_client.delete("/api/deals/91", headers=auth_headers(Role.SALES))
    assert response.status_code == 204
    assert hubspot.count("deals") == 0
