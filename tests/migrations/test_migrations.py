"""The migrations build the schema the models describe, and can be undone."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import NamedTuple

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telecrm import migrations
from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.contracts.models import Contract
from telecrm.db import Money, UTCDateTime, make_engine
from telecrm.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from telecrm.models import Base
from telecrm.rating.types import RatingStatus
from tests import factories


def _drift(engine) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        options = {
            "compare_type": True,
            "include_object": migrations.include_object(engine.dialect.name),
        }
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, Base.metadata)


def test_upgrade_downgrade_upgrade_and_no_drift(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine)
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert _drift(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables

        migrations.downgrade(engine, "base")
        assert migrations.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        migrations.upgrade(engine)
        assert _drift(engine) == []
    finally:
        engine.dispose()


def test_every_revision_downgrades_one_step(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine)
        while (revision := migrations.current_revision(engine)) is not None:
            migrations.downgrade(engine, "-1")
            assert migrations.current_revision(engine) != revision
    finally:
        engine.dispose()


def test_upgrading_a_database_with_data_keeps_its_references(empty_database_url: str) -> None:
    """Later migrations rebuild tables on SQLite; rows that point at them keep their keys."""
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO users (id, email, password_hash, role, is_active, failed_logins) "
                "VALUES (1, 'ops@example.com', 'x', 'admin', true, 0)"
            )
            connection.exec_driver_sql(
                "INSERT INTO api_keys (id, name, role, prefix, key_hash, created_by_id) "
                "VALUES (1, 'pbx-1', 'pbx', 'abcd1234', 'x', 1)"
            )
        migrations.upgrade(engine)
        with engine.connect() as connection:
            created_by = connection.exec_driver_sql(
                "SELECT created_by_id FROM api_keys WHERE id = 1"
            ).scalar_one()
        assert created_by == 1
    finally:
        engine.dispose()


RATING_NAMES = (
    "rating_reason",
    "contract_id",
    "rate_id",
    "matched_prefix",
    "billable_seconds",
    "cost",
    "rated_at",
    "invoice_id",
)
_OLD_CDRS = sa.table(
    "cdrs",
    sa.column("id", sa.BigInteger()),
    sa.column("unique_key", sa.String()),
    sa.column("accountcode", sa.String()),
    sa.column("src", sa.String()),
    sa.column("dst", sa.String()),
    sa.column("start_time", UTCDateTime()),
    sa.column("duration", sa.Integer()),
    sa.column("billsec", sa.Integer()),
    sa.column("disposition", sa.String()),
    sa.column("status", sa.String()),
    sa.column("sync_status", sa.String()),
    sa.column("rating_status", sa.String()),
    sa.column("rating_reason", sa.String()),
    sa.column("contract_id", sa.Integer()),
    sa.column("rate_id", sa.Integer()),
    sa.column("matched_prefix", sa.String()),
    sa.column("billable_seconds", sa.Integer()),
    sa.column("cost", Money(scale=6)),
    sa.column("rated_at", UTCDateTime()),
    sa.column("invoice_id", sa.Integer()),
)


_OLD_INVOICES = sa.table(
    "invoices",
    sa.column("id", sa.Integer()),
    sa.column("invoice_number", sa.String()),
    sa.column("contract_id", sa.Integer()),
    sa.column("accountcode", sa.String()),
    sa.column("period_start", UTCDateTime()),
    sa.column("period_end", UTCDateTime()),
    sa.column("invoice_date", sa.Date()),
    sa.column("due_date", sa.Date()),
    sa.column("currency", sa.String()),
    sa.column("subtotal", Money(scale=4)),
    sa.column("tax_rate", Money(scale=4, precision=9)),
    sa.column("tax", Money(scale=4)),
    sa.column("amount", Money(scale=4)),
    sa.column("call_count", sa.BigInteger()),
    sa.column("status", sa.String()),
)


class _OldInvoice(NamedTuple):
    id: int


def _old_invoice(
    session: Session, contract: Contract, status: InvoiceStatus, period_start: dt.datetime
) -> _OldInvoice:
    """An invoice as the schema of the time held it (the model has grown since)."""
    invoice_id = session.execute(
        sa.insert(_OLD_INVOICES)
        .values(
            invoice_number=f"INV-OLD-{status.value}",
            contract_id=contract.id,
            accountcode=contract.accountcode,
            period_start=period_start,
            period_end=(period_start + dt.timedelta(days=32)).replace(day=1),
            invoice_date=dt.date(2025, 12, 1),
            due_date=dt.date(2025, 12, 31),
            currency="IDR",
            subtotal=Decimal(0),
            tax_rate=Decimal(0),
            tax=Decimal(0),
            amount=Decimal(0),
            call_count=0,
            status=status.value,
        )
        .returning(_OLD_INVOICES.c.id)
    ).scalar_one()
    return _OldInvoice(invoice_id)


def test_upgrading_moves_ratings_to_their_table_and_takes_the_calls_off_drafts(
    empty_database_url: str,
) -> None:
    """0005: calls are linked when an invoice is sent, so drafts give theirs back.
    0007: each rated or unrated call's rating moves to ``cdr_ratings`` as it was, and
    its status goes back to validation's outcome; a pending call has no rating."""
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine, "0004")
        november = dt.datetime(2025, 11, 10, tzinfo=dt.UTC)
        with Session(engine) as session, session.begin():
            group = factories.rate_group(session)
            rate = factories.rate(session, group)
            contract = factories.contract(session, group)
            draft = _old_invoice(
                session, contract, InvoiceStatus.DRAFT, dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
            )
            sent = _old_invoice(
                session, contract, InvoiceStatus.SENT, dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
            )
            call = {
                "accountcode": contract.accountcode,
                "src": "1001",
                "dst": "08123456789",
                "start_time": november,
                "duration": 61,
                "billsec": 61,
                "disposition": "ANSWERED",
                "sync_status": "pending",
                "rating_reason": None,
                "contract_id": contract.id,
                "rate_id": rate.id,
                "matched_prefix": rate.destination_prefix,
                "billable_seconds": 120,
                "rated_at": november,
            }
            rated = {**call, "status": "rated", "rating_status": "rated"}
            unrated = {**call, "status": "unrated", "rating_status": "unrated"}
            unrated |= {"rating_reason": "no_rate", "rate_id": None, "cost": None}
            unrated |= {"invoice_id": None}
            pending = {**call, **dict.fromkeys(RATING_NAMES), "rating_status": "pending"}
            rows = [
                {**rated, "id": 1, "cost": Decimal("1.5"), "invoice_id": draft.id},
                {**rated, "id": 2, "cost": Decimal("2.000001"), "invoice_id": sent.id}
                | {"status": "invoiced"},
                {**unrated, "id": 3},
                {**pending, "id": 4, "status": "valid"},
                {**pending, "id": 5, "status": "invalid"},
            ]
            session.execute(
                sa.insert(_OLD_CDRS), [row | {"unique_key": f"k{row['id']}"} for row in rows]
            )
            sent_id = sent.id

        migrations.upgrade(engine)

        with Session(engine) as session:
            ratings = {
                r.cdr_id: (r.rating_status, r.rating_reason, r.cost, r.invoice_id, r.start_time)
                for r in session.scalars(select(CdrRating))
            }
            statuses = {c.id: (c.status, c.lifecycle_status) for c in session.scalars(select(Cdr))}
        assert ratings == {
            1: (RatingStatus.RATED, None, Decimal("1.5"), None, november),
            2: (RatingStatus.RATED, None, Decimal("2.000001"), sent_id, november),
            3: (RatingStatus.UNRATED, "no_rate", None, None, november),
        }
        assert statuses == {
            1: ("valid", "rated"),
            2: ("valid", "invoiced"),
            3: ("valid", "unrated"),
            4: ("valid", "valid"),
            5: ("invalid", "invalid"),
        }

        migrations.downgrade(engine, "0006")
        with engine.connect() as connection:
            back = connection.execute(
                sa.select(
                    _OLD_CDRS.c.id,
                    _OLD_CDRS.c.status,
                    _OLD_CDRS.c.rating_status,
                    _OLD_CDRS.c.cost,
                    _OLD_CDRS.c.invoice_id,
                ).order_by(_OLD_CDRS.c.id)
            ).all()
        assert [tuple(row) for row in back] == [
            (1, "rated", "rated", Decimal("1.5"), None),
            (2, "invoiced", "rated", Decimal("2.000001"), sent_id),
            (3, "unrated", "unrated", None, None),
            (4, "valid", "pending", None, None),
            (5, "invalid", "pending", None, None),
        ]
    finally:
        engine.dispose()


