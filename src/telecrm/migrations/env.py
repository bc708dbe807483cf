from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import telecrm.models  # noqa: F401  (registers every table on Base.metadata)
from telecrm.db import Base, get_engine
from telecrm.migrations import include_object

config = context.config
engine = config.attributes.get("engine") or get_engine()


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object(connection.dialect.name),
    )
    context.run_migrations()


if engine.dialect.name == "sqlite":
    # SQLite alters a table by copying it and dropping the old one. With foreign keys
    # on, that drop fires the ON DELETE actions of the rows pointing at it (an API
    # key would lose its creator), so they are off while migrating, as SQLite's own
    # procedure says, and every key is checked before the commit.
    with engine.connect() as connection:
        sqlite_connection = connection.connection.driver_connection
        assert sqlite_connection is not None
        sqlite_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                _migrate(connection)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left broken foreign keys: {broken[:5]}")
        finally:
            sqlite_connection.execute("PRAGMA foreign_keys=ON")
else:
    with engine.begin() as connection:
        _migrate(connection)
