"""An API key's ``last_used_at`` under concurrent writers, on the real app and the
real database: noting the key's use never fails nor holds up the request."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from telecrm.app import create_app
from telecrm.auth.models import ApiKey
from telecrm.config import Settings
from telecrm.db import make_engine, writing
from tests import factories


@pytest.fixture()
def api_key(committed_db: Engine) -> tuple[int, str]:
    with Session(committed_db) as session, session.begin():
        stored, key = factories.api_key(session)
        return stored.id, key


def _last_used(engine: Engine, key_id: int) -> dt.datetime | None:
    with Session(engine) as session:
        return session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))


def test_a_get_notes_when_its_api_key_was_used_at_most_once_a_minute(
    committed_db: Engine, settings: Settings, api_key: tuple[int, str]
) -> None:
    key_id, key = api_key
    client = TestClient(create_app(settings, committed_db), raise_server_exceptions=False)

    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    first = _last_used(committed_db, key_id)
    assert first is not None
    assert abs(dt.datetime.now(dt.UTC) - first) < dt.timedelta(seconds=30)
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    assert _last_used(committed_db, key_id) == first  # not again within the minute

    an_hour_ago = first - dt.timedelta(hours=1)
    with Session(committed_db) as session, session.begin():
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=an_hour_ago))
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    later = _last_used(committed_db, key_id)
    assert later is not None and later > an_hour_ago + dt.timedelta(minutes=59)


@pytest.fixture()
def impatient_engine(committed_db: Engine, database_url: str) -> Iterator[Engine]:
    """The test database with writers that give up waiting after 2 s."""
    if committed_db.dialect.name != "sqlite":
        pytest.skip("SQLite's one writer at a time (PostgreSQL writers lock rows)")
    engine = make_engine(database_url, sqlite_busy_timeout=2.0)
    yield engine
    engine.dispose()


def test_a_get_with_an_api_key_is_not_failed_by_a_writer_holding_the_database(
    committed_db: Engine,
    impatient_engine: Engine,
    settings: Settings,
    api_key: tuple[int, str],
) -> None:
    key_id, key = api_key
    client = TestClient(create_app(settings, impatient_engine), raise_server_exceptions=False)

    with writing(committed_db).begin():  # another writer, holding the database
        started = time.monotonic()
        busy = client.get("/api/auth/me", headers={"X-API-Key": key})
        waited = time.monotonic() - started

    assert busy.status_code == 200, busy.text
    assert busy.json()["kind"] == "api_key"
    assert waited < 1.5  # the note of the key's use did not wait out the busy timeout
    assert _last_used(committed_db, key_id) is None  # skipped: the database was busy
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    assert _last_used(committed_db, key_id) is not None  # noted once it was free


def test_a_get_with_an_api_key_is_not_held_up_by_a_lock_on_the_key(
    committed_db: Engine, settings: Settings, api_key: tuple[int, str]
) -> None:
    if committed_db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's row locks (SQLite's lock is the whole database, above)")
    key_id, key = api_key
    client = TestClient(create_app(settings, committed_db), raise_server_exceptions=False)

    with Session(committed_db) as locker, ThreadPoolExecutor(max_workers=1) as pool:
        # another writer holds the key's row (an admin revoking it, say)
        locker.execute(select(ApiKey).where(ApiKey.id == key_id).with_for_update())
        started = time.monotonic()
        pending = pool.submit(client.get, "/api/auth/me", headers={"X-API-Key": key})
        try:
            response = pending.result(timeout=5)
            waited = time.monotonic() - started
        finally:
            locker.rollback()

    assert response.status_code == 200, response.text
    assert waited < 1.5
    assert _last_used(committed_db, key_id) is None  # skipped: the row was locked
