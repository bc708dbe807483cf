"""The monthly partitions of ``cdrs`` and ``cdr_ratings``: made ahead, idempotent,
read only for the months a query asks (PostgreSQL); SQLite says it has none."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from telecrm.cdrs.listing import repository as listing
from telecrm.cdrs.listing.repository import CdrFilters
from telecrm.cdrs.partitions import service
from telecrm.config import Settings
from telecrm.contracts.scope import EVERYTHING
from tests import factories

# Months no other test partitions (an import test makes 2025's, and they stay).
YEAR = 2031
OCTOBER = dt.date(YEAR, 10, 15)
JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture()
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("partitions are PostgreSQL's")


def where_stored(session: Session, table: str, key_column: str, key: int) -> str:
    return str(
        session.scalar(
            text(f"SELECT tableoid::regclass::text FROM {table} WHERE {key_column} = :key"),
            {"key": key},
        )
    )


def test_on_sqlite_there_are_no_partitions(db_session: Session, is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("SQLite's answer")
    assert service.ensure_partitions(db_session, 3).supported is False
    assert service.list_partitions(db_session) is None


@pytest.mark.usefixtures("postgres_only")
def test_ensure_makes_the_months_ahead_once_and_moves_what_default_held(
    db_session: Session, settings: Settings
) -> None:
    waiting = factories.cdr(db_session, start_time=dt.datetime(YEAR, 11, 20, tzinfo=dt.UTC))
    assert where_stored(db_session, "cdrs", "id", waiting.id) == "cdrs_default"

    made = service.ensure_partitions(db_session, 2, settings, today=OCTOBER)
    assert made.created == [
        f"{table}_{YEAR}_{month}"
        for month in ("10", "11", "12")
        for table in ("cdrs", "cdr_ratings")
    ]
    assert made.moved_rows == 1
    assert where_stored(db_session, "cdrs", "id", waiting.id) == f"cdrs_{YEAR}_11"

    again = service.ensure_partitions(db_session, 2, settings, today=OCTOBER)
    assert (again.created, again.moved_rows) == ([], 0)

    found = {p.name: p for p in service.list_partitions(db_session) or []}
    november = found[f"cdrs_{YEAR}_11"]
    assert (november.start, november.end, november.rows) == (
        dt.datetime(YEAR, 11, 1, tzinfo=dt.UTC),
        dt.datetime(YEAR, 12, 1, tzinfo=dt.UTC),
        1,
    )
    assert november.bytes > 0
    assert found["cdrs_default"].rows == 0


@pytest.mark.usefixtures("postgres_only")
def test_months_are_the_billing_time_zones(db_session: Session, settings: Settings) -> None:
    """A month of Jakarta starts at 17:00 UTC the day before; a partition made under
    another zone before keeps its range, and the new month's is cut to fit."""
    service.ensure_partitions(db_session, 0, settings, today=dt.date(YEAR, 10, 1))
    jakarta = settings.model_copy(update={"timezone": "Asia/Jakarta"})
    service.ensure_partitions(db_session, 1, jakarta, today=dt.date(YEAR, 10, 1))
    found = {p.name: p for p in service.list_partitions(db_session) or []}
    assert (found[f"cdrs_{YEAR}_10"].start, found[f"cdrs_{YEAR}_10"].end) == (
        dt.datetime(YEAR, 10, 1, tzinfo=dt.UTC),
        dt.datetime(YEAR, 11, 1, tzinfo=dt.UTC),
    )
    assert (found[f"cdrs_{YEAR}_11"].start, found[f"cdrs_{YEAR}_11"].end) == (
        dt.datetime(YEAR, 11, 1, tzinfo=dt.UTC),
        dt.datetime(YEAR, 11, 30, 17, tzinfo=dt.UTC),
    )


def _relations(plan: Any) -> set[str]:
    found = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= _relations(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _relations(value)
    return found


@pytest.mark.usefixtures("postgres_only")
def test_the_listing_of_a_month_reads_only_that_months_partitions(
    db_session: Session, settings: Settings
) -> None:
    service.ensure_partitions(db_session, 2, settings, today=OCTOBER)
    contract = factories.contract(db_session)
    for month in (10, 11, 12):
        factories.cdr(db_session, contract, dt.datetime(YEAR, month, 5, tzinfo=dt.UTC), cost="1")
    statements: list[tuple[str, Any]] = []
    connection = db_session.connection()

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "FROM cdrs" in statement:
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        filters = CdrFilters(
            start_from=dt.datetime(YEAR, 11, 1, tzinfo=dt.UTC),
            start_to=dt.datetime(YEAR, 12, 1, tzinfo=dt.UTC),
        )
        calls = listing.list_cdrs(db_session, EVERYTHING, filters, None, 50)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    assert [c.start_time.month for c in calls] == [11]
    statement, parameters = statements[0]
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert _relations(plan) == {f"cdrs_{YEAR}_11", f"cdr_ratings_{YEAR}_11"}
