"""``cdr export`` of a month retention archived reads its Parquet files: the same
rows as before the month was dropped (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from telecrm.cdrs.export import service
from telecrm.cdrs.partitions import service as partitions
from telecrm.config import Settings
from telecrm.rating.types import RatingStatus
from tests import factories

# Months no other test partitions.
YEAR = 2033
JANUARY = dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_an_archived_month_exports_as_it_did_before(
    db_session: Session, settings: Settings, tmp_path: Path, is_postgres: bool, output_format: str
) -> None:
    if not is_postgres:
        pytest.skip("partitions and retention are PostgreSQL's")
    keep_one = settings.model_copy(update={"cdr_retention_months": 1, "cdr_archive_dir": tmp_path})
    partitions.ensure_partitions(db_session, 1, keep_one, today=JANUARY.date())
    contract = factories.contract(db_session)
    day = JANUARY + dt.timedelta(days=2)
    factories.cdr(db_session, contract, day, cost="1.250001")
    factories.cdr(db_session, contract, day + dt.timedelta(hours=1))  # pending
    factories.cdr(
        db_session, contract, day, rating_status=RatingStatus.UNRATED, rating_reason="no_rate"
    )
    factories.cdr(db_session, contract, day, status="invalid", validation_errors=["missing_dst"])
    factories.cdr(db_session, contract, JANUARY + dt.timedelta(days=40), cost="2")

    def exported() -> str:
        out = io.StringIO()
        end = JANUARY + dt.timedelta(days=60)
        service.export(db_session, JANUARY, end, output_format, out, archive_dir=tmp_path)
        return out.getvalue()

    before = exported()
    result = partitions.apply_retention(db_session, keep_one, today=dt.date(YEAR, 3, 5))
    assert [m.outcome for m in result.months if m.month == f"{YEAR}-01"] == ["archived"]
    assert exported() == before
    assert before.count("1.250001") == 1
