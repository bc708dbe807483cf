from __future__ import annotations

import datetime as dt

import jwt
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import ApiKey, Role, User
from telecrm.config import Settings
from tests import factories


def _login(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/token", data={"username": email, "password": password})


def test_login_returns_a_bearer_token_that_expires(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    user = factories.user(db_session, role=Role.SALES)
    response = _login(client, user.email, factories.PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(
        body["access_token"], settings.secret_key.get_secret_value(), algorithms=["HS256"]
    )
    assert claims["sub"] == str(user.id)
    lifetime = claims["exp"] - claims["iat"]
    assert lifetime == settings.token_expire_minutes * 60
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"kind": "user", "id": user.id, "name": user.email, "role": "sales"}


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: TestClient, db_session: Session
) -> None:
    user = factories.user(db_session)
    wrong = _login(client, user.email, "not the password")
    unknown = _login(client, "nobody@example.com", "whatever")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json() == {
        "error": "wrong e-mail or password",
        "code": "not_authenticated",
        "detail": [],
    }
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_repeated_failed_logins_are_slowed_down_and_logged(
    client: TestClient, db_session: Session, settings: Settings, caplog
) -> None:
    user = factories.user(db_session)
    for _ in range(settings.login_max_failures - 1):
        assert _login(client, user.email, "bad guess").status_code == 401
    assert user.locked_until is None
    assert _login(client, user.email, "bad guess").status_code == 401
    db_session.refresh(user)
    assert user.failed_logins == settings.login_max_failures
    assert user.locked_until is not None
    # even the right password waits until the lock has passed
    locked = _login(client, user.email, factories.PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert "too many failed logins" in locked.json()["error"]
    assert any("failed login for" in record.message for record in caplog.records)

    user.locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db_session.flush()
    assert _login(client, user.email, factories.PASSWORD).status_code == 200
    db_session.refresh(user)
    assert user.failed_logins == 0


def test_lockout_grows_with_each_further_failure(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    user = factories.user(db_session, failed_logins=settings.login_max_failures + 3)
    before = dt.datetime.now(dt.UTC)
    assert _login(client, user.email, "bad guess").status_code == 401
    db_session.refresh(user)
    assert user.locked_until is not None
    assert (user.locked_until - before).total_seconds() >= 2**4 - 1


def test_inactive_user_cannot_log_in_nor_use_an_old_token(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    user = factories.user(db_session)
    headers = factories.bearer(user, settings)
    user.is_active = False
    db_session.flush()
    assert _login(client, user.email, factories.PASSWORD).status_code == 401
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_expired_and_forged_tokens_get_401(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    user = factories.user(db_session)
    secret = settings.secret_key.get_secret_value()
    past = int((dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).timestamp())
    expired = jwt.encode({"sub": str(user.id), "iat": past, "exp": past + 60}, secret)
    forged = jwt.encode(
        {"sub": str(user.id), "exp": past + 10**6}, "another key that is long enough for HS256 use"
    )
    for token, message in [(expired, "token expired"), (forged, "invalid token")]:
        response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert message in response.json()["error"]


def test_a_role_change_applies_to_tokens_already_issued(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    user = factories.user(db_session, role=Role.ADMIN)
    headers = factories.bearer(user, settings)
    assert client.get("/api/users", headers=headers).status_code == 200
    user.role = Role.VIEWER
    db_session.flush()
    assert client.get("/api/users", headers=headers).status_code == 403


def test_admin_creates_a_user_with_a_policy_checked_password(
    client: TestClient, db_session: Session, auth_headers
) -> None:
    headers = auth_headers(Role.ADMIN)
    short = client.post(
        "/api/users",
        json={"email": "x@example.com", "password": "short", "role": "viewer"},
        headers=headers,
    )
    assert short.status_code == 422
    assert short.json()["detail"] == [{"field": "password", "message": "too short"}]
    created = client.post(
        "/api/users",
        json={
            "email": "New.User@Example.com",
            "password": "long enough password",
            "role": "billing",
        },
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json()["email"] == "new.user@example.com"
    assert "password" not in created.text
    stored = db_session.get(User, created.json()["id"])
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    again = client.post(
        "/api/users",
        json={
            "email": "new.user@example.com",
            "password": "long enough password",
            "role": "viewer",
        },
        headers=headers,
    )
    assert again.status_code == 409


def test_api_key_is_shown_once_stored_hashed_and_revocable(
    client: TestClient, db_session: Session, auth_headers
) -> None:
    headers = auth_headers(Role.ADMIN)
    created = client.post(
        "/api/api-keys", json={"name": "pbx-jakarta-1", "role": "pbx"}, headers=headers
    )
    assert created.status_code == 201
    key = created.json()["key"]
    stored = db_session.get(ApiKey, created.json()["id"])
    assert (
        stored is not None
        and key not in stored.key_hash
        and stored.key_hash.startswith("$argon2id$")
    )
    listed = client.get("/api/api-keys", headers=headers).json()
    assert all("key" not in item for item in listed)

    me = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200
    assert me.json()["role"] == "pbx" and me.json()["kind"] == "api_key"

    assert client.delete(f"/api/api-keys/{stored.id}", headers=headers).status_code == 200
    revoked = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]


def test_a_tampered_api_key_is_refused(client: TestClient, db_session: Session) -> None:
    _, key = factories.api_key(db_session)
    tampered = key[:-3] + ("AAA" if not key.endswith("AAA") else "BBB")
    assert client.get("/api/auth/me", headers={"X-API-Key": tampered}).status_code == 401
    assert client.get("/api/auth/me", headers={"X-API-Key": "garbage"}).status_code == 401
