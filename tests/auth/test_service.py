"""What the auth service keeps out of the logs: API keys and stored hashes."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import ApiKey, User
from tests import factories


@pytest.fixture(params=[logging.INFO, logging.DEBUG], ids=["info", "debug"])
def sql_logged(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[pytest.LogCaptureFixture]:
    """SQL logging on (parameters at INFO, rows too at DEBUG) before the test's
    connection opens: SQLAlchemy reads the level when a connection starts."""
    caplog.set_level(request.param, logger="sqlalchemy.engine")
    yield caplog


def test_an_api_key_and_its_hash_never_reach_the_sql_log(
    sql_logged: pytest.LogCaptureFixture, client: TestClient, db_session: Session
) -> None:
    api_key, key = factories.api_key(db_session)
    stored_hash = api_key.key_hash
    sql_logged.clear()
    db_session.expire_all()  # the request reads the key from the database, not the session

    response = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert response.status_code == 200
    lines = [record.getMessage() for record in sql_logged.records]
    assert any("api_keys" in line for line in lines)  # the SQL was logged
    secret_part = key.split("_", 2)[2]
    for line in lines:
        assert stored_hash not in line and secret_part not in line and "$argon2" not in line


def test_stored_hashes_are_not_in_the_sql_log_when_written(
    sql_logged: pytest.LogCaptureFixture, db_session: Session
) -> None:
    api_key, _ = factories.api_key(db_session)
    user = factories.user(db_session)
    db_session.expire_all()
    assert db_session.get(ApiKey, api_key.id) is not None
    assert db_session.get(User, user.id) is not None
    lines = [record.getMessage() for record in sql_logged.records]
    assert any("INSERT INTO api_keys" in line for line in lines)
    assert not [line for line in lines if "$argon2" in line]
