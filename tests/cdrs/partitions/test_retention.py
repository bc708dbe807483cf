"""Retention: a month past ``TELECRM_CDR_RETENTION_MONTHS`` is archived to Parquet,
verified, then dropped; never one an unpaid invoice holds; safe to run again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from telecrm.cdrs.crm_sync.models import SyncLog
from telecrm.cdrs.partitions import service
from telecrm.config import Settings
from telecrm.invoices.models import InvoiceStatus
from tests import factories

# Months no other test partitions (an import test makes 2025's, and they stay).
YEAR = 2032
MARCH = dt.date(YEAR, 3, 10)
JANUARY = dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC)


@pytest.fixture()
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("partitions are PostgreSQL's")


@pytest.fixture()
def keep_one(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={"cdr_retention_months": 1, "cdr_archive_dir": tmp_path / "archive"}
    )


def january(result: service.RetentionResult) -> service.MonthRetention:
    [month] = [m for m in result.months if m.month == f"{YEAR}-01"]
    return month


def partition_names(session: Session) -> set[str]:
    return {p.name for p in service.list_partitions(session) or []}


def test_on_sqlite_retention_is_postgres_only(db_session: Session, is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("SQLite's answer")
    assert service.apply_retention(db_session).supported is False


@pytest.mark.usefixtures("postgres_only")
def test_unset_keeps_every_month(db_session: Session, settings: Settings) -> None:
    result = service.apply_retention(db_session, settings, today=MARCH)
    assert (result.enabled, result.months) == (False, [])


@pytest.mark.usefixtures("postgres_only")
def test_a_month_past_retention_is_archived_verified_and_dropped(
    db_session: Session, keep_one: Settings
) -> None:
    service.ensure_partitions(db_session, 2, keep_one, today=JANUARY.date())
    contract = factories.contract(db_session)
    rated = factories.cdr(db_session, contract, JANUARY + dt.timedelta(days=3), cost="1.5")
    factories.cdr(db_session, contract, JANUARY + dt.timedelta(days=4))
    kept = factories.cdr(db_session, contract, JANUARY + dt.timedelta(days=40))
    db_session.add(SyncLog(cdr_id=rated.id, status="synced", attempt=1))
    db_session.add(SyncLog(cdr_id=kept.id, status="synced", attempt=1))
    db_session.flush()

    planned = january(service.apply_retention(db_session, keep_one, dry_run=True, today=MARCH))
    assert (planned.outcome, planned.rows) == ("to archive", {"cdrs": 2, "cdr_ratings": 1})
    assert f"cdrs_{YEAR}_01" in partition_names(db_session)

    result = service.apply_retention(db_session, keep_one, today=MARCH)
    assert result.cutoff == dt.datetime(YEAR, 2, 1, tzinfo=dt.UTC)
    done = january(result)
    assert done.outcome == "archived"
    calls, ratings = (pl.read_parquet(path) for path in done.files)
    assert (calls.height, ratings.height) == (2, 1)
    assert rated.unique_key in calls.get_column("unique_key").to_list()
    assert ratings.get_column("cost").to_list() == [pytest.approx(1.5)]
    names = partition_names(db_session)
    assert {f"cdrs_{YEAR}_01", f"cdr_ratings_{YEAR}_01"} & names == set()
    assert f"cdrs_{YEAR}_02" in names  # a whole month before this one: kept
    logged = db_session.scalars(select(SyncLog.cdr_id)).all()
    assert logged == [kept.id]


@pytest.mark.usefixtures("postgres_only")
def test_a_month_an_unpaid_invoice_holds_is_kept(db_session: Session, keep_one: Settings) -> None:
    service.ensure_partitions(db_session, 0, keep_one, today=JANUARY.date())
    contract = factories.contract(db_session)
    call = factories.cdr(db_session, contract, JANUARY + dt.timedelta(days=3), cost="2")
    sent = factories.invoice(
        db_session, contract, InvoiceStatus.SENT, JANUARY, invoice_number="INV-JAN-1"
    )
    factories.rate_cdr(db_session, call, invoice_id=sent.id)

    refused = january(service.apply_retention(db_session, keep_one, today=MARCH))
    assert (refused.outcome, refused.files) == ("refused", [])
    assert refused.reason == "invoice INV-JAN-1 is sent, not paid"
    assert f"cdrs_{YEAR}_01" in partition_names(db_session)

    sent.status = InvoiceStatus.PAID
    db_session.flush()
    assert january(service.apply_retention(db_session, keep_one, today=MARCH)).outcome == (
        "archived"
    )


@pytest.mark.usefixtures("postgres_only")
def test_a_run_that_crashed_before_the_drop_runs_again_safely(
    db_session: Session, keep_one: Settings
) -> None:
    service.ensure_partitions(db_session, 0, keep_one, today=JANUARY.date())
    factories.cdr(db_session, start_time=JANUARY + dt.timedelta(days=1))
    crashed = db_session.begin_nested()
    first = january(service.apply_retention(db_session, keep_one, today=MARCH))
    crashed.rollback()  # the files are written, the drop is undone
    assert all(path.exists() for path in first.files)
    assert f"cdrs_{YEAR}_01" in partition_names(db_session)

    again = january(service.apply_retention(db_session, keep_one, today=MARCH))
    assert again.outcome == "archived"
    assert pl.read_parquet(again.files[0]).height == 1
    assert f"cdrs_{YEAR}_01" not in partition_names(db_session)
    in_january = text("SELECT count(*) FROM cdrs WHERE start_time < :end")
    assert db_session.scalar(in_january, {"end": dt.datetime(YEAR, 2, 1, tzinfo=dt.UTC)}) == 0