def test_upgrading_makes_calls_invalid_only_for_a_billed_field(empty_database_url: str) -> None:
    """0010: a call stored invalid for its caller, or for a called number that is no
    number, becomes valid with its findings; one with a finding about a field RATING.md
    bills by stays invalid. Undone, the earlier rule comes back."""
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine, "0009")
        findings = {
            "caller": ["src_not_a_number"],
            "number": ["missing_src", "dst_not_a_number"],
            "billsec": ["billsec_exceeds_duration", "src_not_a_number"],
            "disposition": ["unknown_disposition"],
        }
        with Session(engine) as session, session.begin():
            ids = {
                name: factories.cdr(
                    session, status="invalid", validation_errors=errors, call_id=name
                ).id
                for name, errors in findings.items()
            }
            ids["plain"] = factories.cdr(session, status="valid", call_id="plain").id

        def statuses() -> dict[str, str]:
            with Session(engine) as session:
                return {c.call_id or "": c.status for c in session.scalars(select(Cdr))}

        migrations.upgrade(engine)
        assert statuses() == {
            "caller": "valid",
            "number": "valid",
            "billsec": "invalid",
            "disposition": "invalid",
            "plain": "valid",
        }
        migrations.downgrade(engine, "0009")
        assert statuses() == {
            "caller": "invalid",
            "number": "invalid",
            "billsec": "invalid",
            "disposition": "invalid",
            "plain": "valid",
        }
    finally:
        engine.dispose()


