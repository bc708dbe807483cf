from __future__ import annotations

import datetime as dt

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.app import create_app
from telecrm.auth import repository as auth_repository
from telecrm.auth.models import ApiKey, Role, User
from telecrm.config import Settings
from telecrm.invoices.models import InvoiceStatus
from tests import factories
from tests.concurrency import at_once, meet_after


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
    assert again.json()["code"] == "email_taken"


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


def test_an_api_key_of_role_customer_is_refused(
    client: TestClient, db_session: Session, auth_headers
) -> None:
    # a key carries a role but no contract: a customer's would see nothing
    response = client.post(
        "/api/api-keys",
        json={"name": "portal-bot", "role": "customer"},
        headers=auth_headers(Role.ADMIN),
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "role"
    assert db_session.scalars(select(ApiKey)).all() == []


def test_a_tampered_api_key_is_refused(client: TestClient, db_session: Session) -> None:
    _, key = factories.api_key(db_session)
    tampered = key[:-3] + ("AAA" if not key.endswith("AAA") else "BBB")
    assert client.get("/api/auth/me", headers={"X-API-Key": tampered}).status_code == 401
    assert client.get("/api/auth/me", headers={"X-API-Key": "garbage"}).status_code == 401


# --- an unknown e-mail answers as an account would -----------------------------------


def _answers(client: TestClient, email: str, attempts: int) -> list[tuple[int, object, str | None]]:
    answers = []
    for _ in range(attempts):
        response = _login(client, email, "bad guess")
        answers.append((response.status_code, response.json(), response.headers.get("Retry-After")))
    return answers


def test_an_unknown_email_is_throttled_exactly_like_an_account(
    app, client: TestClient, db_session: Session, settings: Settings
) -> None:
    user = factories.user(db_session)
    attempts = settings.login_max_failures + 2
    real = _answers(client, user.email, attempts)
    ghost = _answers(client, f"  {factories.unique('Nobody')}@Example.com ", attempts)
    assert real == ghost
    assert [status for status, _, _ in ghost] == [401] * settings.login_max_failures + [429] * 2
    assert ghost[-1][2] is not None and int(ghost[-1][2]) >= 1

    # the count is in the database: another instance of the API refuses the same e-mail
    unknown = f"{factories.unique('ghost')}@example.com"
    _answers(client, unknown, settings.login_max_failures)
    other_instance = create_app(settings=settings, engine=db_session.get_bind().engine)
    other_instance.dependency_overrides = app.dependency_overrides
    with TestClient(other_instance, raise_server_exceptions=False) as other:
        assert _login(other, unknown.upper(), "bad guess").status_code == 429


# --- a customer user is bound to its contract --------------------------------------------


def _new_user(role: str, **fields: object) -> dict[str, object]:
    return {
        "email": f"{factories.unique(role)}@example.com",
        "password": "long enough password",
        "role": role,
        **fields,
    }


def test_a_customer_is_created_bound_to_its_contract_and_sees_only_its_data(
    client: TestClient, db_session: Session, auth_headers
) -> None:
    admin = auth_headers(Role.ADMIN)
    mine, theirs = factories.contract(db_session), factories.contract(db_session)
    my_invoice = factories.invoice(db_session, mine, status=InvoiceStatus.SENT)
    factories.invoice(db_session, theirs, status=InvoiceStatus.SENT)
    my_call = factories.cdr(db_session, mine, cost="1")
    factories.cdr(db_session, theirs, cost="1")

    body = _new_user("customer", contract=mine.accountcode)
    created = client.post("/api/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["contract_id"] == mine.id
    assert created.json()["contract"] == mine.accountcode

    token = _login(client, str(body["email"]), str(body["password"])).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    invoices = client.get("/api/invoices", headers=headers).json()
    assert [invoice["id"] for invoice in invoices] == [my_invoice.id]
    calls = client.get("/api/cdrs", headers=headers).json()["items"]
    assert [call["id"] for call in calls] == [my_call.id]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "customer"}, "a customer user needs a contract"),
        ({"role": "customer", "contract": "NO-SUCH-CODE"}, "no contract with account code"),
        ({"role": "billing", "contract": "{code}"}, "only a customer user is bound to a contract"),
    ],
)
def test_creating_a_user_refuses_a_wrong_contract_binding(
    client: TestClient, db_session: Session, auth_headers, fields: dict[str, str], message: str
) -> None:
    code = factories.contract(db_session).accountcode
    fields = {key: value.format(code=code) for key, value in fields.items()}
    response = client.post(
        "/api/users", json=_new_user(fields.pop("role"), **fields), headers=auth_headers(Role.ADMIN)
    )
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]
    assert response.json()["detail"][0]["field"] == "contract"
    assert db_session.scalars(select(User).where(User.role != Role.ADMIN)).all() == []


