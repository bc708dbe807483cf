"""Alembic, driven from code: the migrations ship inside the package, so
``telecrm db upgrade`` works from an installed wheel as well as a checkout."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from telecrm.db import get_engine

MIGRATIONS_DIR = Path(__file__).parent
# The monthly and default partitions of ``cdrs`` and ``cdr_ratings`` on PostgreSQL
# (migration 0013): tables of the database the models do not describe one by one.
PARTITION_NAME = re.compile(r"^(cdrs|cdr_ratings)_(\d{4}_\d{2}|default)$")


def include_object(dialect_name: str) -> Callable[..., bool]:
    """Alembic's filter of what it compares: the partitions are left out, and so is a
    constraint or index the models make only on another database (``ddl_if``)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and reflected and name and PARTITION_NAME.match(name):
            return False
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect_name)

    return include


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine or get_engine()), revision)


def downgrade(engine: Engine | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine or get_engine()), revision)


def current_revision(engine: Engine | None = None) -> str | None:
    with (engine or get_engine()).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
