"""The process dies after HubSpot took a batch and before the local commit: the next
run pushes the same CDRs again, and HubSpot (upsert by the CDR's key) updates the
calls it has instead of creating them twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from telecrm.call_sync import repository, service
from telecrm.call_sync.models import SyncLog
from telecrm.cdrs.models import Cdr
from telecrm.config import Settings
from telecrm.db import session_scope
from tests.call_sync.helpers import valid_cdrs
from tests.crm.fake_hubspot import FakeHubSpot


class ProcessDied(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing on the way catches it."""


def test_a_crash_between_the_crms_answer_and_the_commit_duplicates_and_loses_nothing(
    committed_db: Engine,
    sync_settings: Settings,
    hubspot: FakeHubSpot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Session(committed_db) as session:
        keys = sorted(cdr.unique_key for cdr in valid_cdrs(session, 230))
        session.commit()

    def sync_once() -> service.SyncSummary:
        connector = service.LazyConnector.hubspot(sync_settings)
        try:
            return service.sync_batch_by_batch(
                lambda: session_scope(committed_db), connector, sync_settings
            )
        finally:
            connector.close()

    real_add_log = repository.add_log
    batches_logged = 0

    def dies_on_the_second_batch(session: Session, entries: Any) -> None:
        nonlocal batches_logged
        batches_logged += 1
        if batches_logged == 2:
            raise ProcessDied
        real_add_log(session, entries)

    monkeypatch.setattr(repository, "add_log", dies_on_the_second_batch)
    with pytest.raises(ProcessDied):
        sync_once()

    assert hubspot.count("calls") == 200  # HubSpot took two batches
    with Session(committed_db) as session:
        synced = session.scalar(select(func.count()).where(Cdr.sync_status == "synced"))
        assert synced == 100  # only the first batch was committed here

    monkeypatch.setattr(repository, "add_log", real_add_log)
    assert sync_once().synced == 30  # the lost batch is still leased to the dead run
    with Session(committed_db) as session:  # ...until the lease runs out
        lease_over = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(
            update(Cdr).where(Cdr.next_sync_at.is_not(None)).values(next_sync_at=lease_over)
        )
        session.commit()
    assert sync_once().synced == 100

    assert hubspot.count("calls") == 230
    stored = sorted(
        call["properties"]["telecrm_cdr_key"] for call in hubspot.objects["calls"].values()
    )
    assert stored == keys
    with Session(committed_db) as session:
        cdrs = session.scalars(select(Cdr)).all()
        assert {cdr.sync_status for cdr in cdrs} == {"synced"}
        crm_ids = {cdr.crm_call_id for cdr in cdrs}
        assert crm_ids == set(hubspot.objects["calls"])
        assert session.scalar(select(func.count()).select_from(SyncLog)) == 230