def test_changing_a_role_or_contract_keeps_customers_bound_and_staff_unbound(
    client: TestClient, db_session: Session, auth_headers
) -> None:
    admin = auth_headers(Role.ADMIN)
    first, second = factories.contract(db_session), factories.contract(db_session)
    user = factories.user(db_session, role=Role.VIEWER)
    path = f"/api/users/{user.id}"

    unbound = client.patch(path, json={"role": "customer"}, headers=admin)
    assert unbound.status_code == 422
    assert unbound.json()["detail"][0]["field"] == "contract"
    staff_bound = client.patch(path, json={"contract": first.accountcode}, headers=admin)
    assert staff_bound.status_code == 422
    assert staff_bound.json()["detail"][0]["field"] == "contract"

    bound = client.patch(
        path, json={"role": "customer", "contract": first.accountcode}, headers=admin
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["contract_id"] == first.id
    moved = client.patch(path, json={"contract": second.accountcode}, headers=admin)
    assert moved.json()["contract_id"] == second.id
    unknown = client.patch(path, json={"contract": "NO-SUCH-CODE"}, headers=admin)
    assert unknown.status_code == 422 and "NO-SUCH-CODE" in unknown.json()["error"]

    staff = client.patch(path, json={"role": "billing"}, headers=admin)
    assert staff.status_code == 200
    assert staff.json()["contract_id"] is None and staff.json()["contract"] is None
    db_session.refresh(user)
    assert user.role is Role.BILLING and user.contract_id is None


# --- passwords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (" " * 12, "blank"),
        ("a" * 12, "one character repeated"),
        ("password123", "too common"),
        ("Qwertyuiop", "too common"),
        ("1234567890", "too common"),
    ],
)
def test_blank_repeated_and_common_passwords_are_refused(
    client: TestClient, db_session: Session, auth_headers, password: str, message: str
) -> None:
    admin = auth_headers(Role.ADMIN)
    created = client.post("/api/users", json=_new_user("viewer", password=password), headers=admin)
    assert created.status_code == 422, created.text
    assert message in created.json()["error"]
    assert created.json()["detail"] == [{"field": "password", "message": message}]
    user = factories.user(db_session)
    changed = client.patch(f"/api/users/{user.id}", json={"password": password}, headers=admin)
    assert changed.status_code == 422
    assert changed.json()["detail"][0]["field"] == "password"


def test_a_password_change_ends_the_users_tokens_but_not_api_keys(
    client: TestClient, db_session: Session, auth_headers, settings: Settings
) -> None:
    admin = auth_headers(Role.ADMIN)
    user = factories.user(db_session, role=Role.SALES)
    old = factories.bearer(user, settings)
    _, key = factories.api_key(db_session)
    assert client.get("/api/auth/me", headers=old).status_code == 200

    changed = client.patch(
        f"/api/users/{user.id}", json={"password": "a brand new passphrase"}, headers=admin
    )
    assert changed.status_code == 200
    refused = client.get("/api/auth/me", headers=old)
    assert refused.status_code == 401
    assert "log in again" in refused.json()["error"]
    token = _login(client, user.email, "a brand new passphrase").json()["access_token"]
    fresh = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert fresh.status_code == 200
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    # changing something else (the role) keeps the tokens
    assert (
        client.patch(f"/api/users/{user.id}", json={"role": "viewer"}, headers=admin).status_code
        == 200
    )
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


# --- failed logins at once -------------------------------------------------------------


def test_failed_logins_at_once_each_count(
    committed_db: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed_db) as session, session.begin():
        email = factories.user(session).email
    attempts = 3
    # every attempt has read the user before any counts its failure
    meet_after(monkeypatch, auth_repository, "get_user_by_email", parties=attempts)
    client = TestClient(create_app(settings, committed_db), raise_server_exceptions=False)

    responses = at_once(*([lambda: _login(client, email, "bad guess")] * attempts))

    assert [r.status_code for r in responses] == [401] * attempts, [r.text for r in responses]
    with Session(committed_db) as session:
        failed = session.scalar(select(User.failed_logins).where(User.email == email))
    assert failed == attempts
