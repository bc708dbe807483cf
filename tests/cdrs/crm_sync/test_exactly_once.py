"""The process dies after HubSpot took a batch and before the local commit: the next
run pushes the same CDRs again, and HubSpot (upsert by the CDR's key) updates the
calls it has instead of creating them twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from telecrm.cdrs.crm_sync import repository, service
from telecrm.cdrs.crm_sync.models import SyncLog
from telecrm.cdrs.models import Cdr
from telecrm.config import Settings
from telecrm.db import session_scope
from tests.cdrs.crm_sync.helpers import dead_run, valid_cdrs
from tests.crm.fake_hubspot import FakeHubSpot


class ProcessDied(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing on the way catches it."""


def _sync_once(engine: Engine, settings: Settings) -> service.SyncSummary:
    connector = service.LazyConnector.hubspot(settings)
    try:
        return service.sync_batch_by_batch(lambda: session_scope(engine), connector, settings)
    finally:
        connector.close()


def _crashed_run(engine: Engine, settings: Settings, owner: str, record: bool = False) -> None:
    """A run that claimed a batch and pushed it, then died before recording it (or,
    with ``record``, did record it after all)."""
    with session_scope(engine) as session:
        claim = service.claim_batch(session, settings, owner=owner)
    assert isinstance(claim, service.Claim)
    connector = service.LazyConnector.hubspot(settings)
    try:
        result = service.push(connector, claim)
    finally:
        connector.close()
    if record:
        with session_scope(engine) as session:
            service.record_batch(session, settings, claim, result)


def test_the_leases_of_a_dead_run_are_released_and_its_batch_pushed_once_more(
    committed_db: Engine, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    with Session(committed_db) as session:
        keys = sorted(cdr.unique_key for cdr in valid_cdrs(session, 150))
        session.commit()
    dead = dead_run()
    _crashed_run(committed_db, sync_settings, dead)
    assert hubspot.count("calls") == 100
    assert _sync_once(committed_db, sync_settings).synced == 50  # the rest is leased

    with session_scope(committed_db) as session:
        released = service.release_dead_leases(session)
    assert (released.released, released.running, released.elsewhere) == ({dead: 100}, {}, {})

    assert _sync_once(committed_db, sync_settings).synced == 100
    assert hubspot.posts("/calls/batch/upsert") == 3
    stored = sorted(
        call["properties"]["telecrm_cdr_key"] for call in hubspot.objects["calls"].values()
    )
    assert stored == keys
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).where(Cdr.sync_lease_owner.is_not(None))) == 0


def test_a_release_leaves_what_the_run_recorded_meanwhile_and_the_live_runs_leases(
    committed_db: Engine, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    with Session(committed_db) as session:
        valid_cdrs(session, 300)
        session.commit()
    # thought dead, it recorded its batch just before the release
    late = dead_run()
    _crashed_run(committed_db, sync_settings, late, record=True)
    live = service.lease_owner()  # this process: running
    elsewhere = "pbx-worker-2.example.net:4242"
    for owner in (live, elsewhere):
        with session_scope(committed_db) as session:
            assert isinstance(
                service.claim_batch(session, sync_settings, owner=owner), service.Claim
            )

    with session_scope(committed_db) as session:
        kept = service.release_dead_leases(session, [live, late])

    assert (kept.total, kept.running, kept.elsewhere) == (0, {live: 100}, {elsewhere: 100})
    upserts = hubspot.posts("/calls/batch/upsert")
    assert _sync_once(committed_db, sync_settings).batches == 0  # nothing pushed twice
    assert hubspot.posts("/calls/batch/upsert") == upserts

    with session_scope(committed_db) as session:
        named = service.release_dead_leases(session, [elsewhere])
    assert named.released == {elsewhere: 100}
    assert _sync_once(committed_db, sync_settings).synced == 100


def test_the_lease_lasts_as_long_as_the_setting_says(
    db_session: Session, sync_settings: Settings
) -> None:
    (cdr,) = valid_cdrs(db_session, 1)
    now = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    short = sync_settings.model_copy(update={"crm_call_sync_lease_minutes": 2})
    claim = service.claim_batch(db_session, short, now=now)
    assert isinstance(claim, service.Claim)
    db_session.refresh(cdr)
    assert cdr.next_sync_at == now + dt.timedelta(minutes=2)
    assert cdr.sync_lease_owner == service.lease_owner()


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
