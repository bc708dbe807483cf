from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.auth.models import ApiKey, Role, User
from tests import factories


def test_users_create_and_list(cli, committed_db: Engine) -> None:
    result = cli(
        "users",
        "create",
        "--email",
        "Ops@Example.com",
        "--role",
        "billing",
        "--password",
        "a long enough password",
    )
    assert result.exit_code == 0, result.output
    assert "created user" in result.stdout and "ops@example.com (billing)" in result.stdout
    with Session(committed_db) as session:
        user = session.scalars(select(User)).one()
        assert user.role is Role.BILLING
    listed = cli("users", "list")
    assert listed.exit_code == 0
    assert "1 users" in listed.stdout and "ops@example.com" in listed.stdout


def test_users_create_refuses_a_short_password_and_a_duplicate(cli, committed_db: Engine) -> None:
    short = cli(
        "users", "create", "--email", "a@example.com", "--role", "viewer", "--password", "short"
    )
    assert short.exit_code == 1
    assert short.stderr.strip() == "error: password too short: at least 10 characters"
    args = [
        "users",
        "create",
        "--email",
        "a@example.com",
        "--role",
        "viewer",
        "--password",
        "xylophone tulip",
    ]
    assert cli(*args).exit_code == 0
    duplicate = cli(*args)
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.output


def test_users_set_password_lifts_a_lockout_and_deactivate(cli, committed_db: Engine) -> None:
    cli(
        "users",
        "create",
        "--email",
        "a@example.com",
        "--role",
        "viewer",
        "--password",
        "xylophone tulip",
    )
    with Session(committed_db) as session:
        user = session.scalars(select(User)).one()
        user.failed_logins = 9
        session.commit()
    assert (
        cli(
            "users", "set-password", "--email", "a@example.com", "--password", "yellow kayak 42"
        ).exit_code
        == 0
    )
    assert cli("users", "deactivate", "--email", "a@example.com").exit_code == 0
    with Session(committed_db) as session:
        user = session.scalars(select(User)).one()
        assert user.failed_logins == 0 and not user.is_active
    missing = cli("users", "deactivate", "--email", "nobody@example.com")
    assert missing.exit_code == 1 and "no user with e-mail nobody@example.com" in missing.stderr


def test_api_keys_create_list_revoke(cli, committed_db: Engine) -> None:
    created = cli("api-keys", "create", "--name", "pbx-jakarta-1")
    assert created.exit_code == 0
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tcrm_")
    listed = cli("api-keys", "list")
    assert "pbx-jakarta-1" in listed.stdout and key not in listed.stdout
    with Session(committed_db) as session:
        api_key = session.scalars(select(ApiKey)).one()
        assert api_key.role is Role.PBX
    assert cli("api-keys", "revoke", str(api_key.id)).exit_code == 0
    with Session(committed_db) as session:
        assert session.get(ApiKey, api_key.id).revoked_at is not None
    assert cli("api-keys", "revoke", "999").stderr.strip() == "error: API key 999 not found"


def test_users_create_binds_a_customer_to_its_contract(cli, committed_db: Engine) -> None:
    with Session(committed_db) as session:
        contract = factories.contract(session, accountcode="ACME-01")
        session.commit()
        contract_id = contract.id
    args = ["users", "create", "--role", "customer", "--password", "a long enough password"]

    unbound = cli(*args, "--email", "c1@example.com")
    assert unbound.exit_code == 1
    assert unbound.stderr.strip() == (
        "error: a customer user needs --contract ACCOUNTCODE (its contract's account code)"
    )
    unknown = cli(*args, "--email", "c1@example.com", "--contract", "NOPE")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: no contract with account code NOPE"
    staff = cli(
        "users", "create", "--email", "s@example.com", "--role", "sales",
        "--password", "a long enough password", "--contract", "ACME-01",
    )  # fmt: skip
    assert staff.exit_code == 1
    assert staff.stderr.strip() == "error: --contract is for role customer only, not sales"

    bound = cli(*args, "--email", "c1@example.com", "--contract", "ACME-01")
    assert bound.exit_code == 0, bound.output
    assert "c1@example.com (customer, contract ACME-01)" in bound.stdout
    with Session(committed_db) as session:
        user = session.scalars(select(User)).one()
        assert user.role is Role.CUSTOMER and user.contract_id == contract_id
    assert "ACME-01" in cli("users", "list").stdout


def test_users_create_and_set_password_refuse_weak_passwords(cli, committed_db: Engine) -> None:
    create = ["users", "create", "--email", "a@example.com", "--role", "viewer", "--password"]
    for password, message in [
        ("            ", "password is blank"),
        ("zzzzzzzzzzzz", "password is one character repeated"),
        ("Password123!", "password is too common"),
    ]:
        refused = cli(*create, password)
        assert refused.exit_code == 1
        assert refused.stderr.startswith(f"error: {message}")
        assert len(refused.stderr.strip().splitlines()) == 1
    assert cli(*create, "a long enough password").exit_code == 0
    weak = cli("users", "set-password", "--email", "a@example.com", "--password", "iloveyou2025")
    assert weak.exit_code == 1 and "too common" in weak.stderr


def test_api_keys_create_refuses_role_customer(cli, committed_db: Engine) -> None:
    refused = cli("api-keys", "create", "--name", "portal-bot", "--role", "customer")
    assert refused.exit_code == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "customer" in refused.stderr and "--role" in refused.stderr
    with Session(committed_db) as session:
        assert session.scalars(select(ApiKey)).all() == []
