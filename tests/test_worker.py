from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.crm_sync.service import LazyConnector
from telecrm.cdrs.models import Cdr
from telecrm.cdrs.sources import staging
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource
from telecrm.config import Settings
from telecrm.rating.types import RatingStatus
from telecrm.worker import Worker
from tests import factories
from tests.cdrs.crm_sync.helpers import valid_cdrs
from tests.cdrs.sources.test_end_to_end import MASTER_CSV
from tests.conftest import CliResult
from tests.crm.fake_hubspot import FakeHubSpot

TELECRM = Path(sys.executable).parent / "telecrm"


class SlowHubSpot(FakeHubSpot):
    """A CRM that takes ``delay`` seconds over every request."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        time.sleep(self.delay)
        return super().handle(method, path, query, body)


class StalledHubSpot(FakeHubSpot):
    """A CRM that holds every request until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        self.release.wait(timeout=60)
        return super().handle(method, path, query, body)


def _count(engine: Engine, *conditions: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Cdr).where(*conditions)) or 0)


def test_a_slow_crm_does_not_hold_up_the_pipeline(committed_db: Engine, settings: Settings) -> None:
    with Session(committed_db) as session:
        valid_cdrs(session, 300)
        rated_id = valid_cdrs(session, 1, rating_status=RatingStatus.RATED)[0].id
        session.commit()
    with StalledHubSpot() as hubspot:
        configured = settings.model_copy(
            update={"hubspot_token": SecretStr(hubspot.token), "hubspot_base_url": hubspot.url}
        )
        worker = Worker(
            configured,
            engine=committed_db,
            connector_factory=lambda: LazyConnector.hubspot(configured),
        )
        sync = threading.Thread(target=worker.sync_once)
        sync.start()
        while not hubspot.requests:  # the sync is inside its first request, held there
            time.sleep(0.01)
        pipeline = threading.Thread(target=worker.pipeline_once)
        pipeline.start()
        # The pipeline must finish while the CRM still holds the sync's request; were
        # it waiting on the sync, it would still be running when the wait runs out.
        pipeline.join(timeout=30)
        finished_while_crm_stalled = not pipeline.is_alive()
        calls_meanwhile = hubspot.count("calls")
        hubspot.release.set()
        pipeline.join()
        sync.join()

    assert finished_while_crm_stalled
    assert calls_meanwhile == 0
    with Session(committed_db) as session:
        assert session.get_one(Cdr, rated_id).lifecycle_status == "rated"
    assert _count(committed_db, Cdr.sync_status == "synced") == 301


def test_sigterm_finishes_the_batch_in_hand_and_exits_cleanly(
    committed_db: Engine, database_url: str
) -> None:
    with Session(committed_db) as session:
        valid_cdrs(session, 500)
        session.commit()
    with SlowHubSpot(delay=0.3) as hubspot:
        environment = {
            **os.environ,
            "TELECRM_DATABASE_URL": database_url,
            "TELECRM_HUBSPOT_TOKEN": hubspot.token,
            "TELECRM_HUBSPOT_BASE_URL": hubspot.url,
            "TELECRM_LOG_LEVEL": "INFO",
        }
        process = subprocess.Popen(
            [str(TELECRM), "worker", "--interval", "60"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while hubspot.count("calls") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)  # the first batch is in
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        calls = hubspot.count("calls")

    assert process.returncode == 0, stderr
    assert "SIGTERM received" in stderr
    assert "worker stopped" in stderr
    synced = _count(committed_db, Cdr.sync_status == "synced")
    assert 0 < synced < 500  # stopped early...
    assert synced == calls  # ...with every batch the CRM took committed here


def test_one_round_fetches_validates_rates_and_syncs_every_enabled_source(
    committed_db: Engine, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "Master.csv").write_text(MASTER_CSV)
    with Session(committed_db) as session:
        group = factories.rate_group(session)
        factories.rate(session, group, rate_prefix="628", billing_rate=Decimal(1200))
        factories.rate(session, group, rate_prefix="6221", billing_rate=Decimal(900))
        factories.contract(session, group, accountcode="ACC1")
        folder = {"path": str(tmp_path), "format": "asterisk-csv", "timezone": "Asia/Jakarta"}
        session.add(CdrSource(name="pbx-files", type="directory", params=folder))
        session.add(CdrSource(name="pbx-off", type="directory", params=folder, enabled=False))
        session.commit()
    with FakeHubSpot() as hubspot:
        configured = settings.model_copy(
            update={
                "hubspot_token": SecretStr(hubspot.token),
                "hubspot_base_url": hubspot.url,
                "cdr_source_roots": [tmp_path],
            }
        )
        worker = Worker(configured, engine=committed_db)
        worker.pipeline_once()
        summary = worker.sync_once()
        calls = hubspot.count("calls")

    with Session(committed_db) as session:
        cdrs = {cdr.call_id: cdr for cdr in session.scalars(select(Cdr))}
        runs = session.scalars(select(CdrFetchRun)).all()
    assert [run.trigger for run in runs] == ["worker"]  # the disabled source is left alone
    answered, unanswered = cdrs["1762333200.1"], cdrs["1762336800.2"]
    # 61 s at 1200 a minute, billed by the minute (RATING.md's first worked example)
    assert (answered.lifecycle_status, answered.matched_prefix) == ("rated", "628")
    assert answered.cost == Decimal("2400.000000")
    assert (unanswered.lifecycle_status, unanswered.cost) == ("rated", Decimal("0.000000"))
    assert summary.synced == 2 and calls == 2


def test_worker_once_is_one_round_for_cron(
    cli: Callable[..., CliResult], committed_db: Engine
) -> None:
    with Session(committed_db) as session:
        rated_id = valid_cdrs(session, 1, rating_status=RatingStatus.RATED)[0].id
        session.commit()
    result = cli("worker", "--once")  # no TELECRM_HUBSPOT_TOKEN
    assert result.exit_code == 0, result.output
    assert "one round done: 0 calls synced" in result.stdout
    with Session(committed_db) as session:
        cdr = session.get(Cdr, rated_id)
        assert cdr is not None and cdr.lifecycle_status == "rated"
        assert cdr.sync_status == "pending"  # no CRM configured: nothing is pushed


def test_a_round_first_imports_what_pbxes_pushed(committed_db: Engine, settings: Settings) -> None:
    with Session(committed_db) as session:
        session.add(CdrSource(name="fs-1", type="push", params={}))
        session.flush()
        staging.accept_push(
            session,
            "fs-1",
            b'[{"call_id": "w.1", "src": "1001", "dst": "081234567890", '
            b'"start_time": "2025-11-05T09:00:00Z", "duration": 70, "billsec": 61, '
            b'"disposition": "ANSWERED"}]',
            "application/json",
            "api_key:1:fs-1",
        )
        session.commit()

    Worker(settings, engine=committed_db).pipeline_once()

    with Session(committed_db) as session:
        triggers = sorted(run.trigger for run in session.scalars(select(CdrFetchRun)))
        assert staging.staged_posts(session) == 0
    assert _count(committed_db, Cdr.call_id == "w.1") == 1
    assert triggers == ["push", "worker"]  # the drain's run, then the push source's fetch