def test_upgrading_keeps_invoices_monthly_and_one_per_contract_and_month(
    empty_database_url: str,
) -> None:
    """0011: invoices there were are monthly; a second monthly invoice of a contract's
    month is still refused, an adjustment of it is not; going back drops draft
    adjustments."""
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine, "0010")
        november = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
        with Session(engine) as session, session.begin():
            contract = factories.contract(session)
            sent = _old_invoice(session, contract, InvoiceStatus.SENT, november)

        migrations.upgrade(engine)

        with Session(engine) as session:
            invoice = session.get_one(Invoice, sent.id)
            assert (invoice.kind, invoice.bills_earlier_periods) == (InvoiceKind.MONTHLY, False)
            copy = {
                column: getattr(invoice, column)
                for column in (
                    *("contract_id", "accountcode", "period_start", "period_end"),
                    *("invoice_date", "due_date", "currency", "call_count"),
                    *("subtotal", "tax_rate", "tax", "amount"),
                )
            }
        with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
            session.add(Invoice(invoice_number="INV-TWICE", **copy))
        with Session(engine) as session, session.begin():
            session.add(
                Invoice(
                    invoice_number="INV-ADJ",
                    kind=InvoiceKind.ADJUSTMENT,
                    original_invoice_id=sent.id,
                    **copy,
                )
            )

        migrations.downgrade(engine, "0010")
        with engine.connect() as connection:
            numbers = connection.scalars(sa.select(_OLD_INVOICES.c.invoice_number)).all()
        assert numbers == ["INV-OLD-sent"]
    finally:
        engine.dispose()


def test_upgrading_keys_the_oldest_copy_of_each_database_or_push_reject(
    empty_database_url: str,
) -> None:
    """0012: the rejects kept before are all kept; the oldest of each row of a source
    without files gets its key (the next read of that row adds none), its copies and
    a file's rejects none."""
    engine = make_engine(empty_database_url)
    rejects = sa.table(
        "cdr_rejects",
        *(sa.column(name) for name in ("id", "source", "file_name", "line_number")),
        *(sa.column(name) for name in ("reason", "raw", "created_at")),
    )
    now = dt.datetime(2025, 11, 5, tzinfo=dt.UTC)
    row = '{"uniqueid": "r.2", "lastdata": "PJSIP/0812\\u0000@trunk"}'
    old = [
        (1, "pbx-db", None, row),
        (2, "pbx-db", None, row),  # the same row, read again
        (3, "fs-1", None, row),  # the same text from another source
        (4, "pbx-files", "/cdr/Master.csv", "bad,line"),
    ]
    try:
        migrations.upgrade(engine, "0011")
        with engine.begin() as connection:
            connection.execute(
                sa.insert(rejects),
                [
                    {"id": i, "source": s, "file_name": f, "line_number": 1}
                    | {"reason": "bad", "raw": raw, "created_at": now}
                    for i, s, f, raw in old
                ],
            )

        migrations.upgrade(engine)

        key = hashlib.sha256(row.encode()).hexdigest()
        with engine.connect() as connection:
            keys = connection.execute(
                sa.text("SELECT id, raw_key FROM cdr_rejects ORDER BY id")
            ).all()
        assert keys == [(1, key), (2, None), (3, key), (4, None)]
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO cdr_rejects (source, reason, raw, raw_key, created_at) "
                    "VALUES ('pbx-db', 'bad', 'x', :key, CURRENT_TIMESTAMP)"
                ),
                {"key": key},
            )
    finally:
        engine.dispose()


