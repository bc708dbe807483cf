"""The migrations build the schema the models describe, and can be undone."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from telecrm import migrations
from telecrm.cdrs.models import Cdr
from telecrm.db import make_engine
from telecrm.invoices.models import InvoiceStatus
from telecrm.models import Base
from tests import factories


def _drift(engine) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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


def test_upgrading_takes_the_calls_off_drafts_and_leaves_sent_invoices_theirs(
    empty_database_url: str,
) -> None:
    """0005: calls are linked when an invoice is sent, so drafts give theirs back."""
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine, "0004")  # 0005 changes no table: the models fit
        with Session(engine) as session, session.begin():
            group = factories.rate_group(session)
            rate = factories.rate(session, group)
            contract = factories.contract(session, group)
            november = dt.datetime(2025, 11, 10, tzinfo=dt.UTC)
            draft = factories.invoice(session, contract)
            sent = factories.invoice(
                session,
                contract,
                status=InvoiceStatus.SENT,
                period_start=dt.datetime(2025, 10, 1, tzinfo=dt.UTC),
            )
            on_draft = factories.cdr(session, contract, november, rate, cost="1")
            on_sent = factories.cdr(session, contract, november, rate, cost="2")
            on_draft.invoice_id, on_sent.invoice_id = draft.id, sent.id
            ids = on_draft.id, on_sent.id, sent.id

        migrations.upgrade(engine)

        with Session(engine) as session:
            links = [session.get_one(Cdr, cdr_id).invoice_id for cdr_id in ids[:2]]
        assert links == [None, ids[2]]
    finally:
        engine.dispose()
