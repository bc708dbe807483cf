"""The shared column types keep money exact and instants in UTC, on both databases;
the unit of work turns a SQLite writer that waited too long into a clear refusal."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from telecrm.auth.models import User
from telecrm.db import Money, UTCDateTime, make_engine, session_scope, writing
from telecrm.errors import DatabaseBusy


@pytest.fixture()
def scratch(db_session: Session) -> Table:
    """A table made only for this test, inside its rolled-back transaction."""
    table = Table(
        "scratch_amounts",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("amount", Money(scale=6)),
        Column("at", UTCDateTime()),
    )
    table.create(db_session.connection())
    return table


def test_money_round_trips_exactly_and_sums_exactly_in_sql(
    db_session: Session, scratch: Table
) -> None:
    amounts = [Decimal("0.1"), Decimal("0.2"), Decimal("1234567890.123456"), Decimal("-0.000001")]
    db_session.execute(insert(scratch), [{"amount": amount} for amount in amounts])
    stored = db_session.scalars(select(scratch.c.amount).order_by(scratch.c.id)).all()
    assert stored == amounts
    assert all(isinstance(value, Decimal) for value in stored)
    total = db_session.scalar(select(func.sum(scratch.c.amount, type_=Money(scale=6))))
    assert total == Decimal("1234567890.423455")  # a float sum would not give this


def test_money_compares_exactly_in_sql(db_session: Session, scratch: Table) -> None:
    db_session.execute(
        insert(scratch), [{"amount": Decimal("0.3")}, {"amount": Decimal("0.30001")}]
    )
    found = db_session.scalars(select(scratch.c.amount).where(scratch.c.amount == Decimal("0.3")))
    assert found.all() == [Decimal("0.3")]


def test_money_refuses_more_decimal_places_than_it_keeps(
    db_session: Session, scratch: Table
) -> None:
    with pytest.raises(StatementError, match="more than 6 decimal places"):
        db_session.execute(insert(scratch), [{"amount": Decimal("0.0000001")}])


def test_money_refuses_more_digits_than_both_databases_keep(
    db_session: Session, scratch: Table
) -> None:
    """12 digits before the point with 6 after: the scaled value fits SQLite's 64-bit
    integer, so the same amounts are stored on PostgreSQL and on SQLite."""
    db_session.execute(insert(scratch), [{"amount": Decimal("999999999999.999999")}])
    for too_large in (Decimal("1000000000000"), Decimal("1e40")):
        with pytest.raises(StatementError, match="too large"):
            db_session.execute(insert(scratch), [{"amount": too_large}])


def test_instants_are_stored_in_utc_and_naive_times_are_refused(
    db_session: Session, scratch: Table
) -> None:
    jakarta = dt.datetime(2025, 11, 1, 0, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
    db_session.execute(insert(scratch), [{"at": jakarta}])
    stored = db_session.scalar(select(scratch.c.at))
    assert stored == jakarta
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored == dt.datetime(2025, 10, 31, 17, 30, tzinfo=dt.UTC)
    with pytest.raises(StatementError, match="naive datetime"):
        db_session.execute(insert(scratch), [{"at": dt.datetime(2025, 11, 1)}])


def test_instants_filter_by_utc_range(db_session: Session, scratch: Table) -> None:
    times = [
        dt.datetime(2025, 10, 31, 16, 59, tzinfo=dt.UTC),
        dt.datetime(2025, 10, 31, 17, 0, tzinfo=dt.UTC),
    ]
    db_session.execute(insert(scratch), [{"at": at} for at in times])
    november_in_jakarta = dt.datetime(2025, 11, 1, tzinfo=ZoneInfo("Asia/Jakarta"))
    found = db_session.scalars(select(scratch.c.at).where(scratch.c.at >= november_in_jakarta))
    assert found.all() == [times[1]]


def test_a_writer_waits_for_the_lock_then_gives_up_busy_and_readers_never_wait(
    committed_db: Engine, database_url: str
) -> None:
    if committed_db.dialect.name != "sqlite":
        pytest.skip("SQLite's one writer at a time (PostgreSQL writers lock rows)")
    impatient = make_engine(database_url, sqlite_busy_timeout=0.2)
    try:
        with writing(committed_db).begin():  # another writer, holding the database
            with session_scope(impatient, write=False) as reader:
                assert reader.scalar(select(func.count()).select_from(User)) == 0
            started = time.monotonic()
            with pytest.raises(DatabaseBusy) as busy, session_scope(impatient) as writer:
                writer.execute(select(1))
            assert time.monotonic() - started >= 0.2
        assert busy.value.status_code == 503 and busy.value.response_headers() == {
            "Retry-After": str(busy.value.retry_after)
        }
        with session_scope(impatient) as writer:  # the lock is free again
            writer.execute(select(1))
    finally:
        impatient.dispose()
