from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.audit.models import AuditEntry
from telecrm.auth.models import Role
from telecrm.config import Settings
from tests import factories


def test_every_write_through_the_api_is_audited_with_who_what_which_when(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    admin = factories.user(db_session, role=Role.ADMIN)
    headers = factories.bearer(admin, settings)
    created = client.post(
        "/api/users",
        json={"email": "audited@example.com", "password": "long enough password", "role": "viewer"},
        headers=headers,
    ).json()
    client.patch(f"/api/users/{created['id']}", json={"role": "sales"}, headers=headers)

    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "users").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.object_id) for e in entries] == [
        ("create", str(created["id"])),
        ("update", str(created["id"])),
    ]
    create, update = entries
    assert create.actor == f"user:{admin.id}:{admin.email}"
    assert create.changes["email"] == "audited@example.com"
    assert create.changes["password_hash"] == "***"
    assert update.changes == {"role": ["viewer", "sales"]}
    assert create.at is not None and create.at.tzinfo is not None


def test_reads_and_failed_writes_leave_no_audit_entry(
    client: TestClient, db_session: Session, auth_headers
) -> None:
    headers = auth_headers(Role.ADMIN)
    client.get("/api/users", headers=headers)
    client.post(
        "/api/users",
        json={"email": "x@example.com", "password": "short", "role": "viewer"},
        headers=headers,
    )
    assert db_session.scalars(select(AuditEntry)).all() == []


def test_admins_read_the_audit_log_filtered_and_newest_first(
    client: TestClient, db_session: Session, auth_headers
) -> None:
    headers = auth_headers(Role.ADMIN)
    for name in ("pbx-a", "pbx-b", "pbx-c"):
        client.post("/api/api-keys", json={"name": name, "role": "pbx"}, headers=headers)
    page = client.get("/api/audit", params={"object_type": "api_keys", "limit": 2}, headers=headers)
    assert page.status_code == 200
    names = [entry["changes"]["name"] for entry in page.json()]
    assert names == ["pbx-c", "pbx-b"]
    older = client.get(
        "/api/audit",
        params={"object_type": "api_keys", "before_id": page.json()[-1]["id"]},
        headers=headers,
    ).json()
    assert [entry["changes"]["name"] for entry in older] == ["pbx-a"]
    assert all(entry["changes"]["key_hash"] == "***" for entry in page.json())


def test_the_actor_filter_takes_like_wildcards_literally(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    for email in ("a_b@example.com", "axb@example.com", "50%@example.com", "500@example.com"):
        user = factories.user(db_session, role=Role.ADMIN, email=email)
        headers = factories.bearer(user, settings)
        created = client.post("/api/api-keys", json={"name": email, "role": "pbx"}, headers=headers)
        assert created.status_code == 201, created.text

    def actors(actor: str) -> set[str]:
        response = client.get("/api/audit", params={"actor": actor}, headers=headers)
        assert response.status_code == 200, response.text
        return {entry["actor"].split(":")[-1] for entry in response.json()}

    assert actors("a_b") == {"a_b@example.com"}
    assert actors("50%") == {"50%@example.com"}
    assert actors("50") == {"500@example.com", "50%@example.com"}
