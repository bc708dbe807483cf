"""The unit of work of an API request, under concurrent requests on the real app and
the real database: writers wait their turn, readers do not wait for them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.app import create_app
from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.contracts import repository as contracts_repository
from telecrm.contracts.models import Contract
from telecrm.db import make_engine, writing
from tests import factories
from tests.concurrency import at_once, meet_after


@pytest.fixture()
def billing_headers(committed_db: Engine, settings: Settings) -> dict[str, str]:
    with Session(committed_db) as session, session.begin():
        return factories.bearer(factories.user(session, role=Role.BILLING), settings)


@pytest.fixture()
def contract_ids(committed_db: Engine) -> list[int]:
    with Session(committed_db) as session, session.begin():
        return [factories.contract(session).id for _ in range(4)]


def test_concurrent_writes_wait_their_turn_and_none_fails(
    committed_db: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    billing_headers: dict[str, str],
    contract_ids: list[int],
) -> None:
    # every request reads its contract before any writes: on SQLite a transaction
    # that read first and then writes cannot wait for the lock, it fails at once
    meet_after(monkeypatch, contracts_repository, "get", parties=len(contract_ids))
    client = TestClient(create_app(settings, committed_db), raise_server_exceptions=False)

    def rename(contract_id: int) -> Callable[[], Response]:
        return lambda: client.patch(
            f"/api/contracts/{contract_id}",
            json={"company_name": f"Renamed {contract_id}"},
            headers=billing_headers,
        )

    responses = at_once(*(rename(contract_id) for contract_id in contract_ids))

    assert [r.status_code for r in responses] == [200] * len(contract_ids), [
        r.text for r in responses
    ]
    with Session(committed_db) as session:
        names = session.execute(
            select(Contract.id, Contract.company_name).where(Contract.id.in_(contract_ids))
        ).all()
    assert sorted(names) == [(cid, f"Renamed {cid}") for cid in sorted(contract_ids)]


@pytest.fixture()
def impatient_engine(committed_db: Engine, database_url: str) -> Iterator[Engine]:
    """The test database with writers that give up waiting after 0.3 s."""
    if committed_db.dialect.name != "sqlite":
        pytest.skip("SQLite's one writer at a time (PostgreSQL writers lock rows)")
    engine = make_engine(database_url, sqlite_busy_timeout=0.3)
    yield engine
    engine.dispose()


def test_a_writer_that_waits_too_long_is_told_to_retry_and_readers_do_not_wait(
    committed_db: Engine,
    impatient_engine: Engine,
    settings: Settings,
    billing_headers: dict[str, str],
    contract_ids: list[int],
) -> None:
    client = TestClient(create_app(settings, impatient_engine), raise_server_exceptions=False)
    path = f"/api/contracts/{contract_ids[0]}"

    with writing(committed_db).begin():  # another writer, holding the database
        started = time.monotonic()
        patched = client.patch(path, json={"company_name": "Late"}, headers=billing_headers)
        waited = time.monotonic() - started
        read = client.get(path, headers=billing_headers)

    assert patched.status_code == 503, patched.text
    assert patched.json()["code"] == "database_busy"
    assert int(patched.headers["Retry-After"]) > 0
    assert waited >= 0.3
    assert read.status_code == 200, read.text
    assert (
        client.patch(path, json={"company_name": "Now"}, headers=billing_headers).json()[
            "company_name"
        ]
        == "Now"
    )