def test_partitioning_moves_the_calls_and_back(empty_database_url: str) -> None:
    """0014: on PostgreSQL the calls and ratings move into a partition per month that
    holds them (with the DEFAULT one for the rest), keep their ids, and the sequence
    goes on; a call is unique by key and start; the sync log keeps its rows. Undone,
    they are back in plain tables with the foreign key. SQLite keeps its tables."""
    engine = make_engine(empty_database_url)
    postgres = engine.dialect.name == "postgresql"
    calls = sa.table(
        "cdrs",
        *(sa.column(name) for name in ("id", "unique_key", "accountcode", "src", "dst")),
        *(sa.column(name) for name in ("duration", "billsec", "disposition", "status")),
        sa.column("sync_status"),
        sa.column("start_time", UTCDateTime()),
    )
    october = dt.datetime(2025, 10, 31, 23, tzinfo=dt.UTC)
    november = dt.datetime(2025, 11, 2, tzinfo=dt.UTC)
    call = {"accountcode": "A", "src": "1", "dst": "2", "duration": 1, "billsec": 1}
    call |= {"disposition": "ANSWERED", "status": "valid", "sync_status": "synced"}
    try:
        migrations.upgrade(engine, "0013")
        with engine.begin() as connection:
            connection.execute(
                sa.insert(calls),
                [
                    call | {"unique_key": "k7", "start_time": october},
                    call | {"unique_key": "k8", "start_time": november},
                ],
            )
            connection.exec_driver_sql(
                "INSERT INTO cdr_ratings (cdr_id, start_time, rating_status, rated_at) "
                "SELECT id, start_time, 'rated', start_time FROM cdrs"
            )
            connection.exec_driver_sql(
                "INSERT INTO sync_log (cdr_id, status, timestamp, attempt) "
                "SELECT id, 'synced', start_time, 1 FROM cdrs"
            )

        migrations.upgrade(engine)

        def placed(table: str, key: str) -> list[tuple[object, ...]]:
            where = "tableoid::regclass::text" if postgres else f"'{table}'"
            with engine.connect() as connection:
                rows = connection.exec_driver_sql(
                    f"SELECT {key}, {where} FROM {table} ORDER BY {key}"
                )
                return [tuple(row) for row in rows]

        if postgres:
            assert placed("cdrs", "id") == [(1, "cdrs_2025_10"), (2, "cdrs_2025_11")]
            assert placed("cdr_ratings", "cdr_id") == [
                (1, "cdr_ratings_2025_10"),
                (2, "cdr_ratings_2025_11"),
            ]
        else:
            assert [row[0] for row in placed("cdrs", "id")] == [1, 2]
        with engine.begin() as connection:
            connection.execute(
                sa.insert(calls), call | {"unique_key": "k9", "start_time": november}
            )
            assert connection.exec_driver_sql("SELECT max(id) FROM cdrs").scalar_one() == 3
            connection.exec_driver_sql("DELETE FROM cdrs WHERE id = 3")
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.insert(calls), call | {"unique_key": "k8", "start_time": november}
            )

        migrations.downgrade(engine, "0013")
        assert [row[0] for row in placed("cdrs", "id")] == [1, 2]
        assert {row[1] for row in placed("cdrs", "id")} == {"cdrs"}
        assert [row[0] for row in placed("cdr_ratings", "cdr_id")] == [1, 2]
        assert [fk["referred_table"] for fk in inspect(engine).get_foreign_keys("sync_log")] == [
            "cdrs"
        ]
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM sync_log").scalar_one() == 2
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(sa.insert(calls), call | {"unique_key": "k8", "start_time": october})
    finally:
        engine.dispose()
