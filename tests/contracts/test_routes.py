"""The contract API, and what a customer user may see of it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.config import Settings
from tests import factories


def _body(rate_group_id: int, **fields: object) -> dict[str, object]:
    return {
        "company_name": "PT Maju Jaya",
        "accountcode": "MAJU01",
        "contact_person": "Budi Santoso",
        "email": "budi@maju.co.id",
        "phone": "+62 21 5550001",
        "address": "Jl. Sudirman No. 5\nJakarta",
        "rate_group_id": rate_group_id,
        "currency": "idr",
        "tax_rate": "11",
        "payment_terms_days": 14,
        "rewrite_rules": [["9", ""], ["0", "62"]],
    } | fields


def test_contract_crud(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    billing = auth_headers(Role.BILLING)
    created = client.post("/api/contracts", json=_body(group.id), headers=billing)
    assert created.status_code == 201, created.text
    contract = created.json()
    assert (contract["currency"], Decimal(contract["tax_rate"]), contract["status"]) == (
        "IDR",
        Decimal(11),
        "active",
    )
    assert contract["rewrite_rules"] == [["9", ""], ["0", "62"]]

    duplicate = client.post("/api/contracts", json=_body(group.id), headers=billing)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "accountcode_taken"
    path = f"/api/contracts/{contract['id']}"
    patched = client.patch(path, json={"status": "suspended", "tax_rate": "12"}, headers=billing)
    assert (patched.json()["status"], Decimal(patched.json()["tax_rate"])) == ("suspended", 12)
    found = client.get(
        "/api/contracts", params={"search": "maju"}, headers=auth_headers(Role.SALES)
    )
    assert [c["id"] for c in found.json()] == [contract["id"]]
    assert client.delete(path, headers=billing).status_code == 204
    assert client.get(path, headers=billing).status_code == 404


def test_invalid_contracts_are_refused(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    billing = auth_headers(Role.BILLING)
    for change, field in [
        ({"currency": "XYZ"}, "currency"),
        ({"tax_rate": "-1"}, "tax_rate"),
        ({"accountcode": "has space"}, "accountcode"),
        ({"email": "not-an-email"}, "email"),
        ({"rewrite_rules": [["0a", "62"]]}, "rewrite_rules.0"),
        ({"payment_terms_days": -1}, "payment_terms_days"),
    ]:
        response = client.post("/api/contracts", json=_body(group.id) | change, headers=billing)
        assert response.status_code == 422, change
        assert response.json()["detail"][0]["field"] == field
    unknown_group = client.post("/api/contracts", json=_body(999999), headers=billing)
    assert (
        unknown_group.status_code == 422 and "no such rate group" in unknown_group.json()["error"]
    )


def test_a_contract_with_calls_or_invoices_keeps_its_accountcode_and_stays(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    contract = factories.contract(db_session)
    factories.invoice(db_session, contract)
    billing = auth_headers(Role.BILLING)
    path = f"/api/contracts/{contract.id}"
    assert client.patch(path, json={"accountcode": "NEW"}, headers=billing).status_code == 409
    response = client.delete(path, headers=billing)
    assert response.status_code == 409 and "terminated" in response.json()["error"]
    assert response.json()["code"] == "contract_in_use"


def test_a_customer_sees_only_its_own_contract(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    mine, theirs = factories.contract(db_session), factories.contract(db_session)
    headers = factories.bearer(factories.customer(db_session, mine), settings)
    assert [c["id"] for c in client.get("/api/contracts", headers=headers).json()] == [mine.id]
    assert client.get(f"/api/contracts/{mine.id}", headers=headers).status_code == 200
    response = client.get(f"/api/contracts/{theirs.id}", headers=headers)
    assert response.status_code == 404  # not 403: another customer's id does not leak
    assert response.json() == client.get("/api/contracts/999999", headers=headers).json() | {
        "error": f"contract {theirs.id} not found"
    }
    assert client.patch(f"/api/contracts/{mine.id}", json={}, headers=headers).status_code == 403


def test_a_customer_bound_to_no_contract_sees_none(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    factories.contract(db_session)
    headers = factories.bearer(factories.user(db_session, role=Role.CUSTOMER), settings)
    assert client.get("/api/contracts", headers=headers).json() == []


def test_search_takes_like_wildcards_literally(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    names = ["Promo 50% Off", "500 Club", "PT A_B", "PT AXB", "Back\\slash"]
    ids = {
        name: factories.contract(db_session, group, accountcode=f"S{n}", company_name=name).id
        for n, name in enumerate(names)
    }
    sales = auth_headers(Role.SALES)

    def found(search: str) -> list[int]:
        response = client.get("/api/contracts", params={"search": search}, headers=sales)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()]

    assert found("50%") == [ids["Promo 50% Off"]]
    assert found("a_b") == [ids["PT A_B"]]
    assert found("%") == [ids["Promo 50% Off"]]
    assert found("_") == [ids["PT A_B"]]
    assert found("k\\s") == [ids["Back\\slash"]]
    assert found("50") == [ids["Promo 50% Off"], ids["500 Club"]]


def test_a_contract_with_calls_but_no_invoice_keeps_its_accountcode(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    contract = factories.contract(db_session, accountcode="OLD")
    factories.cdr(db_session, contract, cost="1000")
    response = client.patch(
        f"/api/contracts/{contract.id}",
        json={"accountcode": "NEW"},
        headers=auth_headers(Role.BILLING),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "accountcode_in_use"
    assert response.json()["error"] == (
        f"contract {contract.id} has calls or invoices under accountcode OLD, "
        "which therefore cannot change"
    )
