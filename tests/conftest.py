"""The test database: SQLite by default, PostgreSQL when TELECRM_TEST_DATABASE_URL is
set. Each run gets its own fresh database, migrated with Alembic; each test runs in
a transaction that is rolled back (``db_session``), or, when it needs real commits
(a CLI command, a crash), in ``committed_db``, whose tables are emptied afterwards."""

from __future__ import annotations

import os

os.environ.setdefault("COLUMNS", "200")  # Rich tables unwrapped in captured output

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import telecrm.db
import telecrm.models
from telecrm import migrations
from telecrm.app import create_app
from telecrm.audit.service import ACTOR_KEY
from telecrm.auth.models import Role
from telecrm.config import Settings, get_settings
from telecrm.db import make_engine, unit_of_work
from telecrm.dependencies import get_session
from telecrm.jobs.routes import get_dispatcher
from tests import factories
from tests.crm.fake_hubspot import FakeHubSpot
from tests.jobs.helpers import QueueOnly

TEST_DATABASE_ENV = "TELECRM_TEST_DATABASE_URL"
# The real Redis of the development and CI machines; each test uses keys of its own.
TEST_REDIS_URL = os.environ.get("TELECRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Tables whose rows a migration writes (reference data): never emptied between tests.
SEEDED_TABLES: set[str] = {"alembic_version", "cdr_status"}


def _postgres_database(base_url: str) -> Iterator[str]:
    url = make_url(Settings.model_validate({"database_url": base_url}).database_url)
    name = f"telecrm_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        for engine in list(telecrm.db._engines.values()):
            engine.dispose()
        telecrm.db._engines.clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base_url = os.environ.get(TEST_DATABASE_ENV)
    if base_url:
        yield from _postgres_database(base_url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'telecrm-test.db'}"


@pytest.fixture()
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database of the suite's kind, dropped afterwards."""
    base_url = os.environ.get(TEST_DATABASE_ENV)
    if base_url:
        yield from _postgres_database(base_url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture()
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        secret_key="test-secret-key-of-sufficient-length-0123456789",
        timezone="UTC",
        encryption_key="Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtbG9uZy1rZXk=",
        # a test drains what it pushed itself, in its own transaction
        push_drain_seconds=0,
    )


@pytest.fixture()
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints of one transaction rolled back at the end."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(telecrm.models.Base.metadata.sorted_tables):
            if table.name not in SEEDED_TABLES:
                connection.execute(delete(table))


@pytest.fixture()
def committed_db(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """For code that commits on its own (CLI commands, jobs): the real database, with
    TELECRM_DATABASE_URL pointing at it; every table is emptied afterwards."""
    monkeypatch.setenv("TELECRM_DATABASE_URL", database_url)
    monkeypatch.setenv("TELECRM_SECRET_KEY", "test-secret-key-of-sufficient-length-0123456789")
    monkeypatch.setenv("TELECRM_ENCRYPTION_KEY", "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtbG9uZy1rZXk=")
    get_settings.cache_clear()
    try:
        yield engine
    finally:
        get_settings.cache_clear()
        _empty_tables(engine)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture()
def cli(committed_db: Engine, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``telecrm ARGS`` in-process against the test database."""
    from telecrm.cli.main import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


_APPS: dict[tuple[str, int], FastAPI] = {}


def _app_for(settings: Settings, engine: Engine) -> FastAPI:
    """One app per settings and engine for the whole run, its state reset for each test:
    an app answers its first request only after laying out its routes (0.15 s), which
    thousands of tests would pay again and again."""
    key = (settings.model_dump_json(), id(engine))
    application = _APPS.get(key)
    if application is None:
        application = _APPS[key] = create_app(settings=settings, engine=engine)
    application.state.settings = settings
    application.state.engine = engine
    application.state.session_factory = telecrm.db.session_factory(engine)
    application.state.write_sessions = telecrm.db.session_factory(engine, write=True)
    application.dependency_overrides.clear()
    return application


@pytest.fixture()
def app(settings: Settings, engine: Engine, db_session: Session) -> FastAPI:
    application = _app_for(settings, engine)

    def test_session() -> Iterator[Session]:
        # What the test set up counts as committed before the request, as in production:
        # a request that fails rolls back only its own work.
        db_session.commit()
        db_session.info.pop(ACTOR_KEY, None)
        with unit_of_work(db_session):
            yield db_session

    application.dependency_overrides[get_session] = test_session
    # A job the API starts runs on connections of its own, which would wait for the
    # test's transaction; here jobs stay queued (tests/jobs run them for real).
    application.dependency_overrides[get_dispatcher] = lambda: QueueOnly(settings, engine)
    return application


@pytest.fixture()
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def auth_headers(db_session: Session, settings: Settings) -> Callable[..., dict[str, str]]:
    """``auth_headers(Role.SALES)``: a bearer token of a new user with that role."""

    def make(role: Role | str, **user_fields: object) -> dict[str, str]:
        user = factories.user(db_session, role=Role(role), **user_fields)
        return factories.bearer(user, settings)

    return make


@pytest.fixture()
def hubspot() -> Iterator[FakeHubSpot]:
    """The fake HubSpot on loopback (tests/crm/fake_hubspot.py)."""
    with FakeHubSpot() as server:
        yield server


@pytest.fixture()
def crm_settings(settings: Settings, hubspot: FakeHubSpot) -> Settings:
    """The test settings with HubSpot at the fake, and retries that do not wait."""
    return settings.model_copy(
        update={
            "hubspot_token": SecretStr(hubspot.token),
            "hubspot_base_url": hubspot.url,
            "hubspot_max_attempts": 3,
            "hubspot_backoff_seconds": 0.0,
            "hubspot_retry_after_max_seconds": 0.0,
            "hubspot_read_timeout": 5.0,
        }
    )


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    """A cache key prefix of this test alone (parallel runs share the Redis); its keys
    are deleted afterwards."""
    prefix = f"telecrm-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(TEST_REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture()
def cached_settings(settings: Settings, redis_prefix: str) -> Settings:
    """The test settings with the cache in the real Redis, under the test's prefix."""
    return settings.model_copy(update={"redis_url": TEST_REDIS_URL, "cache_prefix": redis_prefix})


@pytest.fixture()
def redis_env(committed_db: Engine, redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``committed_db`` with TELECRM_REDIS_URL set, for commands: the test's prefix."""
    monkeypatch.setenv("TELECRM_REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("TELECRM_CACHE_PREFIX", redis_prefix)
    get_settings.cache_clear()
    return redis_prefix
