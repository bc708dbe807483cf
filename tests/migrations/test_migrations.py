"""The migrations build the schema the models describe, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from telecrm import migrations
from telecrm.db import make_engine
from telecrm.models import Base


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
