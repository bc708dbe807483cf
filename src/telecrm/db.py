"""Engine, sessions, the declarative ``Base`` and the column types every domain shares."""

from __future__ import annotations

import datetime as dt
import enum
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from annotated_types import Ge, Le
from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    Numeric,
    create_engine,
    event,
    func,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator, TypeEngine

from telecrm.config import Settings, get_settings
from telecrm.errors import AppError, DatabaseBusy

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntegerPK = BigInteger().with_variant(Integer(), "sqlite")

# The largest value of an INTEGER and of a BIGINT column (signed 32 and 64 bits).
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
# An id as the API takes it (path, query, body), within its column's range: a number
# beyond it is refused as invalid input, naming the parameter, before any query.
IntId = Annotated[int, Ge(1), Le(INTEGER_MAX)]
BigIntId = Annotated[int, Ge(1), Le(BIGINT_MAX)]


def check_comparable(column_type: TypeEngine[Any], value: Any) -> None:
    """``ValueError`` when ``value`` is beyond what a column of this type holds: such a
    value matches no row, and the database would refuse the comparison itself
    (an integer out of range, an amount with too many digits)."""
    if isinstance(column_type, Money):
        column_type.exact(value)
    elif isinstance(column_type, Integer) and isinstance(value, int):
        bound = BIGINT_MAX if isinstance(column_type, BigInteger) else INTEGER_MAX
        if not -bound - 1 <= value <= bound:
            raise ValueError(f"{value} is out of range (at most {bound})")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant in time. ``timestamptz`` on PostgreSQL; on SQLite a naive UTC value.

    Naive datetimes are refused on the way in: a time without its zone is exactly
    the bug that puts a call into the wrong month.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} (an instant needs its zone)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """An exact decimal amount with a fixed number of decimal places.

    PostgreSQL stores ``NUMERIC(precision, scale)``. SQLite has no exact decimal
    type (its NUMERIC is a float), so there the value is an integer count of
    ``10**-scale`` units: sums and comparisons in SQL stay exact on both.
    A value with more decimal places than ``scale`` is refused, never rounded
    silently: rounding is the rating engine's job, done once. So is a value with more
    than ``max_digits`` digits: the precision, and at most 18 so that the scaled value
    fits SQLite's 64-bit integer (the same amounts on both databases).
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int = 6, precision: int = 24) -> None:
        super().__init__()
        self.scale = scale
        self.precision = precision
        self.max_digits = min(precision, 18)
        self._quantum = Decimal(1).scaleb(-scale)

    def __repr__(self) -> str:  # Alembic renders the type in migrations from this
        return f"Money(scale={self.scale}, precision={self.precision})"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def exact(self, value: Any) -> Decimal:
        """The value as this column holds it; ``ValueError`` saying why it cannot."""
        try:
            amount = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a decimal amount") from exc
        if not amount.is_finite():
            raise ValueError(f"{value!r} is not a decimal amount")
        integer_digits = self.max_digits - self.scale
        if amount and amount.adjusted() >= integer_digits:
            raise ValueError(
                f"{value} is too large (at most {integer_digits} digits before the decimal point)"
            )
        exact = amount.quantize(self._quantum)
        if exact != amount:
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return exact

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = self.exact(value)
        if dialect.name == "sqlite":
            return int(exact.scaleb(self.scale))
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        return self


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.current_timestamp()
    )


# How long a SQLite writer waits for the one before it to commit.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# An execution option: the transactions of a unit of work that writes begin by
# taking SQLite's write lock (see ``writing``).
_WRITE_LOCK = "telecrm_sqlite_write_lock"


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """Foreign keys on, WAL, a busy timeout, and real transactions (pysqlite's own
    transaction handling breaks SAVEPOINT, which the tests and bulk loads rely on)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that has read and then writes cannot wait for the
        # lock (its snapshot may be stale): SQLite refuses it at once, whatever the
        # busy timeout. A writer that takes the lock as it begins waits its turn.
        immediate = connection.get_execution_options().get(_WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(
    url: str | None = None,
    sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS,
    **kwargs: Any,
) -> Engine:
    url = url or get_settings().database_url
    url = Settings.model_validate({"database_url": url}).database_url
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"), **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, sqlite_busy_timeout)
    return engine


def writing(engine: Engine) -> Engine:
    """``engine`` for a unit of work that writes (it shares the pool). On SQLite its
    transactions begin with ``BEGIN IMMEDIATE``: concurrent writers queue for the
    write lock, each up to the busy timeout, instead of failing; readers (WAL) go
    on reading meanwhile. PostgreSQL needs nothing of the kind."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_WRITE_LOCK: True})


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine (one pool) per URL for the life of the process."""
    url = url or get_settings().database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def session_factory(engine: Engine | None = None, write: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or with ``write`` for units of work that write."""
    bind = engine or get_engine()
    return sessionmaker(bind=writing(bind) if write else bind, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None, write: bool = True) -> Iterator[Session]:
    """The unit of work of a CLI command or a job; ``write=False`` for one that only
    reads (on SQLite it then neither waits for writers nor makes them wait)."""
    session = session_factory(engine, write)()
    try:
        with unit_of_work(session):
            yield session
    finally:
        session.close()


def enum_column_type(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """A portable enum column: a VARCHAR with a CHECK of the enum's values (not a
    native PostgreSQL type, so adding a value is a plain migration)."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(member.value) for member in enum_cls),
        values_callable=lambda members: [member.value for member in members],
    )


def _database_locked(exc: OperationalError) -> bool:
    """Whether SQLite gave up waiting for another connection's lock."""
    return isinstance(exc.orig, sqlite3.OperationalError) and "is locked" in str(exc.orig)


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit when the block succeeds (or fails with an ``AppError`` that keeps its
    changes, such as a counted failed login); roll back otherwise. SQLite's
    "database is locked" becomes ``DatabaseBusy`` here, for the API, the CLI and the
    jobs alike."""
    try:
        try:
            yield session
        except AppError as exc:
            if exc.keep_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        else:
            session.commit()
    except OperationalError as exc:
        if not _database_locked(exc):
            raise
        session.rollback()
        raise DatabaseBusy(
            "the database is busy with other changes; try again in a few seconds",
            retry_after=5,
        ) from exc


def _set_busy_timeout(connection: Any, milliseconds: int) -> int:
    """Set a SQLite connection's busy timeout; returns the one it had."""
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA busy_timeout={int(milliseconds)}")
        return int(before)
    finally:
        cursor.close()


@contextmanager
def skippable_write(engine: Engine, wait: float) -> Iterator[Session]:
    """A unit of work for a write that may be left out (a note such as when an API key
    was last used): it waits at most ``wait`` seconds for another writer's lock
    (SQLite's write lock, a PostgreSQL row lock), then raises ``DatabaseBusy``, so that
    it neither fails nor holds up the work it goes with, which skips it."""
    milliseconds = max(1, round(wait * 1000))
    with writing(engine).connect() as connection:
        raw = connection.connection.dbapi_connection
        sqlite_before = None
        if engine.dialect.name == "sqlite":
            sqlite_before = _set_busy_timeout(raw, milliseconds)  # before BEGIN IMMEDIATE
        session = Session(bind=connection)
        try:
            with unit_of_work(session):
                if engine.dialect.name == "postgresql":
                    session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
                yield session
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            raise DatabaseBusy("a row stayed locked by another writer", retry_after=1) from exc
        finally:
            session.close()
            if sqlite_before is not None:
                _set_busy_timeout(raw, sqlite_before)
