from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from tests import factories

Headers = Callable[..., dict[str, str]]


def _new(contact_id: str = "C-9", **fields: object) -> dict[str, object]:
    return {
        "contact_id": contact_id,
        "first_name": "Dewi",
        "last_name": "Kusuma",
        "email": "Dewi.Kusuma@Example.COM",
        "phone": "0812-3456-7890",
        "lead_source": "Website",
        **fields,
    }


def test_phones_are_stored_in_e164_and_found_in_any_notation(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    headers = auth_headers(Role.SALES)
    created = client.post("/api/contacts", json=_new(), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == "+6281234567890"
    assert created.json()["email"] == "Dewi.Kusuma@example.com"
    found = client.get("/api/contacts", params={"phone": "+62 812 3456 7890"}, headers=headers)
    assert [item["contact_id"] for item in found.json()["items"]] == ["C-9"]
    international = client.patch(
        "/api/contacts/C-9", json={"phone": "+1 (415) 555-2671"}, headers=headers
    )
    assert international.json()["phone"] == "+14155552671"
    bad_filter = client.get("/api/contacts", params={"phone": "12"}, headers=headers)
    assert bad_filter.status_code == 422


def test_an_impossible_phone_number_is_refused_with_the_field(
    client: TestClient, auth_headers: Headers
) -> None:
    response = client.post("/api/contacts", json=_new(phone="12345"), headers=auth_headers("sales"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "phone"
    assert "not a valid phone number" in response.json()["error"]


def test_a_contact_belongs_to_an_existing_account_or_none(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    account = factories.account(db_session, account_id=31)
    headers = auth_headers(Role.SALES)
    unknown = client.post("/api/contacts", json=_new(account_id=32), headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "no account with account_id 32"
    linked = client.post("/api/contacts", json=_new(account_id=31), headers=headers)
    assert linked.json()["account_id"] == account.account_id
    unlinked = client.patch("/api/contacts/C-9", json={"account_id": None}, headers=headers)
    assert unlinked.json()["account_id"] is None


def test_list_get_and_delete(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    factories.contact(db_session, contact_id="A1", last_name="Tan", job_title="CEO")
    factories.contact(db_session, contact_id="A2", last_name="Lim")
    factories.contact(db_session, contact_id="A3", last_name="Tan")
    headers = auth_headers(Role.VIEWER)
    page = client.get(
        "/api/contacts", params={"last_name": "Tan", "sort": "-contact_id"}, headers=headers
    ).json()
    assert [item["contact_id"] for item in page["items"]] == ["A3", "A1"]
    assert client.get("/api/contacts/A1", headers=headers).json()["job_title"] == "CEO"
    assert client.get("/api/contacts/nobody", headers=headers).status_code == 404
    assert client.delete("/api/contacts/A2", headers=headers).status_code == 403
    assert client.delete("/api/contacts/A2", headers=auth_headers(Role.SALES)).status_code == 204
    assert client.get("/api/contacts", headers=headers).json()["total"] == 2
