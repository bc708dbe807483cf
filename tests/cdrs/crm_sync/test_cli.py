from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.cdrs.crm_sync import service
from telecrm.config import get_settings
from telecrm.db import session_scope
from tests.cdrs.crm_sync.helpers import dead_run, valid_cdrs
from tests.conftest import CliResult
from tests.crm.fake_hubspot import FakeHubSpot


def test_cdr_sync_retry_failed_and_the_sync_log(
    cli: Callable[..., CliResult],
    committed_db: Engine,
    hubspot: FakeHubSpot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELECRM_HUBSPOT_TOKEN", hubspot.token)
    monkeypatch.setenv("TELECRM_HUBSPOT_BASE_URL", hubspot.url)
    monkeypatch.setenv("TELECRM_HUBSPOT_BACKOFF_SECONDS", "0")
    get_settings.cache_clear()
    with Session(committed_db) as session:
        cdrs = valid_cdrs(session, 150)
        refused_key, refused_id = cdrs[7].unique_key, cdrs[7].id
        session.commit()
    hubspot.refused.add(("calls", refused_key))

    first = cli("cdr", "sync")
    assert first.exit_code == 0, first.output
    assert "2" in first.stdout and "149" in first.stdout  # batches, synced
    assert f"failed: CDR {refused_id} (try 1)" in first.stdout
    log = cli("cdr", "sync-log", "--status", "failed")
    assert str(refused_id) in log.stdout

    hubspot.refused.clear()
    assert cli("cdr", "sync").stdout.count("failed: CDR") == 0  # waits for its backoff
    assert hubspot.count("calls") == 149
    again = cli("cdr", "sync", "--retry-failed")
    assert again.exit_code == 0, again.output
    assert "re-queued 1 failed CDRs" in again.stdout
    assert hubspot.count("calls") == 150


def test_cdr_sync_says_why_it_stopped(
    cli: Callable[..., CliResult],
    committed_db: Engine,
    hubspot: FakeHubSpot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELECRM_HUBSPOT_TOKEN", hubspot.token)
    monkeypatch.setenv("TELECRM_HUBSPOT_BASE_URL", hubspot.url)
    monkeypatch.setenv("TELECRM_CRM_DAILY_REQUEST_LIMIT", "2")
    get_settings.cache_clear()
    with Session(committed_db) as session:
        valid_cdrs(session, 1)
        session.commit()
    result = cli("cdr", "sync")
    assert result.exit_code == 1
    assert "daily limit of 2 CRM requests" in result.stderr


def test_cdr_sync_release_releases_the_leases_of_a_dead_sync(
    cli: Callable[..., CliResult], committed_db: Engine
) -> None:
    with Session(committed_db) as session:
        valid_cdrs(session, 3)
        session.commit()
    dead = dead_run()
    with session_scope(committed_db) as session:
        assert isinstance(service.claim_batch(session, get_settings(), owner=dead), service.Claim)

    result = cli("cdr", "sync-release")

    assert result.exit_code == 0, result.output
    assert f"released 3 CDRs leased by {dead} (no longer running)" in result.stdout
    assert "released 3 CDRs in all" in result.stdout
    assert "released 0 CDRs in all" in cli("cdr", "sync-release").stdout
